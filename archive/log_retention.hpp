#pragma once
// The archived log that retained base backups no longer need (docs/archive-format.md,
// "Retention"). A restore starts from a backup and replays the log from the backup's start,
// so once `pitr expire` has removed backups, the log before the oldest remaining backup of
// a source can go too:
//   - binlog: whole files before the one preceding the file the source's oldest retained
//     backup starts in (the transaction that ends at the backup's position may lie in that
//     one; a file is kept whole, so every kept file can be read from its first byte);
//   - WAL: segments (of any timeline) before the segment holding the oldest retained
//     backup's start LSN; timeline history files are always kept.
// A source with no retained backup, or with one that recorded no log position, keeps its
// whole log. A source's newest archived file or segment is always kept: capture resumes
// after it.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "archive/archive.hpp"

namespace pitr::archive {

struct ExpiredLog {
  std::string source_id;
  std::string engine;           // "mysql" or "postgres"
  std::string kept_from;        // the first binlog file or WAL segment kept, for messages
  std::size_t files = 0;        // binlog files or WAL segments let go
  std::uint64_t log_bytes = 0;  // of the server's log they held
  std::vector<std::string> keys;
};

// What every source's retained backups (all complete ones but those in `gone`) no longer
// need. Sources with nothing to let go are left out.
std::vector<ExpiredLog> logs_to_expire(const Archive& archive, const std::set<std::string>& gone);

// Deletes the objects of `log`, oldest first, so that an interrupted run leaves the archived
// log contiguous.
void remove_expired_log(const Archive& archive, const ExpiredLog& log);

}  // namespace pitr::archive
