#include "formats/binlog/row_json.hpp"

#include <fmt/format.h>

#include <cstring>

#include "formats/base64.hpp"
#include "formats/binlog/charsets.hpp"
#include "formats/binlog/column_type.hpp"
#include "formats/binlog/mysql_json.hpp"
#include "formats/binlog/row_value.hpp"
#include "formats/hex.hpp"
#include "formats/json_text.hpp"

namespace pitr::binlog {
namespace {

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

void quoted(std::string& out, std::string_view ascii) {
  out += '"';
  out += ascii;
  out += '"';
}

void text(std::string& out, const TableSchema& t, std::size_t i, const std::string& bytes) {
  auto charset = charset_of(t, i);
  if (charset == kBinaryCharset)
    return quoted(out, to_base64(as_bytes(padded_binary(t, i, bytes))));
  if (is_latin1(charset)) {
    append_json_string(out, latin1_to_utf8(bytes));
    return;
  }
  if (append_json_string(out, bytes)) return;
  out += "{\"base64\":";  // not text we can show
  quoted(out, to_base64(as_bytes(bytes)));
  out += '}';
}

void vector_of_floats(std::string& out, const std::string& bytes) {
  if (bytes.size() % 4) throw DecodeError("a VECTOR value not of whole 4-byte floats");
  out += '[';
  for (std::size_t at = 0; at < bytes.size(); at += 4) {
    float f;
    std::memcpy(&f, bytes.data() + at, 4);
    if (at) out += ',';
    fmt::format_to(std::back_inserter(out), "{}", f);
  }
  out += ']';
}

std::string members(const std::vector<std::string>& names, std::uint64_t mask) {
  std::string out;
  for (std::size_t k = 0; k < names.size() && k < 64; ++k)
    if (mask >> k & 1) out += (out.empty() ? "" : ",") + names[k];
  return out;
}

void value_json(std::string& out, const TableSchema& t, std::size_t i, RowValue value) {
  auto type = t.types[i];
  const auto& enums = t.optional.enum_values;
  const auto& sets = t.optional.set_values;
  auto number = [&](auto v) {
    if constexpr (std::is_integral_v<decltype(v)>)
      out += fmt::format_int(v).str();
    else
      fmt::format_to(std::back_inserter(out), "{}", v);
  };
  std::visit(
      [&](auto&& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::monostate>) {
          out += "null";
        } else if constexpr (std::is_same_v<V, std::int64_t> || std::is_same_v<V, std::uint64_t> ||
                             std::is_same_v<V, double>) {
          number(v);
        } else if constexpr (std::is_same_v<V, DecimalValue> || std::is_same_v<V, TemporalValue>) {
          quoted(out, v.text);
        } else if constexpr (std::is_same_v<V, BitValue>) {
          number(v.bits);
        } else if constexpr (std::is_same_v<V, EnumValue>) {
          if (i < enums.size() && !enums[i].empty())
            append_json_string(
                out, v.index == 0 || v.index > enums[i].size() ? "" : enums[i][v.index - 1]);
          else
            number(v.index);
        } else if constexpr (std::is_same_v<V, SetValue>) {
          if (i < sets.size() && !sets[i].empty())
            append_json_string(out, members(sets[i], v.members));
          else
            number(v.members);
        } else if constexpr (std::is_same_v<V, JsonBinaryValue>) {
          out += decode_mysql_json(as_bytes(v.bytes))
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        } else if (type == kGeometry) {  // 4 bytes of SRID, then the WKB
          quoted(out, to_hex(as_bytes(v).subspan(std::min<std::size_t>(4, v.size()))));
        } else if (type == kVector) {
          vector_of_floats(out, v);
        } else {
          text(out, t, i, v);
        }
      },
      std::move(value));
}

}  // namespace

std::string column_key(const TableSchema& table, std::size_t column) {
  if (column < table.optional.column_names.size()) return table.optional.column_names[column];
  return "@" + std::to_string(column + 1);
}

void append_row_json(std::string& out, const TableSchema& table, const RowImage& row) {
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < row.size() && i < table.types.size(); ++i) {
    if (row[i].state == ColumnValue::kAbsent) continue;
    if (!first) out += ',';
    first = false;
    if (!append_json_string(out, column_key(table, i))) {
      out += "\"@";  // a name that is not UTF-8: its position instead
      out += std::to_string(i + 1);
      out += '"';
    }
    out += ':';
    if (row[i].state == ColumnValue::kNull) {
      out += "null";
      continue;
    }
    bool is_unsigned = i < table.optional.is_unsigned.size() && table.optional.is_unsigned[i];
    value_json(out, table, i,
               decode_row_value(table.types[i], table.metadata[i], row[i].bytes, is_unsigned));
  }
  out += '}';
}

}  // namespace pitr::binlog
