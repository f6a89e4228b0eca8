#pragma once
// Fetches objects before they are read, several at a time, and keeps them for a second read.
// A restore reads its binlog segments twice (once to plan, once to apply), one after the
// other; from object storage each would be a round trip per segment, twice. Over this
// store, the keys named by will_read() are downloaded in that order by a few workers, at
// most `window` keys ahead of the last one read, into unlinked temporary files in $TMPDIR
// (nothing is left behind, even after kill -9). Copies already read are dropped, most
// recently read first, beyond `max_kept_bytes`, so disk use is bounded; a dropped key is
// downloaded again if it is read again. It sits under EncryptedStore, so what it keeps is
// what the bucket holds. A copy that cannot be made (a full disk) is read from the store.
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "archive/storage/object_store.hpp"

namespace pitr::storage {

struct ReadAheadLimits {
  std::size_t workers = 8;
  std::size_t window = 32;                    // keys fetched ahead of the furthest read
  std::uint64_t max_kept_bytes = 2ull << 30;  // copies already read, kept for another read
  std::size_t max_kept_files = 256;
};

class ReadAheadStore : public ObjectStore {
 public:
  explicit ReadAheadStore(std::shared_ptr<ObjectStore> inner, ReadAheadLimits limits = {});
  ~ReadAheadStore() override;
  ReadAheadStore(const ReadAheadStore&) = delete;
  ReadAheadStore& operator=(const ReadAheadStore&) = delete;

  StorageCapabilities capabilities() const override { return inner_->capabilities(); }
  std::string describe() const override { return inner_->describe(); }
  void put(const std::string& key, const ByteSource& source, PutMode mode) override;
  void get(const std::string& key, const ByteSink& sink,
           const ByteRange& range = {}) const override;
  ListPage list_page(const std::string& prefix, const std::optional<std::string>& resume,
                     std::size_t max_objects) const override {
    return inner_->list_page(prefix, resume, max_objects);
  }
  std::optional<ObjectInfo> stat(const std::string& key) const override {
    return inner_->stat(key);
  }
  void remove(const std::string& key) override;
  void will_read(const std::vector<std::string>& keys) const override;

  // How many objects were downloaded ahead (for tests: each key at most once).
  std::size_t fetched() const;

  // An unlinked temporary file holding one object.
  struct KeptCopy;

 private:
  enum class State { kQueued, kFetching, kKept, kFailed };
  struct Entry {
    std::size_t position = 0;  // in queue_
    State state = State::kQueued;
    std::shared_ptr<const KeptCopy> copy;
    std::uint64_t last_read = 0;  // read_ticks_ at the last read; 0: not read yet
  };

  void work() const;
  void stop();
  // Waits for `key` when it is queued; its kept copy, or none to read from the store.
  std::shared_ptr<const KeptCopy> kept_copy(const std::string& key) const;
  void drop_read_copies_beyond_limits() const;  // with mutex_ held
  void forget(const std::string& key);

  std::shared_ptr<ObjectStore> inner_;
  ReadAheadLimits limits_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  mutable std::vector<std::string> queue_;
  mutable std::map<std::string, Entry> entries_;
  mutable std::size_t next_ = 0;     // the next queue_ position a worker takes
  mutable std::size_t reached_ = 0;  // one past the furthest position read
  mutable std::size_t fetched_ = 0;
  mutable std::uint64_t read_ticks_ = 0;
  mutable std::uint64_t kept_bytes_ = 0;
  mutable std::size_t kept_files_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace pitr::storage
