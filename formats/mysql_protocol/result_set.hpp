#pragma once
// Text-protocol result sets (answers to COM_QUERY), decoded packet by packet.
#include <optional>
#include <string>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr::mysql_protocol {

using Row = std::vector<std::optional<std::string>>;

struct ResultSet {
  std::vector<std::string> columns;
  std::vector<Row> rows;
};

// Column count from the first packet of a result set.
std::uint64_t decode_column_count(Bytes payload);
// Column name from a ColumnDefinition41 packet.
std::string decode_column_name(Bytes payload);
Row decode_text_row(Bytes payload, std::size_t columns);

}  // namespace pitr::mysql_protocol
