#pragma once
// Compresses handed-off open segments into sealed segments on a background thread, in
// the order they were handed off, so that receiving the binlog never waits for zstd.
// At most a few segments wait at a time: beyond that, submit() blocks (backpressure).
// Thread-safe between the one capture thread calling it and its own worker.
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "archive/file_io.hpp"
#include "archive/segment_record.hpp"
#include "archive/storage/object_store.hpp"

namespace pitr::capture {

class SegmentSealer {
 public:
  SegmentSealer(storage::ObjectStore& store, int compression_level);
  ~SegmentSealer();
  SegmentSealer(const SegmentSealer&) = delete;
  SegmentSealer& operator=(const SegmentSealer&) = delete;

  // Seals `record`'s range from the partial file (which holds the record's bytes from its
  // start on and is complete and fsynced) into the object `segment_key`, then removes the
  // partial. Rethrows the error of an earlier job that failed.
  void submit(archive::fs::path partial, archive::SegmentRecord record, std::string segment_key);
  // Runs any sealing job on the worker, in order with the others.
  void submit(std::function<void()> job);
  // Waits until every submitted job is done; rethrows a failure.
  void drain();

  // Seals one partial in the calling thread (what the worker does for each job).
  static void seal_now(storage::ObjectStore& store, const archive::fs::path& partial,
                       archive::SegmentRecord& record, const std::string& segment_key,
                       int compression_level);

 private:
  using Job = std::function<void()>;
  void work();
  void rethrow_failure();

  static constexpr std::size_t kMaxPending = 4;
  storage::ObjectStore& store_;
  int level_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> jobs_;
  bool busy_ = false;
  bool stopping_ = false;
  std::exception_ptr failure_;
  std::thread worker_;
};

}  // namespace pitr::capture
