#include "formats/postgres/data_dir_rules.hpp"

#include <array>
#include <charconv>
#include <vector>

namespace pitr::postgres {
namespace {

// Directories kept empty in a backup (basebackup.c, excludeDirContents; pg_wal, whose
// segments the archive holds, as BASE_BACKUP without WAL leaves it).
constexpr std::array<std::string_view, 8> kEmptyDirectories = {
    "pg_stat_tmp", "pg_replslot",  "pg_dynshmem", "pg_notify",
    "pg_serial",   "pg_snapshots", "pg_subtrans", "pg_wal"};

// Files left out (excludeFiles); pg_internal.init also with a suffix (its temporary copies).
constexpr std::array<std::string_view, 7> kLeftOutFiles = {
    "postgresql.auto.conf.tmp", "current_logfiles.tmp", "backup_label",   "tablespace_map",
    "backup_manifest",          "postmaster.pid",       "postmaster.opts"};

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

std::optional<std::uint32_t> number(std::string_view text) {
  if (text.empty() || text.size() > 10 || text.front() < '0' || text.front() > '9')
    return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > UINT32_MAX)
    return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

// "<relnumber>[_fsm|_vm|_init][.<segment>]"
std::optional<RelationSegment> parse_file_name(std::string_view name) {
  RelationSegment out;
  if (auto dot = name.find('.'); dot != std::string_view::npos) {
    auto segment = number(name.substr(dot + 1));
    if (!segment || *segment == 0) return std::nullopt;
    out.segment = *segment;
    name = name.substr(0, dot);
  }
  if (auto underscore = name.find('_'); underscore != std::string_view::npos) {
    auto fork = name.substr(underscore + 1);
    if (fork == "fsm")
      out.fork = Fork::kFsm;
    else if (fork == "vm")
      out.fork = Fork::kVm;
    else if (fork == "init")
      out.fork = Fork::kInit;
    else
      return std::nullopt;
    name = name.substr(0, underscore);
  }
  auto rel = number(name);
  if (!rel || *rel == 0) return std::nullopt;
  out.file.rel = *rel;
  return out;
}

// The tablespace and database of a directory holding relation files.
std::optional<RelFile> relation_directory(const std::vector<std::string_view>& dir) {
  if (dir.size() == 1 && dir[0] == "global") return RelFile{kGlobalTablespace, 0, 0};
  if (dir.size() == 2 && dir[0] == "base") {
    if (auto db = number(dir[1])) return RelFile{kDefaultTablespace, *db, 0};
  }
  if (dir.size() == 4 && dir[0] == "pg_tblspc" && dir[2].starts_with("PG_")) {
    auto spc = number(dir[1]);
    auto db = number(dir[3]);
    if (spc && db) return RelFile{*spc, *db, 0};
  }
  return std::nullopt;
}

// "t<backend>_<relnumber>...": a temporary relation's file.
bool is_temporary_relation(std::string_view name) {
  if (name.size() < 4 || name[0] != 't') return false;
  auto underscore = name.find('_');
  return underscore != std::string_view::npos && number(name.substr(1, underscore - 1)) &&
         parse_file_name(name.substr(underscore + 1));
}

}  // namespace

BackupRule backup_rule(std::string_view path, bool is_directory) {
  auto parts = split(path);
  if (parts.empty()) return BackupRule::kLeaveOut;
  auto name = parts.back();
  if (name.starts_with("pgsql_tmp")) return BackupRule::kLeaveOut;
  if (is_directory) {
    for (auto d : kEmptyDirectories)
      if (name == d) return BackupRule::kTakeEmpty;
    return BackupRule::kTake;
  }
  if (parts.size() == 1)
    for (auto f : kLeftOutFiles)
      if (name == f) return BackupRule::kLeaveOut;
  if (name.starts_with("pg_internal.init")) return BackupRule::kLeaveOut;
  parts.pop_back();
  if (relation_directory(parts) && is_temporary_relation(name)) return BackupRule::kLeaveOut;
  return BackupRule::kTake;
}

std::optional<RelationSegment> relation_segment(std::string_view path) {
  auto parts = split(path);
  if (parts.size() < 2) return std::nullopt;
  auto name = parts.back();
  parts.pop_back();
  auto dir = relation_directory(parts);
  if (!dir) return std::nullopt;
  auto segment = parse_file_name(name);
  if (!segment) return std::nullopt;
  segment->file.spc = dir->spc;
  segment->file.db = dir->db;
  return segment;
}

bool is_unlogged_data(const RelationSegment& segment, const std::set<RelFile>& with_init_fork) {
  return segment.fork != Fork::kInit && with_init_fork.contains(segment.file);
}

}  // namespace pitr::postgres
