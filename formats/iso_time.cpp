#include "formats/iso_time.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cctype>
#include <ctime>
#include <stdexcept>

namespace pitr {
namespace {

[[noreturn]] void bad(const std::string& text) {
  throw std::invalid_argument("invalid time '" + text +
                              "' (use ISO 8601: 2026-11-21T10:41:59Z, 2026-11-21 10:41:59+01:00, "
                              "2026-11-21T10:41 or 2026-11-21; without an offset it is UTC)");
}

int digits(const std::string& text, std::size_t& at, std::size_t n) {
  if (at + n > text.size()) bad(text);
  int v = 0;
  for (std::size_t i = 0; i < n; ++i, ++at) {
    if (!std::isdigit(static_cast<unsigned char>(text[at]))) bad(text);
    v = v * 10 + (text[at] - '0');
  }
  return v;
}

void expect(const std::string& text, std::size_t& at, char c) {
  if (at >= text.size() || text[at] != c) bad(text);
  ++at;
}

}  // namespace

std::int64_t parse_iso_time(const std::string& text) {
  auto micros = parse_iso_time_micros(text);
  return micros / 1000000 - (micros % 1000000 < 0);
}

std::int64_t parse_iso_time_micros(const std::string& text) {
  std::size_t at = 0;
  std::int64_t micros = 0;
  std::tm tm{};
  tm.tm_year = digits(text, at, 4) - 1900;
  expect(text, at, '-');
  tm.tm_mon = digits(text, at, 2) - 1;
  expect(text, at, '-');
  tm.tm_mday = digits(text, at, 2);
  if (at < text.size() && (text[at] == 'T' || text[at] == ' ')) {
    ++at;
    tm.tm_hour = digits(text, at, 2);
    expect(text, at, ':');
    tm.tm_min = digits(text, at, 2);
    if (at < text.size() && text[at] == ':') {
      ++at;
      tm.tm_sec = digits(text, at, 2);
      if (at < text.size() && (text[at] == '.' || text[at] == ',')) {
        ++at;
        if (at >= text.size() || !std::isdigit(static_cast<unsigned char>(text[at]))) bad(text);
        for (int place = 100000;
             at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]));
             ++at, place /= 10)
          micros += place * (text[at] - '0');
      }
    }
  }
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60)
    bad(text);
  std::int64_t offset = 0;
  if (at < text.size()) {
    char sign = text[at++];
    if (sign == 'Z' || sign == 'z') {
      if (at != text.size()) bad(text);
    } else if (sign == '+' || sign == '-') {
      int hours = digits(text, at, 2);
      if (at < text.size() && text[at] == ':') ++at;
      int minutes = at < text.size() ? digits(text, at, 2) : 0;
      if (at != text.size() || hours > 23 || minutes > 59) bad(text);
      offset = (sign == '+' ? 1 : -1) * (hours * 3600 + minutes * 60);
    } else {
      bad(text);
    }
  }
  return (static_cast<std::int64_t>(timegm(&tm)) - offset) * 1000000 + micros;
}

std::string format_iso_time(std::int64_t unix_seconds) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(static_cast<std::time_t>(unix_seconds)));
}

std::string format_postgres_time(std::int64_t unix_micros) {
  auto seconds = unix_micros / 1000000, micros = unix_micros % 1000000;
  if (micros < 0) {
    micros += 1000000;
    --seconds;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
}

}  // namespace pitr
