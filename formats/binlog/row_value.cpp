#include "formats/binlog/row_value.hpp"

#include <fmt/format.h>

#include <cstring>
#include <ctime>
#include <vector>

#include "formats/binlog/column_type.hpp"

namespace pitr::binlog {
namespace {

constexpr int kDigitBytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

std::uint64_t big_endian(Bytes b) {
  std::uint64_t v = 0;
  for (auto byte : b) v = v << 8 | byte;
  return v;
}

void need(Bytes stored, std::size_t n, const char* what) {
  if (stored.size() != n)
    throw DecodeError(fmt::format("a {} value of {} bytes, not {}", what, stored.size(), n));
}

RowValue integer(Bytes stored, std::size_t size, bool is_unsigned) {
  need(stored, size, "integer");
  auto v = load_le(stored.data(), size);
  if (is_unsigned) return v;
  auto shift = 64 - 8 * size;
  return static_cast<std::int64_t>(v << shift) >> shift;
}

// MySQL's binary DECIMAL: the integer and fraction digits in groups of nine per four
// big-endian bytes (fewer bytes for a partial group), the sign in the first byte's top bit,
// every byte inverted when negative.
DecimalValue decimal(Bytes stored, std::uint16_t metadata) {
  unsigned precision = metadata >> 8, scale = metadata & 0xff;
  if (scale > precision || precision == 0) throw DecodeError("DECIMAL with a bad precision");
  unsigned integral = precision - scale;
  std::size_t size =
      integral / 9 * 4 + kDigitBytes[integral % 9] + scale / 9 * 4 + kDigitBytes[scale % 9];
  need(stored, size, "DECIMAL");
  std::vector<std::uint8_t> b(stored.begin(), stored.end());
  bool negative = !(b[0] & 0x80);
  b[0] ^= 0x80;
  if (negative)
    for (auto& x : b) x = static_cast<std::uint8_t>(~x);
  std::size_t at = 0;
  auto group = [&](int digits) {
    auto n = static_cast<std::size_t>(kDigitBytes[digits]);
    auto v = big_endian(Bytes(b).subspan(at, n));
    at += n;
    return v;
  };
  std::string whole;
  if (integral % 9) whole = std::to_string(group(static_cast<int>(integral % 9)));
  for (unsigned i = 0; i < integral / 9; ++i) whole += fmt::format("{:09}", group(9));
  auto first = whole.find_first_not_of('0');
  whole = first == std::string::npos ? "0" : whole.substr(first);
  std::string fraction;
  for (unsigned i = 0; i < scale / 9; ++i) fraction += fmt::format("{:09}", group(9));
  if (scale % 9) fraction += fmt::format("{:0{}}", group(static_cast<int>(scale % 9)), scale % 9);
  auto text = whole + (scale ? "." + fraction : "");
  return {(negative && text.find_first_not_of("0.") != std::string::npos ? "-" : "") + text};
}

// The fraction of a second stored after TIME2, DATETIME2 and TIMESTAMP2: (fsp + 1) / 2
// big-endian bytes, scaled to microseconds.
std::uint64_t microseconds(Bytes fraction, unsigned fsp) {
  auto v = big_endian(fraction);
  return fsp <= 2 ? v * 10000 : fsp <= 4 ? v * 100 : v;
}

std::string fraction_text(std::uint64_t micros, unsigned fsp) {
  if (fsp == 0) return "";
  return "." + fmt::format("{:06}", micros).substr(0, fsp);
}

TemporalValue datetime2(Bytes stored, unsigned fsp) {
  need(stored, 5 + (fsp + 1) / 2, "DATETIME");
  auto packed = static_cast<std::int64_t>(big_endian(stored.first(5))) - 0x8000000000LL;
  if (packed < 0) packed = -packed;
  auto ymd = packed >> 17, hms = packed & ((1 << 17) - 1);
  auto ym = ymd >> 5;
  return {TemporalValue::Kind::kDateTime,
          fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}", ym / 13, ym % 13, ymd % 32,
                      hms >> 12, (hms >> 6) % 64, hms % 64,
                      fraction_text(microseconds(stored.subspan(5), fsp), fsp))};
}

