#include "formats/binlog/mysql_json.hpp"

#include <fmt/format.h>

#include <cstring>
#include <limits>

#include "formats/base64.hpp"
#include "formats/binlog/column_type.hpp"
#include "formats/binlog/row_value.hpp"

namespace pitr::binlog {
namespace {

enum JsonType : std::uint8_t {
  kSmallObject = 0x00,
  kLargeObject = 0x01,
  kSmallArray = 0x02,
  kLargeArray = 0x03,
  kLiteral = 0x04,
  kInt16 = 0x05,
  kUint16 = 0x06,
  kInt32 = 0x07,
  kUint32 = 0x08,
  kInt64 = 0x09,
  kUint64 = 0x0a,
  kDouble = 0x0b,
  kString = 0x0c,
  kOpaque = 0x0f,
};

constexpr int kMaxDepth = 100;

// The variable-length size of strings and opaque values: 7 bits a byte, low bits first.
std::size_t variable_length(ByteCursor& c) {
  std::size_t length = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    auto b = c.u8();
    length |= static_cast<std::size_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return length;
  }
  throw DecodeError("JSON string length of more than five bytes");
}

// A temporal opaque value: MySQL's packed longlong (date and time parts above 24 bits of
// microseconds).
std::string packed_temporal(std::uint8_t field_type, std::int64_t packed) {
  if (packed == std::numeric_limits<std::int64_t>::min())
    throw DecodeError("JSON temporal value out of range");
  bool negative = packed < 0;
  if (negative) packed = -packed;
  auto fraction = packed % (1 << 24);
  auto whole = packed >> 24;
  auto micros = fraction ? fmt::format(".{:06}", fraction) : std::string();
  if (field_type == kTime)
    return fmt::format("{}{:02}:{:02}:{:02}{}", negative ? "-" : "", (whole >> 12) % 1024,
                       (whole >> 6) % 64, whole % 64, micros);
  auto ymd = whole >> 17, hms = whole % (1 << 17);
  auto ym = ymd >> 5;
  auto date = fmt::format("{:04}-{:02}-{:02}", ym / 13, ym % 13, ymd % 32);
  if (field_type == kDate) return date;
  return fmt::format("{}T{:02}:{:02}:{:02}{}", date, hms >> 12, (hms >> 6) % 64, hms % 64, micros);
}

nlohmann::json opaque(ByteCursor& c) {
  auto field_type = c.u8();
  auto data = c.bytes(variable_length(c));
  switch (field_type) {
    case kNewDecimal: {
      if (data.size() < 2) throw DecodeError("JSON DECIMAL without its precision and scale");
      auto metadata = static_cast<std::uint16_t>(data[0] << 8 | data[1]);
      return std::get<DecimalValue>(decode_row_value(kNewDecimal, metadata, data.subspan(2))).text;
    }
    case kDate:
    case kTime:
    case kDateTime:
    case kTimestamp:
    case kDateTime2:
    case kTimestamp2:
    case kTime2:
      if (data.size() < 8) throw DecodeError("JSON temporal value of fewer than 8 bytes");
      return packed_temporal(field_type == kTime2  ? kTime
                             : field_type == kDate ? kDate
                                                   : kDateTime,
                             static_cast<std::int64_t>(load_le(data.data(), 8)));
    default:
      return "base64:type" + std::to_string(field_type) + ":" + to_base64(data);
  }
}

class Decoder {
 public:
  explicit Decoder(Bytes document) : doc_(document) {}

  // The value of `type` whose bytes start at `at` in the document.
  nlohmann::json value(std::uint8_t type, std::size_t at, int depth) {
    if (depth > kMaxDepth) throw DecodeError("JSON nested more than 100 levels deep");
    if (at > doc_.size()) throw DecodeError("JSON value past the document's end");
    ByteCursor c(doc_.subspan(at), "JSON value");
    switch (type) {
      case kSmallObject:
      case kLargeObject:
      case kSmallArray:
      case kLargeArray:
        return container(type, at, depth);
      case kLiteral:
        return literal(c.u8());
      case kInt16:
        return static_cast<std::int16_t>(c.u16());
      case kUint16:
        return c.u16();
      case kInt32:
        return static_cast<std::int32_t>(c.u32());
      case kUint32:
        return c.u32();
      case kInt64:
        return static_cast<std::int64_t>(c.u64());
      case kUint64:
        return c.u64();
      case kDouble: {
        auto bits = c.u64();
        double d;
        std::memcpy(&d, &bits, 8);
        return d;
      }
      case kString: {
        auto bytes = c.bytes(variable_length(c));
        return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      }
      case kOpaque:
        return opaque(c);
      default:
        throw DecodeError(fmt::format("JSON value of unknown type 0x{:02x}", type));
    }
  }

 private:
  static nlohmann::json literal(std::uint8_t v) {
    if (v == 0) return nullptr;
    if (v == 1) return true;
    if (v == 2) return false;
    throw DecodeError(fmt::format("JSON literal 0x{:02x}", v));
  }

  nlohmann::json container(std::uint8_t type, std::size_t at, int depth) {
    bool large = type == kLargeObject || type == kLargeArray;
    bool object = type == kSmallObject || type == kLargeObject;
    std::size_t word = large ? 4 : 2;
    ByteCursor c(doc_.subspan(at), "JSON container");
    auto count = c.uint(word);
    auto size = c.uint(word);
    if (size > doc_.size() - at) throw DecodeError("JSON container larger than its document");
    auto body = doc_.subspan(at, size);
    auto header = 2 * word + count * (object ? word + 2 : 0) + count * (1 + word);
    if (header > size) throw DecodeError("JSON container too small for its entries");
    nlohmann::json out = object ? nlohmann::json::object() : nlohmann::json::array();
    for (std::uint64_t i = 0; i < count; ++i) {
      std::string key;
      if (object) {
        ByteCursor k(body.subspan(2 * word + i * (word + 2)), "JSON key entry");
        auto offset = k.uint(word);
        auto length = k.u16();
        if (offset + length > size) throw DecodeError("JSON key past its container");
        key.assign(reinterpret_cast<const char*>(body.data() + offset), length);
      }
      ByteCursor v(body.subspan(2 * word + count * (object ? word + 2 : 0) + i * (1 + word)),
                   "JSON value entry");
      auto value_type = v.u8();
      nlohmann::json element;
      if (inlined(value_type, large)) {
        element =
            value(value_type,
                  at + v.offset() + 2 * word + count * (object ? word + 2 : 0) + i * (1 + word),
                  depth + 1);
      } else {
        auto offset = v.uint(word);
        if (offset >= size) throw DecodeError("JSON value past its container");
        element = value(value_type, at + offset, depth + 1);
      }
      if (object)
        out[key] = std::move(element);
      else
        out.push_back(std::move(element));
    }
    return out;
  }

  static bool inlined(std::uint8_t type, bool large) {
    return type == kLiteral || type == kInt16 || type == kUint16 ||
           (large && (type == kInt32 || type == kUint32));
  }

  Bytes doc_;
};

}  // namespace

nlohmann::json decode_mysql_json(Bytes binary) {
  if (binary.empty()) return nullptr;
  return Decoder(binary.subspan(1)).value(binary[0], 0, 0);
}

}  // namespace pitr::binlog
