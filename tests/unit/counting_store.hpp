#pragma once
// A local store that counts the GETs each key gets, for tests of what a reader fetches.
#include <map>
#include <mutex>
#include <string>

#include "archive/storage/local_directory_store.hpp"

namespace pitr::test {

class CountingStore : public storage::LocalDirectoryStore {
 public:
  using LocalDirectoryStore::LocalDirectoryStore;
  void get(const std::string& key, const storage::ByteSink& sink,
           const storage::ByteRange& range) const override {
    {
      std::lock_guard lock(mutex);
      ++gets[key];
    }
    LocalDirectoryStore::get(key, sink, range);
  }
  int gets_of(const std::string& key) const {
    std::lock_guard lock(mutex);
    auto it = gets.find(key);
    return it == gets.end() ? 0 : it->second;
  }
  std::size_t keys_fetched() const {
    std::lock_guard lock(mutex);
    return gets.size();
  }
  void forget() {
    std::lock_guard lock(mutex);
    gets.clear();
  }

 private:
  mutable std::mutex mutex;
  mutable std::map<std::string, int> gets;
};

}  // namespace pitr::test