std::string utc(std::int64_t seconds) {
  auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

TemporalValue timestamp2(Bytes stored, unsigned fsp) {
  need(stored, 4 + (fsp + 1) / 2, "TIMESTAMP");
  return {TemporalValue::Kind::kTimestamp,
          utc(static_cast<std::int64_t>(big_endian(stored.first(4)))) +
              fraction_text(microseconds(stored.subspan(4), fsp), fsp) + "Z"};
}

// TIME2: the packed value MySQL's my_time_packed_from_binary gives: whole seconds (as
// hour << 12 | minute << 6 | second) in the high bits, microseconds in the low 24.
TemporalValue time2(Bytes stored, unsigned fsp) {
  need(stored, 3 + (fsp + 1) / 2, "TIME");
  std::int64_t packed;
  std::int64_t whole = static_cast<std::int64_t>(big_endian(stored.first(3))) - 0x800000;
  if (fsp >= 5) {
    packed = static_cast<std::int64_t>(big_endian(stored.first(6))) - 0x800000000000LL;
  } else {
    std::int64_t fraction = static_cast<std::int64_t>(big_endian(stored.subspan(3)));
    std::int64_t range = fsp == 0 ? 1 : fsp <= 2 ? 0x100 : 0x10000;
    if (whole < 0 && fraction) {
      ++whole;
      fraction -= range;
    }
    packed = whole * (1 << 24) + fraction * (fsp <= 2 ? 10000 : 100);
  }
  bool negative = packed < 0;
  if (negative) packed = -packed;
  auto hms = packed >> 24;
  return {
      TemporalValue::Kind::kTime,
      fmt::format("{}{:02}:{:02}:{:02}{}", negative ? "-" : "", (hms >> 12) % 1024, (hms >> 6) % 64,
                  hms % 64, fraction_text(static_cast<std::uint64_t>(packed % (1 << 24)), fsp))};
}

std::string length_prefixed(Bytes stored, std::size_t prefix) {
  ByteCursor c(stored, "row value");
  auto length = c.uint(prefix);
  auto bytes = c.bytes(length);
  if (!c.empty()) throw DecodeError("a string value longer than its length says");
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

EnumValue enum_value(Bytes stored) {
  if (stored.size() != 1 && stored.size() != 2)
    throw DecodeError("an ENUM value not of 1 or 2 bytes");
  return {static_cast<std::uint16_t>(load_le(stored.data(), stored.size()))};
}

SetValue set_value(Bytes stored) {
  if (stored.empty() || stored.size() > 8) throw DecodeError("a SET value not of 1 to 8 bytes");
  return {load_le(stored.data(), stored.size())};
}

RowValue string_column(std::uint16_t metadata, Bytes stored) {
  std::uint8_t real = metadata >> 8, low = metadata & 0xff;
  if (real == kEnum) return enum_value(stored);
  if (real == kSet) return set_value(stored);
  std::size_t max_length = ((((real >> 4) & 0x03) ^ 0x03) << 8) | low;
  return length_prefixed(stored, max_length > 255 ? 2 : 1);
}

TemporalValue old_temporal(std::uint8_t type, Bytes stored) {
  using K = TemporalValue::Kind;
  switch (type) {
    case kDate:
    case kNewDate: {
      need(stored, 3, "DATE");
      auto v = load_le(stored.data(), 3);
      return {K::kDate, fmt::format("{:04}-{:02}-{:02}", v >> 9, (v >> 5) & 15, v & 31)};
    }
    case kTime: {
      need(stored, 3, "TIME");
      auto v = static_cast<std::int64_t>(load_le(stored.data(), 3) << 40) >> 40;
      auto a = v < 0 ? -v : v;
      return {K::kTime, fmt::format("{}{:02}:{:02}:{:02}", v < 0 ? "-" : "", a / 10000,
                                    a / 100 % 100, a % 100)};
    }
    case kDateTime: {
      need(stored, 8, "DATETIME");
      auto v = load_le(stored.data(), 8);
      auto d = v / 1000000, t = v % 1000000;
      return {K::kDateTime, fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", d / 10000,
                                        d / 100 % 100, d % 100, t / 10000, t / 100 % 100, t % 100)};
    }
    case kTimestamp:
      need(stored, 4, "TIMESTAMP");
      return {K::kTimestamp, utc(static_cast<std::int64_t>(load_le(stored.data(), 4))) + "Z"};
    default: {  // kYear
      need(stored, 1, "YEAR");
      return {K::kYear, stored[0] ? std::to_string(1900 + stored[0]) : "0000"};
    }
  }
}

}  // namespace

RowValue decode_row_value(std::uint8_t type, std::uint16_t metadata, Bytes stored,
                          bool is_unsigned) {
  switch (type) {
    case kTiny:
      return integer(stored, 1, is_unsigned);
    case kShort:
      return integer(stored, 2, is_unsigned);
    case kInt24:
      return integer(stored, 3, is_unsigned);
    case kLong:
      return integer(stored, 4, is_unsigned);
    case kLongLong:
      return integer(stored, 8, is_unsigned);
    case kFloat: {
      need(stored, 4, "FLOAT");
      float f;
      std::memcpy(&f, stored.data(), 4);
      return static_cast<double>(f);
    }
    case kDouble: {
      need(stored, 8, "DOUBLE");
      double d;
      std::memcpy(&d, stored.data(), 8);
      return d;
    }
    case kNull:
      return std::monostate{};
    case kNewDecimal:
      return decimal(stored, metadata);
    case kDateTime2:
      return datetime2(stored, metadata);
    case kTimestamp2:
      return timestamp2(stored, metadata);
    case kTime2:
      return time2(stored, metadata);
    case kDate:
    case kNewDate:
    case kTime:
    case kDateTime:
    case kTimestamp:
    case kYear:
      return old_temporal(type, stored);
    case kBit:
      need(stored, (metadata >> 8) + ((metadata & 0xff) ? 1u : 0u), "BIT");
      if (stored.size() > 8) throw DecodeError("a BIT value of more than 64 bits");
      return BitValue{big_endian(stored)};
    case kEnum:
      return enum_value(stored);
    case kSet:
      return set_value(stored);
    case kVarchar:
    case kVarString:
      return length_prefixed(stored, metadata > 255 ? 2 : 1);
    case kString:
      return string_column(metadata, stored);
    case kJson:
      return JsonBinaryValue{length_prefixed(stored, metadata)};
    case kBlob:
    case kTinyBlob:
    case kMediumBlob:
    case kLongBlob:
    case kGeometry:
    case kVector:
      return length_prefixed(stored, metadata);
    default:
      throw DecodeError(fmt::format("column type {} has no value pitr can decode", type));
  }
}

}  // namespace pitr::binlog
