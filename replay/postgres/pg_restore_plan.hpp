#pragma once
// Plans a PostgreSQL point-in-time restore: resolves the target against the archive's WAL
// index, picks the newest base backup that is consistent before it, and checks that the
// WAL from that backup's start to the target is all there, on the timelines recovery will
// follow.
#include <cstdint>
#include <optional>
#include <string>

#include "archive/pg_backup_manifest.hpp"
#include "archive/wal_archive.hpp"

namespace pitr::replay {

struct PgRestoreTarget {
  enum class Kind { kLatest, kImmediate, kTime, kLsn, kXid, kName };
  Kind kind = Kind::kLatest;
  std::int64_t time = 0;  // Unix µs
  postgres::Lsn lsn = 0;
  std::uint32_t xid = 0;
  std::string name;
  std::optional<postgres::TimelineId> timeline;  // default: the newest archived
  std::string source;                            // default: the archive's only source
  std::optional<std::string> backup;             // default: the newest consistent before the target
};

struct PgRestorePlan {
  std::string source_id;
  archive::PgBackupManifest backup;
  postgres::TimelineId timeline = 0;  // recovery_target_timeline
  postgres::Lsn archive_end = 0;      // end of the WAL the archive holds on that history
  postgres::Lsn target_lsn = 0;       // where the target lies (the archive's end when latest)
  std::string recovery_settings;      // recovery_target* lines for postgresql.auto.conf
  std::string description;            // one line for the user
};

// Throws std::runtime_error with a message saying what is missing and what to choose.
PgRestorePlan plan_pg_restore(const archive::Archive& archive, const PgRestoreTarget& target);

// Quotes a value for postgresql.conf ('...' with quotes doubled).
std::string conf_quote(const std::string& value);

}  // namespace pitr::replay
