#pragma once
// Which blocks of one relation segment a backup compared with a parent backup reads from the
// server, given what the WAL between the two backups' starts says (wal_changes.hpp). Every
// other block of the segment is the parent's. The rules follow PostgreSQL 17's
// GetFileBackupMethod (src/backend/backup/basebackup_incremental.c), with free space and
// visibility maps always read whole (not reliably WAL-logged).
#include <cstdint>
#include <optional>
#include <vector>

#include "formats/postgres/data_dir_rules.hpp"
#include "formats/postgres/wal_changes.hpp"

namespace pitr::postgres {

struct SegmentPlan {
  bool whole = false;                 // read every block
  std::vector<std::uint32_t> blocks;  // otherwise these, counted from the segment's start
};

// `parent_blocks`: the segment's length in the parent backup, none when the parent does not
// have it; `current_blocks`: its length now.
SegmentPlan plan_segment(const RelationSegment& segment, std::optional<std::uint32_t> parent_blocks,
                         std::uint32_t current_blocks, WalChanges& changes,
                         std::uint32_t blocks_per_segment);

}  // namespace pitr::postgres
