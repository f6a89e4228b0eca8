#pragma once
// Row events measured against their table's column layout (from TABLE_MAP): how many rows
// an event changes. Decoding every column type's stored size is what lets pitr walk row
// images without a server.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "formats/binlog/format_description.hpp"
#include "formats/binlog/table_map_metadata.hpp"

namespace pitr::binlog {

struct TableSchema {
  std::uint64_t table_id = 0;
  std::string database;
  std::string table;
  std::vector<std::uint8_t> types;
  std::vector<std::uint16_t> metadata;  // per column, as TABLE_MAP stores it
  TableMapMetadata optional;            // what binlog_row_metadata added
  std::string qualified() const { return database + "." + table; }
};

// Decodes a TABLE_MAP_EVENT (header included, checksum excluded) with its columns.
TableSchema decode_table_schema(Bytes event, const FormatDescription& fd);

// Bytes one stored value of a column takes at the start of `value`; throws DecodeError for
// a type pitr does not know.
std::size_t stored_value_size(std::uint8_t type, std::uint16_t metadata, Bytes value);

// Rows in a WRITE/UPDATE/DELETE rows event of any version; nullopt for the kinds whose
// images pitr does not walk (MariaDB compressed rows, MySQL partial JSON updates).
std::optional<std::uint64_t> count_rows(Bytes event, const FormatDescription& fd,
                                        const TableSchema& table);

// One column of a row image: its stored bytes, or that it is NULL or not in the image (a
// partial image under binlog_row_image=MINIMAL or NOBLOB).
struct ColumnValue {
  enum State { kAbsent, kNull, kValue } state = kAbsent;
  Bytes bytes;
};
using RowImage = std::vector<ColumnValue>;  // indexed by column

// Calls `visit` for every row image of a rows event, in order (an update gives its before
// image, then its after image); false for the kinds whose images pitr does not walk.
bool for_each_row_image(Bytes event, const FormatDescription& fd, const TableSchema& table,
                        const std::function<void(const RowImage&)>& visit);

}  // namespace pitr::binlog
