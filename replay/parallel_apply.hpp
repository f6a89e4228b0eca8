#pragma once
// Applies transactions on several sessions at once where the binlog proves them
// independent: their write sets (unique key values of the rows they change) do not meet,
// or MariaDB committed them in one group. Everything else (statements, DDL, temporary
// tables, non-transactional engines, transactions too large to hold) runs alone on a
// serial session once everything before it has committed, and the last transaction
// commits last, so the target ends at the source's GTID position.
//
// Within the window, independent transactions may commit, and so be binlogged on the
// target, in a different order than on the source; their effect on the data is the same.
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "replay/binlog_applier.hpp"
#include "replay/table_keys.hpp"
#include "replay/write_set.hpp"

namespace pitr::replay {

class ParallelSessionTarget : public StatementTarget {
 public:
  ParallelSessionTarget(const capture::MysqlEndpoint& target, unsigned workers);
  ~ParallelSessionTarget() override;

  void observe(const binlog::EventHeader& header, Bytes raw,
               const binlog::FormatDescription& fd) override;
  void statement(const std::string& sql, StatementKind kind) override;
  void finish() override;

  // Transactions applied on the parallel sessions, and alone on the serial one.
  std::uint64_t parallel() const { return parallel_; }
  std::uint64_t alone() const { return alone_; }

 private:
  struct Work {
    std::uint64_t seq = 0;
    std::uint64_t after = 0;  // may start once every transaction up to this one committed
    std::shared_ptr<const std::string> format;  // the BINLOG statement of its FDE
    std::vector<std::string> statements;
    std::size_t bytes = 0;
  };

  void hold(const std::string& sql);
  void end_transaction();
  void run_alone();
  void schedule();
  std::uint64_t dependency(std::uint64_t seq);
  void submit(Work work);
  void drain();
  void wait(std::unique_lock<std::mutex>& lock, const std::function<bool()>& ready);
  void mark_committed(std::uint64_t seq);
  void worker(SessionTarget& session);
  bool committed_through(std::unique_lock<std::mutex>& lock, std::uint64_t seq);
  bool apply(SessionTarget& session, const Work& work, std::shared_ptr<const std::string>& format);
  void stop_workers();

  SessionTarget serial_;
  TableKeyCatalog catalog_;
  WriteSet write_set_;

  // The transaction being read.
  std::vector<std::string> pending_;
  std::size_t pending_bytes_ = 0;
  bool streaming_ = false;  // too large to hold: its statements go straight to serial_

  // Dependency tracking (reader thread only).
  std::uint64_t next_seq_ = 1;
  std::uint64_t last_alone_ = 0;
  std::unordered_map<std::uint64_t, std::uint64_t> last_writer_;
  std::optional<std::uint64_t> group_id_;
  std::uint64_t group_first_ = 0;
  std::optional<Work> held_;  // the newest transaction, submitted when the next one comes
  std::uint64_t parallel_ = 0, alone_ = 0;

  // Shared with the workers.
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Work> queue_;
  std::uint64_t committed_ = 0;              // every transaction up to here has committed
  std::set<std::uint64_t> committed_ahead_;  // committed above committed_
  std::size_t queued_bytes_ = 0;
  std::uint64_t submitted_ = 0;
  std::shared_ptr<const std::string> format_;
  bool stopping_ = false;
  std::exception_ptr error_;

  std::vector<std::unique_ptr<SessionTarget>> sessions_;
  std::vector<std::thread> threads_;
};

}  // namespace pitr::replay
