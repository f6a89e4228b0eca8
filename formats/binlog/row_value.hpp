#pragma once
// One column value of a row image, decoded from its stored bytes (row_image.hpp) by the
// column's type and TABLE_MAP metadata: integers (signedness comes from the table's optional
// metadata or its schema, not the row), FLOAT and DOUBLE, DECIMAL as exact text, temporal
// types as ISO 8601 text (TIMESTAMP in UTC), BIT, ENUM and SET as their stored index and
// bitmask (their member names are the table's), strings, BLOBs and GEOMETRY as their bytes
// (their character set is the column's), and MySQL's binary JSON as its bytes.
#include <cstdint>
#include <string>
#include <variant>

#include "formats/byte_cursor.hpp"

namespace pitr::binlog {

struct DecimalValue {
  std::string text;  // "-1234.5600": the scale's digits kept
};
struct TemporalValue {
  enum class Kind { kDate, kTime, kDateTime, kTimestamp, kYear } kind = Kind::kDate;
  std::string text;  // 2024-01-05, -838:59:59.000000, 2024-01-05T12:34:56, ...Z, 2024
};
struct BitValue {
  std::uint64_t bits = 0;
};
struct EnumValue {
  std::uint16_t index = 0;  // 1-based; 0 is the empty string of an invalid value
};
struct SetValue {
  std::uint64_t members = 0;  // bit i: the (i+1)th member
};
struct JsonBinaryValue {
  std::string bytes;  // MySQL's binary JSON
};

// std::monostate is SQL NULL; std::string holds a string's, BLOB's or GEOMETRY's bytes.
using RowValue =
    std::variant<std::monostate, std::int64_t, std::uint64_t, double, DecimalValue, TemporalValue,
                 BitValue, EnumValue, SetValue, std::string, JsonBinaryValue>;

// Decodes `stored` (exactly the bytes row_image.hpp gives for the column). Integers are
// signed unless `is_unsigned`. Throws DecodeError for bytes that do not fit the type.
RowValue decode_row_value(std::uint8_t type, std::uint16_t metadata, Bytes stored,
                          bool is_unsigned = false);

}  // namespace pitr::binlog
