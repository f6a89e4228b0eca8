#include "replay/parallel_apply.hpp"

#include <algorithm>

namespace pitr::replay {
namespace {

// A transaction larger than this is not held in memory: it streams to the serial session.
constexpr std::size_t kMostHeldBytes = 4u << 20;
// Bounds on the transactions read ahead of the workers.
constexpr std::size_t kMostQueuedBytes = 64u << 20;
constexpr std::size_t kMostQueuedPerWorker = 16;
// last_writer_ forgets keys whose writer has committed once it holds this many.
constexpr std::size_t kMostTrackedKeys = 1u << 20;

constexpr unsigned kDeadlock = 1213, kLockWaitTimeout = 1205;
constexpr int kRetries = 5;

}  // namespace

ParallelSessionTarget::ParallelSessionTarget(const capture::MysqlEndpoint& target, unsigned workers)
    : serial_(target),
      catalog_(target),
      write_set_([this](const std::string& db, const std::string& table) -> const TableKeys& {
        return catalog_.keys(db, table);
      }) {
  // Sessions are opened here, on one thread; the client library's set-up is not
  // thread-safe.
  for (unsigned i = 0; i < workers; ++i)
    sessions_.push_back(std::make_unique<SessionTarget>(target));
  for (auto& session : sessions_) threads_.emplace_back([this, s = session.get()] { worker(*s); });
}

ParallelSessionTarget::~ParallelSessionTarget() {
  {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = std::make_exception_ptr(std::runtime_error("replay abandoned"));
    queue_.clear();
  }
  stop_workers();
}

void ParallelSessionTarget::stop_workers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void ParallelSessionTarget::observe(const binlog::EventHeader& header, Bytes raw,
                                    const binlog::FormatDescription& fd) {
  if (!streaming_) write_set_.event(header, raw, fd);
}

void ParallelSessionTarget::statement(const std::string& sql, StatementKind kind) {
  if (kind == StatementKind::kFormatDescription) {
    serial_.statement(sql, kind);
    format_ = std::make_shared<const std::string>(sql);
    return;
  }
  if (streaming_)
    serial_.statement(sql, kind);
  else
    hold(sql);
  if (kind == StatementKind::kCommit) end_transaction();
}

void ParallelSessionTarget::hold(const std::string& sql) {
  pending_.push_back(sql);
  pending_bytes_ += sql.size();
  if (pending_bytes_ <= kMostHeldBytes) return;
  // Too large to hold: everything before it commits, then it streams to the serial session.
  drain();
  for (const auto& s : pending_) serial_.statement(s, StatementKind::kStatement);
  pending_.clear();
  pending_bytes_ = 0;
  streaming_ = true;
}

void ParallelSessionTarget::end_transaction() {
  if (streaming_ || write_set_.serial())
    run_alone();
  else
    schedule();
  pending_.clear();
  pending_bytes_ = 0;
  streaming_ = false;
  write_set_.reset();
}

void ParallelSessionTarget::run_alone() {
  drain();
  for (const auto& s : pending_) serial_.statement(s, StatementKind::kStatement);
  serial_.finish();
  auto seq = next_seq_++;
  ++alone_;
  {
    std::lock_guard lock(mutex_);
    committed_ = submitted_ = seq;
  }
  last_alone_ = seq;
  if (write_set_.ran_statement() || streaming_) catalog_.forget();
}

void ParallelSessionTarget::schedule() {
  Work work;
  work.seq = next_seq_++;
  ++parallel_;
  work.after = dependency(work.seq);
  work.format = format_;
  work.bytes = pending_bytes_;
  work.statements = std::move(pending_);
  // The newest transaction waits for the next one: at the end it is made to commit last.
  if (held_) submit(std::move(*held_));
  held_ = std::move(work);
}

std::uint64_t ParallelSessionTarget::dependency(std::uint64_t seq) {
  auto group = write_set_.commit_id();
  bool same_group = group && group == group_id_;
  if (!same_group) {
    group_id_ = group;
    group_first_ = seq;
  }
  std::uint64_t after = last_alone_;
  for (auto hash : write_set_.hashes()) {
    auto& writer = last_writer_[hash];
    if (writer == seq) continue;  // a key the transaction changes twice
    // One group commit on the source proves its members independent of each other.
    auto depends_on = same_group && writer >= group_first_ ? group_first_ - 1 : writer;
    after = std::max(after, depends_on);
    writer = seq;
  }
  if (last_writer_.size() > kMostTrackedKeys) {
    std::uint64_t committed;
    {
      std::lock_guard lock(mutex_);
      committed = committed_;
    }
    std::erase_if(last_writer_, [&](const auto& kv) { return kv.second <= committed; });
  }
  return after;
}

void ParallelSessionTarget::submit(Work work) {
  std::unique_lock lock(mutex_);
  wait(lock, [&] {
    return queue_.size() < kMostQueuedPerWorker * sessions_.size() &&
           queued_bytes_ < kMostQueuedBytes;
  });
  submitted_ = work.seq;
  queued_bytes_ += work.bytes;
  queue_.push_back(std::move(work));
  lock.unlock();
  changed_.notify_all();
}

void ParallelSessionTarget::drain() {
  if (held_) {
    submit(std::move(*held_));
    held_.reset();
  }
  std::unique_lock lock(mutex_);
  wait(lock, [&] { return committed_ >= submitted_; });
}

// Waits on the reader's side; a worker's error ends the replay with that error.
void ParallelSessionTarget::wait(std::unique_lock<std::mutex>& lock,
                                 const std::function<bool()>& ready) {
  changed_.wait(lock, [&] { return error_ || ready(); });
  if (error_) std::rethrow_exception(error_);
}

void ParallelSessionTarget::finish() {
  // The last transaction commits after every other, so that the target's GTID position is
  // the source's.
  if (held_) held_->after = held_->seq - 1;
  drain();
  serial_.finish();
  stop_workers();
  std::lock_guard lock(mutex_);
  if (error_) std::rethrow_exception(error_);
}

void ParallelSessionTarget::mark_committed(std::uint64_t seq) {
  {
    std::lock_guard lock(mutex_);
    committed_ahead_.insert(seq);
    while (!committed_ahead_.empty() && *committed_ahead_.begin() == committed_ + 1) {
      committed_ahead_.erase(committed_ahead_.begin());
      ++committed_;
    }
  }
  changed_.notify_all();
}

void ParallelSessionTarget::worker(SessionTarget& session) {
  std::shared_ptr<const std::string> format;
  try {
    for (;;) {
      Work work;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return error_ || stopping_ || !queue_.empty(); });
        if (error_ || queue_.empty()) return;
        work = std::move(queue_.front());
        queue_.pop_front();
        queued_bytes_ -= work.bytes;
        changed_.notify_all();
        if (!committed_through(lock, work.after)) return;
      }
      if (!apply(session, work, format)) return;
      mark_committed(work.seq);
    }
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    changed_.notify_all();
  }
}

