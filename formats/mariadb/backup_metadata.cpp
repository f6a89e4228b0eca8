#include "formats/mariadb/backup_metadata.hpp"

#include <fmt/format.h>

#include <charconv>

#include "formats/byte_cursor.hpp"

namespace pitr::mariadb {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::uint64_t parse_number(std::string_view text, const char* field, const char* file) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    throw DecodeError(fmt::format("{}: {} is '{}', not a number", file, field, text));
  return v;
}

}  // namespace

std::map<std::string, std::string, std::less<>> key_value_lines(std::string_view text) {
  std::map<std::string, std::string, std::less<>> fields;
  while (!text.empty()) {
    auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    auto eq = line.find('=');
    if (eq != std::string_view::npos)
      fields[std::string(trim(line.substr(0, eq)))] = std::string(trim(line.substr(eq + 1)));
  }
  return fields;
}

BackupCheckpoints parse_checkpoints(std::string_view text) {
  auto fields = key_value_lines(text);
  auto field = [&](const char* name) -> const std::string& {
    auto it = fields.find(name);
    if (it == fields.end())
      throw DecodeError(fmt::format("{} has no {} line", kCheckpointsFile, name));
    return it->second;
  };
  BackupCheckpoints c;
  c.backup_type = field("backup_type");
  c.from_lsn = parse_number(field("from_lsn"), "from_lsn", kCheckpointsFile);
  c.to_lsn = parse_number(field("to_lsn"), "to_lsn", kCheckpointsFile);
  c.last_lsn = parse_number(field("last_lsn"), "last_lsn", kCheckpointsFile);
  return c;
}

BinlogInfo parse_binlog_info(std::string_view text) {
  // One line: file, position and (when the server has one) the GTID position, tab-separated.
  text = trim(text.substr(0, text.find('\n')));
  auto tab = text.find('\t');
  if (tab == std::string_view::npos || tab == 0)
    throw DecodeError(
        fmt::format("{} is '{}', not FILE<TAB>POSITION[<TAB>GTID]", kBinlogInfoFile, text));
  BinlogInfo b;
  b.file = std::string(text.substr(0, tab));
  auto rest = text.substr(tab + 1);
  auto tab2 = rest.find('\t');
  b.position = parse_number(trim(rest.substr(0, tab2)), "the position", kBinlogInfoFile);
  if (tab2 != std::string_view::npos) b.gtid = std::string(trim(rest.substr(tab2 + 1)));
  return b;
}

std::uint64_t redo_start_lsn(std::span<const std::uint8_t> header) {
  if (header.size() < 16 ||
      std::string_view(reinterpret_cast<const char*>(header.data()), 4) != "Phys")
    throw DecodeError(fmt::format(
        "{} does not start with a redo log header of MariaDB 10.8 or later", kRedoLogFile));
  std::uint64_t lsn = 0;
  for (std::size_t i = 8; i < 16; ++i) lsn = lsn << 8 | header[i];
  return lsn;
}

std::string checkpoints_text(const BackupCheckpoints& c) {
  // mariabackup --prepare reads these lines in this order.
  return fmt::format(
      "backup_type = {}\nfrom_lsn = {}\nto_lsn = {}\nlast_lsn = {}\nrecover_binlog_info = 0\n",
      c.backup_type, c.from_lsn, c.to_lsn, c.last_lsn);
}

}  // namespace pitr::mariadb
