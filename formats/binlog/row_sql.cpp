#include "formats/binlog/row_sql.hpp"

#include <fmt/format.h>

#include "formats/binlog/charsets.hpp"
#include "formats/binlog/column_type.hpp"
#include "formats/binlog/mysql_json.hpp"
#include "formats/binlog/row_value.hpp"
#include "formats/hex.hpp"

namespace pitr::binlog {
namespace {

std::string hex_literal(const std::string& bytes) {
  return bytes.empty() ? "''" : "X'" + to_hex(as_bytes(bytes)) + "'";
}

std::string text_literal(const std::string& utf8) {
  return "_utf8mb4 " + hex_literal(utf8);
}

std::string temporal_literal(std::string text) {
  if (!text.empty() && text.back() == 'Z') text.pop_back();
  if (auto t = text.find('T'); t != std::string::npos) text[t] = ' ';
  return "'" + text + "'";
}

std::string string_literal(const TableSchema& t, std::size_t i, const std::string& bytes) {
  auto type = t.types[i];
  if (type == kGeometry) {
    if (bytes.size() < 4) throw DecodeError("a GEOMETRY value without its SRID");
    auto srid = load_le(reinterpret_cast<const std::uint8_t*>(bytes.data()), 4);
    return fmt::format("ST_GeomFromWKB({}, {})", hex_literal(bytes.substr(4)), srid);
  }
  auto charset = t.optional.charsets.empty() ? 0 : t.optional.charsets[i];
  if (type == kVector || charset == kBinaryCharset) return hex_literal(bytes);
  if (is_latin1(charset)) return text_literal(latin1_to_utf8(bytes));
  return charset ? text_literal(bytes) : hex_literal(bytes);  // unknown: the bytes as they are
}

std::string literal(const TableSchema& t, std::size_t i, const ColumnValue& column) {
  if (column.state == ColumnValue::kNull) return "NULL";
  bool is_unsigned = i < t.optional.is_unsigned.size() && t.optional.is_unsigned[i];
  auto value = decode_row_value(t.types[i], t.metadata[i], column.bytes, is_unsigned);
  const auto& enums = t.optional.enum_values;
  const auto& sets = t.optional.set_values;
  return std::visit(
      [&](auto&& v) -> std::string {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::monostate>)
          return "NULL";
        else if constexpr (std::is_same_v<V, std::int64_t> || std::is_same_v<V, std::uint64_t>)
          return std::to_string(v);
        else if constexpr (std::is_same_v<V, double>)
          return fmt::format("{:.17g}", v);
        else if constexpr (std::is_same_v<V, DecimalValue>)
          return v.text;
        else if constexpr (std::is_same_v<V, TemporalValue>)
          return temporal_literal(v.text);
        else if constexpr (std::is_same_v<V, BitValue>)
          return std::to_string(v.bits);
        else if constexpr (std::is_same_v<V, EnumValue>) {
          if (i < enums.size() && v.index >= 1 && v.index <= enums[i].size())
            return text_literal(enums[i][v.index - 1]);
          return std::to_string(v.index);
        } else if constexpr (std::is_same_v<V, SetValue>) {
          if (i >= sets.size() || sets[i].empty()) return std::to_string(v.members);
          std::string names;
          for (std::size_t k = 0; k < sets[i].size() && k < 64; ++k)
            if (v.members >> k & 1) names += (names.empty() ? "" : ",") + sets[i][k];
          return text_literal(names);
        } else if constexpr (std::is_same_v<V, JsonBinaryValue>) {
          return text_literal(decode_mysql_json(as_bytes(v.bytes)).dump());
        } else {
          return string_literal(t, i, v);
        }
      },
      std::move(value));
}

std::string table_name(const TableSchema& t) {
  return quote_identifier(t.database) + "." + quote_identifier(t.table);
}

bool named(const TableSchema& t) {
  return t.optional.column_names.size() == t.types.size();
}

std::string column(const TableSchema& t, std::size_t i) {
  if (!named(t))
    throw DecodeError("the TABLE_MAP of " + t.database + "." + t.table +
                      " names no columns (binlog_row_metadata=FULL is needed for SQL)");
  return quote_identifier(t.optional.column_names[i]);
}

// WHERE ... for the row `before`: its primary key when the metadata names one (and the image
// holds it), else every column it holds, NULL-safe.
std::string where(const TableSchema& t, const RowImage& before) {
  std::vector<std::size_t> key;
  for (auto k : t.optional.primary_key)
    if (k < before.size() && before[k].state != ColumnValue::kAbsent) key.push_back(k);
  if (key.size() != t.optional.primary_key.size() || key.empty()) {
    key.clear();
    for (std::size_t i = 0; i < before.size() && i < t.types.size(); ++i)
      if (before[i].state != ColumnValue::kAbsent) key.push_back(i);
  }
  std::string out;
  for (auto i : key)
    out += (out.empty() ? "" : " AND ") + column(t, i) + " <=> " + literal(t, i, before[i]);
  return " WHERE " + out + " LIMIT 1";
}

}  // namespace

std::string quote_identifier(const std::string& name) {
  std::string out = "`";
  for (char c : name) out += c == '`' ? std::string("``") : std::string(1, c);
  return out + "`";
}

std::string insert_sql(const TableSchema& t, const RowImage& after) {
  std::string columns, values;
  for (std::size_t i = 0; i < after.size() && i < t.types.size(); ++i) {
    if (after[i].state == ColumnValue::kAbsent) continue;
    columns += (columns.empty() ? "" : ", ") + column(t, i);
    values += (values.empty() ? "" : ", ") + literal(t, i, after[i]);
  }
  return fmt::format("INSERT INTO {} ({}) VALUES ({});", table_name(t), columns, values);
}

std::string update_sql(const TableSchema& t, const RowImage& before, const RowImage& after) {
  std::string set;
  for (std::size_t i = 0; i < after.size() && i < t.types.size(); ++i)
    if (after[i].state != ColumnValue::kAbsent)
      set += (set.empty() ? "" : ", ") + column(t, i) + " = " + literal(t, i, after[i]);
  return fmt::format("UPDATE {} SET {}{};", table_name(t), set, where(t, before));
}

std::string delete_sql(const TableSchema& t, const RowImage& before) {
  return fmt::format("DELETE FROM {}{};", table_name(t), where(t, before));
}

}  // namespace pitr::binlog
