#pragma once
// An archive: its objects in a store (a local directory, an S3 bucket), and the local spool
// directory where capture keeps the open tails of logs (the only archive state that is a
// file by nature: appended to, fsynced, truncated). For an archive in a local directory the
// spool is that directory, so open tails sit beside the sealed segments as they always
// have. Every key comes from archive/archive_layout.hpp.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "archive/archive_layout.hpp"
#include "archive/storage/encryption_key.hpp"
#include "archive/storage/object_store.hpp"

namespace pitr::archive {

class Archive {
 public:
  // `encryption_key`: the key `store` encrypts with (storage::EncryptedStore), none for a
  // store that does not encrypt.
  Archive(std::shared_ptr<storage::ObjectStore> store, std::optional<fs::path> spool,
          std::shared_ptr<const storage::EncryptionKey> encryption_key = nullptr);
  // No archive yet (an option not filled in); using it is a logic error.
  Archive() = default;
  // The archive in a local directory, which is also its spool.
  static Archive local(const fs::path& root);

  // The same archive (spool, encryption) through `store`, a wrapper of this one's store.
  Archive over(std::shared_ptr<storage::ObjectStore> store) const {
    return Archive(std::move(store), spool_, encryption_key_);
  }

  storage::ObjectStore& store() const;
  const std::shared_ptr<storage::ObjectStore>& shared_store() const { return store_; }
  // For messages: "/backup/db1", "s3://bucket/prefix".
  std::string describe() const { return store().describe(); }
  const std::optional<fs::path>& spool() const { return spool_; }
  // The key its objects are encrypted with; null when they are not.
  const std::shared_ptr<const storage::EncryptionKey>& encryption_key() const {
    return encryption_key_;
  }
  // Where the spool holds `key`; throws when this archive was opened without a spool.
  fs::path spool_path(const std::string& key) const;

  // Writes the marker object when the archive is new; checks its format version otherwise.
  // Creates the spool directory when there is one.
  void create_or_check() const;
  // Throws when there is no pitr archive of a format this pitr reads, or when it is
  // encrypted and this archive was opened without its key (or with a key it does not need).
  void check_exists() const;
  // The same checks for an archive that exists; nothing for one not created yet.
  void check_if_exists() const;

  // Small objects (markers, records) read and written whole.
  std::optional<std::string> read_text(const std::string& key) const;
  void write_text(const std::string& key, const std::string& text,
                  storage::PutMode mode = storage::PutMode::kOverwrite) const;
  // Stores `text` under `key` only if nothing is there; false when the key is taken.
  bool create_text(const std::string& key, const std::string& text) const;

 private:
  void check_marker(const std::string& marker) const;
  void check_encryption(const nlohmann::json& marker) const;
  std::optional<std::string> marker_key_id(const nlohmann::json& marker) const;

  std::shared_ptr<storage::ObjectStore> store_;
  std::optional<fs::path> spool_;
  std::shared_ptr<const storage::EncryptionKey> encryption_key_;
};

}  // namespace pitr::archive
