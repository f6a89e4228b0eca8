#include "formats/binlog/gtid.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "formats/byte_cursor.hpp"

namespace pitr::binlog {
namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto end = text.find(sep, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::uint64_t parse_number(const std::string& s, const std::string& context) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument("invalid number '" + s + "' in GTID '" + context + "'");
  return std::stoull(s);
}

Uuid parse_uuid(const std::string& text) {
  std::string hex;
  for (char ch : text)
    if (ch != '-') hex += ch;
  if (hex.size() != 32 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    throw std::invalid_argument("invalid server UUID '" + text + "'");
  Uuid uuid{};
  for (std::size_t i = 0; i < 16; ++i)
    uuid[i] = static_cast<std::uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  return uuid;
}

}  // namespace

std::string format_uuid(const Uuid& u) {
  std::string s;
  for (std::size_t i = 0; i < u.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += fmt::format("{:02x}", u[i]);
  }
  return s;
}

std::string MysqlGtid::to_string() const {
  return tag.empty() ? fmt::format("{}:{}", format_uuid(sid), gno)
                     : fmt::format("{}:{}:{}", format_uuid(sid), tag, gno);
}

std::string MariaGtid::to_string() const {
  return fmt::format("{}-{}-{}", domain, server_id, seq);
}

void MysqlGtidSet::add(const MysqlGtid& g) {
  auto key = g.tag.empty() ? format_uuid(g.sid) : format_uuid(g.sid) + ":" + g.tag;
  add_interval(key, g.gno, g.gno);
}

void MysqlGtidSet::add_interval(const std::string& source, std::uint64_t first,
                                std::uint64_t last) {
  auto& iv = sets_[source];
  iv.emplace_back(first, last);
  std::sort(iv.begin(), iv.end());
  std::vector<std::pair<std::uint64_t, std::uint64_t>> merged;
  for (auto& [a, b] : iv) {
    if (!merged.empty() && a <= merged.back().second + 1)
      merged.back().second = std::max(merged.back().second, b);
    else
      merged.emplace_back(a, b);
  }
  iv = std::move(merged);
}

std::string MysqlGtidSet::to_string() const {
  std::string out;
  for (const auto& [source, intervals] : sets_) {
    if (!out.empty()) out += ',';
    out += source;
    for (auto [a, b] : intervals)
      out += a == b ? fmt::format(":{}", a) : fmt::format(":{}-{}", a, b);
  }
  return out;
}

MysqlGtidSet MysqlGtidSet::parse(const std::string& text) {
  MysqlGtidSet set;
  for (auto& part : split(text, ',')) {
    auto item = trim(part);
    if (item.empty()) continue;
    auto fields = split(item, ':');
    if (fields.size() < 2) throw std::invalid_argument("invalid GTID set element '" + item + "'");
    auto source = format_uuid(parse_uuid(fields[0]));
    for (std::size_t i = 1; i < fields.size(); ++i) {
      auto range = split(fields[i], '-');
      if (range.size() > 2)
        throw std::invalid_argument("invalid GTID interval '" + fields[i] + "'");
      auto first = parse_number(range[0], item);
      auto last = range.size() == 2 ? parse_number(range[1], item) : first;
      if (first == 0 || last < first)
        throw std::invalid_argument("invalid GTID interval '" + fields[i] + "'");
      set.add_interval(source, first, last);
    }
  }
  return set;
}

std::vector<std::uint8_t> MysqlGtidSet::encode() const {
  std::vector<std::uint8_t> out(8);
  store_le(out.data(), sets_.size(), 8);
  for (const auto& [source, intervals] : sets_) {
    if (source.find(':') != std::string::npos)
      throw std::invalid_argument("tagged GTIDs cannot be sent with COM_BINLOG_DUMP_GTID v1");
    auto uuid = parse_uuid(source);
    out.insert(out.end(), uuid.begin(), uuid.end());
    std::uint8_t buf[8];
    store_le(buf, intervals.size(), 8);
    out.insert(out.end(), buf, buf + 8);
    for (auto [a, b] : intervals) {
      store_le(buf, a, 8);
      out.insert(out.end(), buf, buf + 8);
      store_le(buf, b + 1, 8);  // the wire format's interval end is exclusive
      out.insert(out.end(), buf, buf + 8);
    }
  }
  return out;
}

std::string MariaGtidPosition::to_string() const {
  std::string out;
  for (const auto& [domain, g] : last_) {
    if (!out.empty()) out += ',';
    out += g.to_string();
  }
  return out;
}

MariaGtidPosition MariaGtidPosition::parse(const std::string& text) {
  MariaGtidPosition pos;
  for (auto& part : split(text, ',')) {
    auto item = trim(part);
    if (item.empty()) continue;
    auto f = split(item, '-');
    if (f.size() != 3) throw std::invalid_argument("invalid MariaDB GTID '" + item + "'");
    pos.add({static_cast<std::uint32_t>(parse_number(f[0], item)),
             static_cast<std::uint32_t>(parse_number(f[1], item)), parse_number(f[2], item)});
  }
  return pos;
}

}  // namespace pitr::binlog
