#pragma once
// Row changes as SQL statements that any session applies to the same result, whatever its
// sql_mode (NO_BACKSLASH_ESCAPES, strict modes) or character set: text as _utf8mb4 X'..'
// (latin1 converted), binary as X'..', temporal values quoted without a zone (TIMESTAMP
// values are UTC: the script sets time_zone = '+00:00' first), numbers as numbers, ENUM and
// SET by member name when the metadata has them (else index and bitmask), GEOMETRY through
// ST_GeomFromWKB with its SRID. Rows are found by their primary key when the metadata names
// one, else by every column of the before image (NULL-safe), LIMIT 1.
#include <string>

#include "formats/binlog/row_image.hpp"

namespace pitr::binlog {

// The statement that starts a script of these (the zone TIMESTAMP values are written in).
inline constexpr const char* kRowSqlPreamble = "SET time_zone = '+00:00';";

std::string insert_sql(const TableSchema& table, const RowImage& after);
std::string update_sql(const TableSchema& table, const RowImage& before, const RowImage& after);
std::string delete_sql(const TableSchema& table, const RowImage& before);

// `name` quoted as a MySQL identifier.
std::string quote_identifier(const std::string& name);

}  // namespace pitr::binlog
