#pragma once
// Fetches objects before they are read, several at a time, and keeps them until it goes.
// A restore reads its binlog segments twice (once to plan, once to apply), one after the
// other; from object storage each would be a round trip per segment, twice. Over this
// store, the keys named by will_read() are downloaded in that order by a few workers, at
// most `window` keys ahead of the last one read, into a private temporary directory; each
// is fetched once and every later read of it is local. It sits under EncryptedStore, so what
// it keeps on disk is what the bucket holds.
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "archive/storage/object_store.hpp"

namespace pitr::storage {

class ReadAheadStore : public ObjectStore {
 public:
  explicit ReadAheadStore(std::shared_ptr<ObjectStore> inner, std::size_t workers = 8,
                          std::size_t window = 32);
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

 private:
  enum class State { kQueued, kFetching, kKept, kFailed };
  struct Entry {
    std::size_t position = 0;  // in queue_
    State state = State::kQueued;
    std::filesystem::path file;
  };

  void work() const;
  void stop();  // the workers, then the kept copies
  void fetch(const std::string& key, const std::filesystem::path& file) const;
  // Waits for `key` when it is queued; its kept copy, or none to read from the store.
  std::optional<std::filesystem::path> kept_copy(const std::string& key) const;
  void forget(const std::string& key);

  std::shared_ptr<ObjectStore> inner_;
  std::size_t window_;
  std::filesystem::path dir_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  mutable std::vector<std::string> queue_;
  mutable std::map<std::string, Entry> entries_;
  mutable std::size_t next_ = 0;     // the next queue_ position a worker takes
  mutable std::size_t reached_ = 0;  // one past the furthest position read
  mutable std::size_t fetched_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace pitr::storage
