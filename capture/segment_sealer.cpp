#include "capture/segment_sealer.hpp"

#include "archive/segment_file.hpp"

namespace pitr::capture {

SegmentSealer::SegmentSealer(storage::ObjectStore& store, int compression_level,
                             std::string catalog_prefix)
    : store_(store),
      level_(compression_level),
      catalog_(store, std::move(catalog_prefix)),
      worker_([this] { work(); }) {}

SegmentSealer::~SegmentSealer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

archive::IndexedObject SegmentSealer::seal_now(storage::ObjectStore& store,
                                               const archive::fs::path& partial,
                                               archive::SegmentRecord& record,
                                               const std::string& segment_key,
                                               int compression_level) {
  archive::IndexedObject sealed;
  {
    archive::File source(partial, archive::File::Mode::kRead);
    sealed =
        archive::write_segment(store, segment_key, source, record.start, record, compression_level);
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
          key = std::move(segment_key)]() mutable {
    return seal_now(store_, partial, record, key, level_);
  });
}

void SegmentSealer::submit(std::function<archive::IndexedObject()> job) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return jobs_.size() < kMaxPending || failure_; });
  rethrow_failure();
  jobs_.push_back(std::move(job));
  changed_.notify_all();
}

void SegmentSealer::drain() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return (jobs_.empty() && !busy_) || failure_; });
  rethrow_failure();
}

void SegmentSealer::finish() {
  drain();
  catalog_.flush();
}

void SegmentSealer::work() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return !jobs_.empty() || stopping_; });
    // On shutdown the queue is still finished: every queued partial is complete.
    if (jobs_.empty() || failure_) return;
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    busy_ = true;
    lock.unlock();
    try {
      catalog_.add(job());
    } catch (...) {
      lock.lock();
      failure_ = std::current_exception();
      busy_ = false;
      changed_.notify_all();
      return;
    }
    lock.lock();
    busy_ = false;
    changed_.notify_all();
  }
}

}  // namespace pitr::capture
