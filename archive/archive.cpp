#include "archive/archive.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "archive/file_io.hpp"
#include "archive/storage/local_directory_store.hpp"

namespace pitr::archive {

Archive::Archive(std::shared_ptr<storage::ObjectStore> store, std::optional<fs::path> spool)
    : store_(std::move(store)), spool_(std::move(spool)) {}

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
  int version = 0;
  std::string format;
  try {
    auto meta = nlohmann::json::parse(*marker);
    version = meta.value("version", 0);
    format = meta.value("format", "");
  } catch (const nlohmann::json::exception& e) {
    throw IoError(fmt::format("{}/{} is damaged: {}", describe(), layout::kMarker, e.what()));
  }
  if (format != "pitr-archive" || version < 1 || version > kArchiveFormatVersion)
    throw IoError(
        fmt::format("{} has archive format version {}, this pitr reads 1 to {}; use a newer pitr",
                    describe(), version, kArchiveFormatVersion));
}

void Archive::create_or_check() const {
  if (spool_ && !fs::is_directory(*spool_)) {
    fs::create_directories(*spool_);
    fsync_directory(spool_->parent_path());
  }
  if (store().exists(layout::kMarker)) return check_exists();
  nlohmann::json meta = {{"format", "pitr-archive"}, {"version", kArchiveFormatVersion}};
  if (!create_text(layout::kMarker, meta.dump(2) + "\n")) check_exists();  // a race: check it
}

}  // namespace pitr::archive
