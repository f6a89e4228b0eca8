#include "formats/postgres/lsn.hpp"

#include <fmt/format.h>

#include <charconv>

#include "formats/byte_cursor.hpp"

namespace pitr::postgres {
namespace {

std::optional<std::uint64_t> parse_hex(std::string_view s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Lsn parse_lsn(std::string_view text) {
  auto slash = text.find('/');
  auto bad = [&] {
    return DecodeError(fmt::format("'{}' is not an LSN (like 16/B374D848)", text));
  };
  if (slash == std::string_view::npos) throw bad();
  auto hi = parse_hex(text.substr(0, slash)), lo = parse_hex(text.substr(slash + 1));
  if (!hi || !lo || *hi > 0xFFFFFFFF || *lo > 0xFFFFFFFF) throw bad();
  return *hi << 32 | *lo;
}

std::string format_lsn(Lsn lsn) {
  return fmt::format("{:X}/{:X}", lsn >> 32, lsn & 0xFFFFFFFF);
}

bool valid_segment_size(std::uint64_t size) {
  return size >= (1u << 20) && size <= (1u << 30) && (size & (size - 1)) == 0;
}

std::string wal_file_name(TimelineId timeline, std::uint64_t segment, std::uint64_t segment_size) {
  auto per_id = 0x100000000ull / segment_size;
  return fmt::format("{:08X}{:08X}{:08X}", timeline, segment / per_id, segment % per_id);
}

std::optional<WalFileName> parse_wal_file_name(std::string_view name, std::uint64_t segment_size) {
  if (name.size() != 24) return std::nullopt;
  for (char c : name)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return std::nullopt;
  auto tli = parse_hex(name.substr(0, 8)), hi = parse_hex(name.substr(8, 8)),
       lo = parse_hex(name.substr(16, 8));
  auto per_id = 0x100000000ull / segment_size;
  if (*lo >= per_id || *tli == 0) return std::nullopt;
  return WalFileName{static_cast<TimelineId>(*tli), *hi * per_id + *lo};
}

std::string history_file_name(TimelineId timeline) {
  return fmt::format("{:08X}.history", timeline);
}

std::optional<TimelineId> parse_history_file_name(std::string_view name) {
  if (name.size() != 16 || name.substr(8) != ".history") return std::nullopt;
  for (char c : name.substr(0, 8))
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return std::nullopt;
  auto tli = parse_hex(name.substr(0, 8));
  if (!tli || *tli == 0) return std::nullopt;
  return static_cast<TimelineId>(*tli);
}

}  // namespace pitr::postgres
