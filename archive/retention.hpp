#pragma once
// What `pitr expire` keeps: a retention policy over the archive's complete base backups (of
// every engine, per source), removing a backup (its manifest first, so it stops being
// listed before any of its objects go), and the hooks that let the block store's sweep find
// the blocks the remaining backups use.
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "archive/archive.hpp"
#include "archive/block_store/block_sweep.hpp"

namespace pitr::archive {

struct BackupSummary {
  std::string id, source_id;
  std::string engine;              // "mysql", "postgres" or "clickhouse"
  std::string type = "full";       // "full", "diff" or "incr"
  std::int64_t consistent_at = 0;  // Unix µs: the earliest moment it restores to
};

// Every complete backup, oldest first.
std::vector<BackupSummary> summarize_backups(const Archive& archive);

struct RetentionPolicy {
  std::optional<std::size_t> keep;       // the N newest backups of any type
  std::optional<std::size_t> keep_full;  // the N newest fulls and every backup newer than them
  std::optional<std::chrono::seconds> recovery_window;  // restorable to any moment this far back
};

// Throws std::invalid_argument, saying what to give instead, for a policy that keeps nothing
// or says nothing.
void check_policy(const RetentionPolicy& policy);

// The backups the policy lets go, applied to each source on its own; the newest backup of a
// source is always kept. Throws as check_policy does.
std::vector<BackupSummary> backups_to_expire(const std::vector<BackupSummary>& backups,
                                             const RetentionPolicy& policy, std::int64_t now_us);

// Removes a complete backup: its manifest first, then its other objects.
void remove_complete_backup(const Archive& archive, const std::string& id);

// Hooks for sweep_blocks: the blocks of every complete backup but those in `gone` (a dry run
// counts the backups it would remove as gone), and whether a backup is being written.
SweepHooks retention_sweep_hooks(const Archive& archive, std::set<std::string> gone = {});

}  // namespace pitr::archive
