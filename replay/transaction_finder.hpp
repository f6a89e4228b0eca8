#pragma once
// Walks the archived binlog transaction by transaction and says what each one changed:
// the basis of `pitr find` and of restore targets like "just before the DELETE".
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "archive/binlog_archive.hpp"
#include "replay/change_match.hpp"

namespace pitr::replay {

struct TransactionRecord {
  std::string source_id;
  std::string file;
  std::uint64_t start = 0;  // file offset of the transaction's first event
  std::uint64_t end = 0;    // file offset just after its commit
  std::uint32_t commit_time = 0;
  std::optional<std::string> gtid;
  std::vector<TableChange> changes;
};

// Calls `visit` for every transaction that changed something, in archive order (per source,
// binlog order). `visit` returns false to stop early. Only the logs `wanted` accepts are read
// (every log without it). Throws on damaged archive data.
void for_each_transaction(const archive::BinlogArchive& archive,
                          const std::function<bool(const TransactionRecord&)>& visit,
                          const std::function<bool(const archive::ArchivedLog&)>& wanted = {});

}  // namespace pitr::replay
