#include "capture/segment_sealer.hpp"

#include "archive/segment_file.hpp"

namespace pitr::capture {
namespace {

// Thrown into a job whose turn will never come because an earlier one failed; that earlier
// failure is the one reported.
struct EarlierJobFailed {};

}  // namespace

SegmentSealer::SegmentSealer(storage::ObjectStore& store, CompressionLevels levels,
                             std::string catalog_prefix)
    : store_(store), levels_(levels), catalog_(store, std::move(catalog_prefix)) {
  try {
    for (int i = 0; i < kWorkers; ++i) workers_.emplace_back([this] { work(); });
  } catch (...) {  // a thread that could not start: the ones that did are joined
    stop_workers();
    throw;
  }
}

SegmentSealer::~SegmentSealer() {
  stop_workers();
}

void SegmentSealer::stop_workers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& worker : workers_) worker.join();
}

archive::IndexedObject SegmentSealer::seal_now(
    storage::ObjectStore& store, const archive::fs::path& partial, archive::SegmentRecord& record,
    const std::string& segment_key, int compression_level, const WaitTurn& before_commit) {
  archive::IndexedObject sealed;
  {
    archive::File source(partial, archive::File::Mode::kRead);
    sealed = archive::write_segment(store, segment_key, source, record.start, record,
                                    compression_level, before_commit);
  }
  archive::fs::remove(partial);
  archive::fsync_directory(partial.parent_path());
  return sealed;
}

void SegmentSealer::rethrow_failure() {
  if (failure_) std::rethrow_exception(failure_);
}

void SegmentSealer::submit(archive::fs::path partial, archive::SegmentRecord record,
                           std::string segment_key) {
  submit([this, partial = std::move(partial), record = std::move(record),
          key = std::move(segment_key)](int level, const WaitTurn& wait_turn) mutable {
    return seal_now(store_, partial, record, key, level, wait_turn);
  });
}

void SegmentSealer::submit(Job job, bool behind) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return jobs_.size() < kMaxPending || failure_; });
  rethrow_failure();
  jobs_.push_back({++submitted_, behind, std::move(job)});
  changed_.notify_all();
}

void SegmentSealer::drain() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return (jobs_.empty() && busy_ == 0) || failure_; });
  rethrow_failure();
}

void SegmentSealer::finish() {
  drain();
  catalog_.flush();
}

void SegmentSealer::wait_turn(std::uint64_t turn) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return committed_ + 1 >= turn || failure_; });
  if (committed_ + 1 < turn) throw EarlierJobFailed{};
}

void SegmentSealer::run(Queued queued, int level) {
  auto turn = queued.turn;
  auto sealed = queued.job(level, [this, turn] { wait_turn(turn); });
  // A job that stored nothing new (its object was there already) may return early: it still
  // completes in its turn.
  wait_turn(turn);
  catalog_.add(std::move(sealed));
}

void SegmentSealer::work() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return !jobs_.empty() || stopping_ || failure_; });
    // On shutdown the queue is still finished: every queued partial is complete.
    if (jobs_.empty() || failure_) return;
    auto queued = std::move(jobs_.front());
    jobs_.pop_front();
    bool catching_up = queued.behind || !jobs_.empty();
    int level = catching_up ? levels_.catching_up : levels_.steady;
    auto turn = queued.turn;
    ++busy_;
    lock.unlock();
    std::exception_ptr failure;
    try {
      run(std::move(queued), level);
    } catch (const EarlierJobFailed&) {
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    --busy_;
    if (failure && !failure_) failure_ = failure;
    if (!failure_) committed_ = turn;
    changed_.notify_all();
    if (failure_) return;
  }
}

}  // namespace pitr::capture
