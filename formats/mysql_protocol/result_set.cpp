#include "formats/mysql_protocol/result_set.hpp"

namespace pitr::mysql_protocol {

std::uint64_t decode_column_count(Bytes payload) {
  ByteCursor c(payload, "result set header");
  return c.lenenc();
}

std::string decode_column_name(Bytes payload) {
  ByteCursor c(payload, "column definition");
  for (int i = 0; i < 4; ++i) c.lenenc_text();  // catalog, schema, table, org_table
  return std::string(c.lenenc_text());
}

Row decode_text_row(Bytes payload, std::size_t columns) {
  ByteCursor c(payload, "result row");
  Row row;
  row.reserve(columns);
  for (std::size_t i = 0; i < columns; ++i) {
    if (!c.empty() && payload[c.offset()] == 0xfb) {
      c.skip(1);
      row.emplace_back(std::nullopt);
    } else {
      row.emplace_back(std::string(c.lenenc_text()));
    }
  }
  return row;
}

}  // namespace pitr::mysql_protocol
