#pragma once
// The optional metadata at the end of a TABLE_MAP_EVENT (MySQL 8.0.1+ and MariaDB 10.5+,
// binlog_row_metadata=MINIMAL or FULL): which numeric columns are unsigned, the character
// sets of character columns, and with FULL the column names, ENUM and SET member names, the
// primary key and which columns are visible. What the server did not write stays empty.
#include <cstdint>
#include <string>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr::binlog {

struct TableMapMetadata {
  std::vector<bool> is_unsigned;          // per column; empty without SIGNEDNESS
  std::vector<std::uint32_t> charsets;    // per column (collation id; 0: none or unknown)
  std::vector<std::string> column_names;  // per column; empty without FULL
  std::vector<std::vector<std::string>> enum_values, set_values;  // per column
  std::vector<std::size_t> primary_key;                           // column indexes, in key order
  std::vector<bool> visible;                                      // per column; empty: all visible
};

// Decodes the fields after the NULL bitmap. `types` and `metadata` are the columns' (as
// TableSchema holds them). Unknown field types are skipped; throws DecodeError for a field
// that overruns or does not fit the columns.
TableMapMetadata decode_table_map_metadata(Bytes fields, const std::vector<std::uint8_t>& types,
                                           const std::vector<std::uint16_t>& metadata);

}  // namespace pitr::binlog
