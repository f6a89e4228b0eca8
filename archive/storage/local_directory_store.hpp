#pragma once
// The archive in a local directory: a key is a relative path under the root. Writes follow
// the durability rules (temporary name, fsync, rename or link, fsync the directory), so an
// object is either absent or complete after a crash. Temporary files are hidden names
// (".<name>.<random>.tmp") that listings skip.
#include <filesystem>

#include "archive/storage/object_store.hpp"

namespace pitr::storage {

class LocalDirectoryStore : public ObjectStore {
 public:
  explicit LocalDirectoryStore(std::filesystem::path root);

  StorageCapabilities capabilities() const override;
  std::string describe() const override { return root_.string(); }
  void put(const std::string& key, const ByteSource& source, PutMode mode) override;
  void get(const std::string& key, const ByteSink& sink,
           const ByteRange& range = {}) const override;
  ListPage list_page(const std::string& prefix, const std::optional<std::string>& resume,
                     std::size_t max_objects) const override;
  std::optional<ObjectInfo> stat(const std::string& key) const override;
  void remove(const std::string& key) override;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path path_of(const std::string& key) const;
  void ensure_directory(const std::filesystem::path& dir) const;
  std::filesystem::path root_;
};

}  // namespace pitr::storage
