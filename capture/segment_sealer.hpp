#pragma once
// Compresses handed-off open segments into sealed segments on background threads, so that
// receiving the binlog never waits for zstd or for the store. Two workers: one compresses
// the next segment while the other's object is being stored, and objects become visible
// strictly in the order they were handed off (a reader never sees a segment before the one
// in front of it, and recovery resumes after the last one). At most a few segments wait at
// a time: beyond that, submit() blocks (backpressure). A job learns its zstd level when it
// starts: the faster one when other jobs wait behind it, or when it was submitted as behind
// the server (capture/compression_levels.hpp).
// What it seals goes into record catalogs (archive/record_catalog.hpp): one per
// kRecordCatalogBatch objects, and the rest on finish().
// Thread-safe between the one capture thread calling it and its own workers.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "archive/file_io.hpp"
#include "archive/record_catalog.hpp"
#include "archive/segment_record.hpp"
#include "archive/storage/object_store.hpp"
#include "capture/compression_levels.hpp"

namespace pitr::capture {

class SegmentSealer {
 public:
  // Blocks until every job submitted earlier has stored its object; throws if one failed.
  using WaitTurn = std::function<void()>;
  // Seals one object at zstd `level`; calls wait_turn() once the object is written and
  // before it commits.
  using Job = std::function<archive::IndexedObject(int level, const WaitTurn& wait_turn)>;

  // `catalog_prefix`: where the record catalogs of what it seals go.
  SegmentSealer(storage::ObjectStore& store, CompressionLevels levels, std::string catalog_prefix);
  ~SegmentSealer();
  SegmentSealer(const SegmentSealer&) = delete;
  SegmentSealer& operator=(const SegmentSealer&) = delete;

  // Seals `record`'s range from the partial file (which holds the record's bytes from its
  // start on and is complete and fsynced) into the object `segment_key`, then removes the
  // partial. Rethrows the error of an earlier job that failed.
  void submit(archive::fs::path partial, archive::SegmentRecord record, std::string segment_key);
  // Runs a job that seals one object on a worker, in order with the others. `behind`: the
  // server already holds more than the next segment (capture is catching up), which the
  // queue alone does not show while the workers keep pace by taking the receiver's CPU.
  void submit(Job seal, bool behind = false);
  // Waits until every submitted job is done; rethrows a failure.
  void drain();
  // drain(), then stores the record catalog of what is not in one yet.
  void finish();
  // Adds an object sealed outside the workers to the record catalog.
  void catalog(archive::IndexedObject sealed) { catalog_.add(std::move(sealed)); }

  // Seals one partial in the calling thread (what a worker does for each job).
  static archive::IndexedObject seal_now(storage::ObjectStore& store,
                                         const archive::fs::path& partial,
                                         archive::SegmentRecord& record,
                                         const std::string& segment_key, int compression_level,
                                         const WaitTurn& before_commit = {});

 private:
  struct Queued {
    std::uint64_t turn;
    bool behind;
    Job job;
  };
  void work();
  void stop_workers();  // lets them finish the queue, then joins them
  void run(Queued queued, int level);
  void wait_turn(std::uint64_t turn);
  void rethrow_failure();

  static constexpr std::size_t kMaxPending = 4;
  static constexpr int kWorkers = 2;
  storage::ObjectStore& store_;
  CompressionLevels levels_;
  archive::RecordCatalogWriter catalog_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Queued> jobs_;
  std::uint64_t submitted_ = 0;  // turns handed out
  std::uint64_t committed_ = 0;  // every job up to this turn is done
  int busy_ = 0;
  bool stopping_ = false;
  std::exception_ptr failure_;
  std::vector<std::thread> workers_;
};

}  // namespace pitr::capture
