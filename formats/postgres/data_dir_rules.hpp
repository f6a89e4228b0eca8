#pragma once
// What a backup takes from a PostgreSQL data directory, by the rules BASE_BACKUP follows
// (src/backend/backup/basebackup.c: sendDir and its exclusion lists), and what a relation
// file's name says about it (src/common/relpath.c). Paths are relative to the data
// directory, with '/' between components: "base/5/16384.1", "global/pg_control",
// "pg_tblspc/16500/PG_15_202209061/5/16390_vm".
#include <cstdint>
#include <optional>
#include <set>
#include <string_view>

#include "formats/postgres/wal_record.hpp"

namespace pitr::postgres {

inline constexpr std::uint32_t kDefaultTablespace = 1663, kGlobalTablespace = 1664;

enum class BackupRule {
  kTake,       // the file, or the directory and what it holds
  kTakeEmpty,  // the directory, without its contents (pg_wal, pg_replslot, ...)
  kLeaveOut,   // not at all: server runtime files, temporary files and relations
};

// The rule for one path; what lies under a kTakeEmpty or kLeaveOut directory is left out
// by the caller.
BackupRule backup_rule(std::string_view path, bool is_directory);

struct RelationSegment {
  RelFile file;
  Fork fork = Fork::kMain;
  std::uint32_t segment = 0;  // ".N": blocks from N * blocks-per-segment on
};

// The relation segment a path names; none for any other file, temporary relations included.
std::optional<RelationSegment> relation_segment(std::string_view path);

// Unlogged relations: every fork but the init fork is left out (the server rebuilds them
// from it at the end of recovery). `with_init_fork` holds the relations that have one.
bool is_unlogged_data(const RelationSegment& segment, const std::set<RelFile>& with_init_fork);

}  // namespace pitr::postgres