// On a worker: waits until every transaction up to `seq` has committed; false once the
// replay has failed.
bool ParallelSessionTarget::committed_through(std::unique_lock<std::mutex>& lock,
                                              std::uint64_t seq) {
  changed_.wait(lock, [&] { return error_ || committed_ >= seq; });
  return !error_;
}

// False when the replay failed elsewhere while this transaction waited for a retry.
bool ParallelSessionTarget::apply(SessionTarget& session, const Work& work,
                                  std::shared_ptr<const std::string>& format) {
  for (int attempt = 1;; ++attempt) {
    try {
      if (work.format && work.format != format) {
        session.statement(*work.format, StatementKind::kFormatDescription);
        format = work.format;
      }
      for (const auto& s : work.statements) session.statement(s, StatementKind::kStatement);
      session.finish();
      return true;
    } catch (const capture::SqlError& e) {
      // Independent transactions can still meet on an index gap; the server then picks a
      // victim. It is rolled back and run again once everything before it has committed.
      if ((e.code() != kDeadlock && e.code() != kLockWaitTimeout) || attempt == kRetries) throw;
      session.statement("ROLLBACK", StatementKind::kStatement);
      session.finish();
      std::unique_lock lock(mutex_);
      if (!committed_through(lock, work.seq - 1)) return false;
    }
  }
}

}  // namespace pitr::replay
