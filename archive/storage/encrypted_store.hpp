#pragma once
// An archive encrypted at rest: every object but the archive's marker is stored through
// ObjectCipher (AES-256-GCM in authenticated 16 KiB chunks, after compression), over any
// other store. Sizes and byte ranges are those of the plaintext, so callers cannot tell
// the difference, and a ranged read fetches only the chunks it needs (and the header).
// Reads of an object that was altered, cut short, reordered, swapped for another or written
// with another key throw ObjectRejected.
#include <memory>
#include <set>

#include "archive/storage/encryption_key.hpp"
#include "archive/storage/object_store.hpp"

namespace pitr::storage {

class EncryptedStore : public ObjectStore {
 public:
  // `plain_keys` are stored as they are: what a reader must see before it has the key.
  EncryptedStore(std::shared_ptr<ObjectStore> inner, EncryptionKey key,
                 std::set<std::string> plain_keys);

  StorageCapabilities capabilities() const override { return inner_->capabilities(); }
  std::string describe() const override { return inner_->describe(); }
  void put(const std::string& key, const ByteSource& source, PutMode mode) override;
  void get(const std::string& key, const ByteSink& sink,
           const ByteRange& range = {}) const override;
  ListPage list_page(const std::string& prefix, const std::optional<std::string>& resume,
                     std::size_t max_objects) const override;
  std::optional<ObjectInfo> stat(const std::string& key) const override;
  void remove(const std::string& key) override { inner_->remove(key); }
  void will_read(const std::vector<std::string>& keys) const override { inner_->will_read(keys); }

 private:
  bool encrypted(const std::string& key) const { return !plain_keys_.contains(key); }
  ObjectInfo as_plain(ObjectInfo info) const;

  std::shared_ptr<ObjectStore> inner_;
  EncryptionKey key_;
  std::set<std::string> plain_keys_;
};

}  // namespace pitr::storage
