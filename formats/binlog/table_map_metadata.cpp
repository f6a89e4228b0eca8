#include "formats/binlog/table_map_metadata.hpp"

#include "formats/binlog/column_type.hpp"

namespace pitr::binlog {
namespace {

enum Field : std::uint8_t {
  kSignedness = 1,
  kDefaultCharset = 2,
  kColumnCharset = 3,
  kColumnName = 4,
  kSetStrValue = 5,
  kEnumStrValue = 6,
  kGeometryType = 7,
  kSimplePrimaryKey = 8,
  kPrimaryKeyWithPrefix = 9,
  kEnumAndSetDefaultCharset = 10,
  kEnumAndSetColumnCharset = 11,
  kColumnVisibility = 12,
};

// A STRING column carries its real type (ENUM, SET or itself) in its metadata's high byte.
std::uint8_t real_type(std::uint8_t type, std::uint16_t metadata) {
  if (type == kString && ((metadata >> 8) == kEnum || (metadata >> 8) == kSet))
    return static_cast<std::uint8_t>(metadata >> 8);
  return type;
}

bool is_numeric(std::uint8_t t) {
  return t == kTiny || t == kShort || t == kInt24 || t == kLong || t == kLongLong ||
         t == kNewDecimal || t == kFloat || t == kDouble;
}

bool is_character(std::uint8_t t) {
  return t == kString || t == kVarString || t == kVarchar || t == kBlob || t == kTinyBlob ||
         t == kMediumBlob || t == kLongBlob;
}

bool is_enum_or_set(std::uint8_t t) {
  return t == kEnum || t == kSet;
}

// Columns whose real types `pick` accepts, in order.
std::vector<std::size_t> columns_where(const std::vector<std::uint8_t>& types,
                                       const std::vector<std::uint16_t>& metadata,
                                       bool (*pick)(std::uint8_t)) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < types.size(); ++i)
    if (pick(real_type(types[i], metadata[i]))) out.push_back(i);
  return out;
}

// One bit per column of `columns`, the first in the top bit of the first byte.
std::vector<bool> bits_for(ByteCursor& c, const std::vector<std::size_t>& columns,
                           std::size_t all) {
  std::vector<bool> out(all, false);
  auto bytes = c.bytes((columns.size() + 7) / 8);
  for (std::size_t k = 0; k < columns.size(); ++k)
    out[columns[k]] = (bytes[k / 8] >> (7 - k % 8)) & 1;
  return out;
}

std::size_t column_index(ByteCursor& c, std::size_t all) {
  auto i = c.lenenc();
  if (i >= all)
    throw DecodeError("TABLE_MAP metadata names column " + std::to_string(i) + " of a table of " +
                      std::to_string(all));
  return static_cast<std::size_t>(i);
}

// DEFAULT_CHARSET: the default, then (column, charset) pairs among `columns` by position.
void default_charsets(ByteCursor& c, const std::vector<std::size_t>& columns,
                      std::vector<std::uint32_t>& out) {
  auto fallback = static_cast<std::uint32_t>(c.lenenc());
  for (auto i : columns) out[i] = fallback;
  while (!c.empty()) {
    auto k = column_index(c, columns.size());
    out[columns[k]] = static_cast<std::uint32_t>(c.lenenc());
  }
}

void column_charsets(ByteCursor& c, const std::vector<std::size_t>& columns,
                     std::vector<std::uint32_t>& out) {
  for (auto i : columns) out[i] = static_cast<std::uint32_t>(c.lenenc());
}

void member_names(ByteCursor& c, const std::vector<std::size_t>& columns,
                  std::vector<std::vector<std::string>>& out) {
  for (auto i : columns) {
    auto n = c.lenenc();
    for (std::uint64_t k = 0; k < n; ++k) out[i].emplace_back(c.lenenc_text());
  }
}

}  // namespace

TableMapMetadata decode_table_map_metadata(Bytes fields, const std::vector<std::uint8_t>& types,
                                           const std::vector<std::uint16_t>& metadata) {
  auto all = types.size();
  auto numeric = columns_where(types, metadata, is_numeric);
  auto character = columns_where(types, metadata, is_character);
  auto enums_and_sets = columns_where(types, metadata, is_enum_or_set);
  auto enums = columns_where(types, metadata, [](std::uint8_t t) { return t == kEnum; });
  auto sets = columns_where(types, metadata, [](std::uint8_t t) { return t == kSet; });
  TableMapMetadata m;
  ByteCursor outer(fields, "TABLE_MAP optional metadata");
  while (!outer.empty()) {
    auto type = outer.u8();
    ByteCursor c(outer.bytes(static_cast<std::size_t>(outer.lenenc())),
                 "TABLE_MAP optional metadata field");
    if (m.charsets.empty() &&
        (type == kDefaultCharset || type == kColumnCharset || type == kEnumAndSetDefaultCharset ||
         type == kEnumAndSetColumnCharset))
      m.charsets.assign(all, 0);
    switch (type) {
      case kSignedness:
        m.is_unsigned = bits_for(c, numeric, all);
        break;
      case kDefaultCharset:
        default_charsets(c, character, m.charsets);
        break;
      case kColumnCharset:
        column_charsets(c, character, m.charsets);
        break;
      case kEnumAndSetDefaultCharset:
        default_charsets(c, enums_and_sets, m.charsets);
        break;
      case kEnumAndSetColumnCharset:
        column_charsets(c, enums_and_sets, m.charsets);
        break;
      case kColumnName:
        for (std::size_t i = 0; i < all; ++i) m.column_names.emplace_back(c.lenenc_text());
        break;
      case kEnumStrValue:
        m.enum_values.resize(all);
        member_names(c, enums, m.enum_values);
        break;
      case kSetStrValue:
        m.set_values.resize(all);
        member_names(c, sets, m.set_values);
        break;
      case kSimplePrimaryKey:
        while (!c.empty()) m.primary_key.push_back(column_index(c, all));
        break;
      case kPrimaryKeyWithPrefix:
        while (!c.empty()) {
          m.primary_key.push_back(column_index(c, all));
          c.lenenc();  // the prefix length
        }
        break;
      case kColumnVisibility: {
        std::vector<std::size_t> every(all);
        for (std::size_t i = 0; i < all; ++i) every[i] = i;
        m.visible = bits_for(c, every, all);
        break;
      }
      default:  // kGeometryType and fields of later servers
        break;
    }
  }
  return m;
}

}  // namespace pitr::binlog
