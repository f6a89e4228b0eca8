#pragma once
// Compresses handed-off open segments into sealed segments on a background thread, in
// the order they were handed off, so that receiving the binlog never waits for zstd.
// At most a few segments wait at a time: beyond that, submit() blocks (backpressure).
// What it seals goes into record catalogs (archive/record_catalog.hpp): one per
// kRecordCatalogBatch objects, and the rest on finish().
// Thread-safe between the one capture thread calling it and its own worker.
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "archive/file_io.hpp"
#include "archive/record_catalog.hpp"
#include "archive/segment_record.hpp"
#include "archive/storage/object_store.hpp"

namespace pitr::capture {

class SegmentSealer {
 public:
  // `catalog_prefix`: where the record catalogs of what it seals go.
  SegmentSealer(storage::ObjectStore& store, int compression_level, std::string catalog_prefix);
  ~SegmentSealer();
  SegmentSealer(const SegmentSealer&) = delete;
  SegmentSealer& operator=(const SegmentSealer&) = delete;

  // Seals `record`'s range from the partial file (which holds the record's bytes from its
  // start on and is complete and fsynced) into the object `segment_key`, then removes the
  // partial. Rethrows the error of an earlier job that failed.
  void submit(archive::fs::path partial, archive::SegmentRecord record, std::string segment_key);
  // Runs a job that seals one object on the worker, in order with the others.
  void submit(std::function<archive::IndexedObject()> seal);
  // Waits until every submitted job is done; rethrows a failure.
  void drain();
  // drain(), then stores the record catalog of what is not in one yet.
  void finish();
  // Adds an object sealed outside the worker to the record catalog.
  void catalog(archive::IndexedObject sealed) { catalog_.add(std::move(sealed)); }

  // Seals one partial in the calling thread (what the worker does for each job).
  static archive::IndexedObject seal_now(storage::ObjectStore& store,
                                         const archive::fs::path& partial,
                                         archive::SegmentRecord& record,
                                         const std::string& segment_key, int compression_level);

 private:
  using Job = std::function<archive::IndexedObject()>;
  void work();
  void rethrow_failure();

  static constexpr std::size_t kMaxPending = 4;
  storage::ObjectStore& store_;
  int level_;
  archive::RecordCatalogWriter catalog_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> jobs_;
  bool busy_ = false;
  bool stopping_ = false;
  std::exception_ptr failure_;
  std::thread worker_;
};

}  // namespace pitr::capture
