#include "archive/archive.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "archive/file_io.hpp"
#include "archive/storage/local_directory_store.hpp"
#include "archive/storage/object_cipher.hpp"

namespace pitr::archive {

Archive::Archive(std::shared_ptr<storage::ObjectStore> store, std::optional<fs::path> spool,
                 std::shared_ptr<const storage::EncryptionKey> encryption_key)
    : store_(std::move(store)),
      spool_(std::move(spool)),
      encryption_key_(std::move(encryption_key)) {}

Archive Archive::local(const fs::path& root) {
  return Archive(std::make_shared<storage::LocalDirectoryStore>(root), root);
}

storage::ObjectStore& Archive::store() const {
  if (!store_) throw std::logic_error("no archive was given");
  return *store_;
}

fs::path Archive::spool_path(const std::string& key) const {
  if (!spool_)
    throw IoError(fmt::format(
        "the open tails of {} live in a capture's spool directory; name it with --spool",
        describe()));
  return *spool_ / key;
}

std::optional<std::string> Archive::read_text(const std::string& key) const {
  try {
    auto bytes = store().get_bytes(key);
    return std::string(bytes.begin(), bytes.end());
  } catch (const storage::StorageError& e) {
    if (e.kind() == storage::StorageErrorKind::kNotFound) return std::nullopt;
    throw;
  }
}

void Archive::write_text(const std::string& key, const std::string& text,
                         storage::PutMode mode) const {
  store().put_bytes(key, as_bytes(text), mode);
}

bool Archive::create_text(const std::string& key, const std::string& text) const {
  try {
    write_text(key, text, storage::PutMode::kIfAbsent);
    return true;
  } catch (const storage::StorageError& e) {
    if (e.kind() != storage::StorageErrorKind::kAlreadyExists) throw;
    return false;
  }
}

void Archive::check_exists() const {
  auto marker = read_text(layout::kMarker);
  if (!marker)
    throw IoError(fmt::format(
        "{} is not a pitr archive (no {}); start `pitr capture --archive {}` to create one",
        describe(), layout::kMarker, describe()));
  check_marker(*marker);
}

void Archive::check_if_exists() const {
  if (auto marker = read_text(layout::kMarker)) check_marker(*marker);
}

void Archive::check_marker(const std::string& marker) const {
  nlohmann::json meta;
  int version = 0;
  std::string format;
  try {
    meta = nlohmann::json::parse(marker);
    version = meta.value("version", 0);
    format = meta.value("format", "");
  } catch (const nlohmann::json::exception& e) {
    throw IoError(fmt::format("{}/{} is damaged: {}", describe(), layout::kMarker, e.what()));
  }
  if (format != "pitr-archive" || version < 1 || version > kArchiveFormatVersion)
    throw IoError(
        fmt::format("{} has archive format version {}, this pitr reads 1 to {}; use a newer pitr",
                    describe(), version, kArchiveFormatVersion));
  check_encryption(meta);
}

// The key id the marker names (none: not encrypted); throws for an encryption this pitr
// does not know.
std::optional<std::string> Archive::marker_key_id(const nlohmann::json& marker) const {
  if (!marker.contains("encryption")) return std::nullopt;
  const auto& e = marker["encryption"];
  if (!e.is_object() || !e.contains("key_id") || !e["key_id"].is_string())
    throw IoError(fmt::format("{}/{} is damaged: its \"encryption\" names no key id", describe(),
                              layout::kMarker));
  if (e.value("cipher", "") != "AES-256-GCM" ||
      e.value("chunk_bytes", std::uint64_t{0}) != storage::ObjectCipher::kChunk)
    throw IoError(
        fmt::format("{} is encrypted in a way this pitr does not know ({}); use a "
                    "newer pitr",
                    describe(), e.dump()));
  return e["key_id"].get<std::string>();
}

void Archive::check_encryption(const nlohmann::json& marker) const {
  auto archive_key = marker_key_id(marker);
  std::optional<std::string> given;
  if (encryption_key_) given = encryption_key_->id();
  if (archive_key == given) return;
  if (!given)
    throw IoError(
        fmt::format("{} is encrypted (key id {}); give its key with --encryption-key-file FILE or "
                    "PITR_ENCRYPTION_KEY_FILE",
                    describe(), *archive_key));
  if (!archive_key)
    throw IoError(fmt::format(
        "{} is not encrypted, but an encryption key was given (key id {}); an archive is "
        "encrypted from its creation on: drop the key, or start a new archive with it",
        describe(), *given));
  throw IoError(fmt::format(
      "the encryption key given (key id {}) is not the key of {} (key id {}); give the key it "
      "was created with",
      *given, describe(), *archive_key));
}

void Archive::create_or_check() const {
  if (spool_ && !fs::is_directory(*spool_)) {
    fs::create_directories(*spool_);
    fsync_directory(spool_->parent_path());
  }
  if (store().exists(layout::kMarker)) return check_exists();
  // An unencrypted archive stays version 1, which every pitr reads; an encrypted one is
  // version 2, so a pitr that cannot decrypt refuses it by its version.
  nlohmann::json meta = {{"format", "pitr-archive"}, {"version", encryption_key_ ? 2 : 1}};
  if (encryption_key_)
    meta["encryption"] = {{"cipher", "AES-256-GCM"},
                          {"chunk_bytes", storage::ObjectCipher::kChunk},
                          {"key_id", encryption_key_->id()}};
  if (!create_text(layout::kMarker, meta.dump(2) + "\n")) check_exists();  // a race: check it
}

}  // namespace pitr::archive
