#pragma once
// Chooses what a restore needs: the moment to stop at (from the target the DBA named), the
// newest base backup consistent before it, and the archived binlog between the two; and
// refuses, before anything touches a server, when the archive cannot give that moment.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "archive/backup_manifest.hpp"
#include "archive/binlog_archive.hpp"
#include "replay/change_match.hpp"

namespace pitr::replay {

struct RestoreTarget {
  enum class Kind { kLatest, kTime, kPosition, kGtid, kBeforeGtid, kBeforeMatch };
  Kind kind = Kind::kLatest;
  std::int64_t time = 0;             // kTime: Unix seconds
  std::string file;                  // kPosition
  std::uint64_t position = 0;        // kPosition
  std::string gtid;                  // kGtid, kBeforeGtid
  std::optional<ChangeMatch> match;  // kBeforeMatch
  std::string match_text;
  std::optional<std::int64_t> since;  // kBeforeMatch
  std::optional<std::string> backup;  // the base backup to start from (default: the newest
                                      // one consistent before the target)
  std::string method = "logical";     // of the backups the restore can start from
  std::string describe() const;
};

struct LogPoint {
  std::string file;
  std::uint64_t offset = 0;
};

struct RestorePlan {
  std::string source_id;
  archive::BackupManifest backup;
  LogPoint stop;                   // apply everything before this point
  std::string stop_reason;         // which transaction the target resolved to
  std::vector<std::string> files;  // binlog files to read, in order
  std::uint64_t transactions = 0;  // to apply after the backup
  std::uint32_t last_commit_time = 0;
};

class PlanError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

RestorePlan plan_restore(const archive::BinlogArchive& archive, const RestoreTarget& target,
                         const std::optional<std::string>& source_id);
std::string describe_plan(const RestorePlan& plan);

bool position_less(const LogPoint& a, const LogPoint& b);

}  // namespace pitr::replay
