#include "formats/binlog/row_json.hpp"

#include <cstring>

#include "formats/base64.hpp"
#include "formats/binlog/charsets.hpp"
#include "formats/binlog/column_type.hpp"
#include "formats/binlog/mysql_json.hpp"
#include "formats/binlog/row_value.hpp"
#include "formats/hex.hpp"

namespace pitr::binlog {
namespace {

bool valid_utf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

std::uint32_t charset_of(const TableSchema& t, std::size_t i) {
  return t.optional.charsets.empty() ? 0 : t.optional.charsets[i];
}

// BINARY(n): a fixed-length binary string, stored without its trailing zero bytes.
std::string padded_binary(const TableSchema& t, std::size_t i, std::string bytes) {
  if (t.types[i] != kString) return bytes;
  std::uint16_t meta = t.metadata[i];
  std::uint8_t real = meta >> 8, low = meta & 0xff;
  std::size_t max_length = ((((real >> 4) & 0x03) ^ 0x03) << 8) | low;
  if (bytes.size() < max_length) bytes.resize(max_length, '\0');
  return bytes;
}

nlohmann::json text(const TableSchema& t, std::size_t i, std::string bytes) {
  auto charset = charset_of(t, i);
  if (charset == kBinaryCharset) return to_base64(as_bytes(padded_binary(t, i, std::move(bytes))));
  if (is_latin1(charset)) return latin1_to_utf8(bytes);
  if (valid_utf8(bytes)) return bytes;
  return nlohmann::json{{"base64", to_base64(as_bytes(bytes))}};  // not text we can show
}

nlohmann::json vector_of_floats(const std::string& bytes) {
  if (bytes.size() % 4) throw DecodeError("a VECTOR value not of whole 4-byte floats");
  auto out = nlohmann::json::array();
  for (std::size_t at = 0; at < bytes.size(); at += 4) {
    float f;
    std::memcpy(&f, bytes.data() + at, 4);
    out.push_back(f);
  }
  return out;
}

std::string members(const std::vector<std::string>& names, std::uint64_t mask) {
  std::string out;
  for (std::size_t k = 0; k < names.size() && k < 64; ++k)
    if (mask >> k & 1) out += (out.empty() ? "" : ",") + names[k];
  return out;
}

nlohmann::json value_json(const TableSchema& t, std::size_t i, RowValue value) {
  auto type = t.types[i];
  const auto& enums = t.optional.enum_values;
  const auto& sets = t.optional.set_values;
  return std::visit(
      [&](auto&& v) -> nlohmann::json {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::monostate>)
          return nullptr;
        else if constexpr (std::is_same_v<V, std::int64_t> || std::is_same_v<V, std::uint64_t> ||
                           std::is_same_v<V, double>)
          return v;
        else if constexpr (std::is_same_v<V, DecimalValue> || std::is_same_v<V, TemporalValue>)
          return v.text;
        else if constexpr (std::is_same_v<V, BitValue>)
          return v.bits;
        else if constexpr (std::is_same_v<V, EnumValue>) {
          if (i < enums.size() && !enums[i].empty())
            return v.index == 0 || v.index > enums[i].size() ? "" : enums[i][v.index - 1];
          return v.index;
        } else if constexpr (std::is_same_v<V, SetValue>) {
          if (i < sets.size() && !sets[i].empty()) return members(sets[i], v.members);
          return v.members;
        } else if constexpr (std::is_same_v<V, JsonBinaryValue>) {
          return decode_mysql_json(as_bytes(v.bytes));
        } else {                  // std::string
          if (type == kGeometry)  // 4 bytes of SRID, then the WKB
            return to_hex(as_bytes(v).subspan(std::min<std::size_t>(4, v.size())));
          if (type == kVector) return vector_of_floats(v);
          return text(t, i, v);
        }
      },
      std::move(value));
}

}  // namespace

std::string column_key(const TableSchema& table, std::size_t column) {
  if (column < table.optional.column_names.size()) return table.optional.column_names[column];
  return "@" + std::to_string(column + 1);
}

nlohmann::json row_json(const TableSchema& table, const RowImage& row) {
  auto out = nlohmann::json::object();
  for (std::size_t i = 0; i < row.size() && i < table.types.size(); ++i) {
    if (row[i].state == ColumnValue::kAbsent) continue;
    if (row[i].state == ColumnValue::kNull) {
      out[column_key(table, i)] = nullptr;
      continue;
    }
    bool is_unsigned = i < table.optional.is_unsigned.size() && table.optional.is_unsigned[i];
    out[column_key(table, i)] = value_json(
        table, i, decode_row_value(table.types[i], table.metadata[i], row[i].bytes, is_unsigned));
  }
  return out;
}

}  // namespace pitr::binlog
