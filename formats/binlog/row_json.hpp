#pragma once
// A row image as a JSON object, the form of pitr's change history (`pitr log`): keyed by
// column name when the TABLE_MAP names them (binlog_row_metadata=FULL), else by position
// ("@1", "@2", ... as mysqlbinlog numbers them), in column order. Integers are numbers
// (unsigned when the metadata says so), DECIMAL a string, FLOAT and DOUBLE numbers, BIT a
// number, ENUM and SET their member names when the metadata has them (else their index and
// bitmask), temporal values ISO 8601 strings (TIMESTAMP in UTC with Z), text UTF-8 strings,
// binary strings and BLOBs base64 (BINARY(n) padded with zero bytes as SELECT returns it),
// JSON columns JSON, GEOMETRY its WKB in hex, VECTOR an array of numbers, NULL null. Columns
// not in the image (a minimal row image) are left out. Written as text directly: a document
// object per row would cost more than decoding the row.
#include <string>

#include "formats/binlog/row_image.hpp"

namespace pitr::binlog {

// Appends the object to `out`. Throws DecodeError for a value that does not fit its column.
void append_row_json(std::string& out, const TableSchema& table, const RowImage& row);

// The key a column has in the object.
std::string column_key(const TableSchema& table, std::size_t column);

}  // namespace pitr::binlog
