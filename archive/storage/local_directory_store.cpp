#include "archive/storage/local_directory_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "archive/file_io.hpp"

namespace pitr::storage {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kChunk = 1 << 20;

[[noreturn]] void fail(StorageErrorKind kind, const std::string& what, const fs::path& path,
                       int err) {
  throw StorageError(kind, fmt::format("{} {}: {}", what, path.string(), std::strerror(err)));
}

// Inside a catch block: rethrows file system failures (a full disk, a key that is a
// directory) as StorageError, anything else as it is.
[[noreturn]] void rethrow_as_storage_error(const char* what, const std::string& key) {
  try {
    throw;
  } catch (const archive::IoError& e) {
    throw StorageError(StorageErrorKind::kPermanent,
                       fmt::format("cannot {} {}: {}", what, key, e.what()));
  } catch (const fs::filesystem_error& e) {
    throw StorageError(StorageErrorKind::kPermanent,
                       fmt::format("cannot {} {}: {}", what, key, e.what()));
  }
}

fs::path temporary_beside(const fs::path& path) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  return path.parent_path() / fmt::format(".{}.{:016x}.tmp", path.filename().string(), random());
}

std::int64_t modified_unix(const fs::path& path) {
  struct ::stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mtim.tv_sec;
}

// Writes everything `source` gives into `path` (created exclusively) and fsyncs it.
void write_from(const fs::path& path, const ByteSource& source) {
  archive::File file(path, archive::File::Mode::kCreateExclusive);
  std::vector<std::uint8_t> buffer(kChunk);
  while (auto n = source(buffer)) file.write_all(Bytes(buffer).first(n));
  file.sync();
}

}  // namespace

LocalDirectoryStore::LocalDirectoryStore(fs::path root) : root_(std::move(root)) {}

StorageCapabilities LocalDirectoryStore::capabilities() const {
  return {.atomic_if_absent = true, .durable_on_return = true, .local_files = true};
}

fs::path LocalDirectoryStore::path_of(const std::string& key) const {
  check_key(key);
  return root_ / key;
}

void LocalDirectoryStore::ensure_directory(const fs::path& dir) const {
  if (dir.empty() || fs::is_directory(dir)) return;
  ensure_directory(dir.parent_path());
  std::error_code ec;
  if (!fs::create_directory(dir, ec) && ec)
    throw StorageError(StorageErrorKind::kPermanent,
                       fmt::format("cannot create directory {}: {}", dir.string(), ec.message()));
  archive::fsync_directory(dir.parent_path());
}

// Moves `temporary` to `path` unless `path` exists, in one step: renameat2(RENAME_NOREPLACE),
// or link(2) where the file system has no such rename. Returns false if `path` exists.
bool rename_if_absent(const fs::path& temporary, const fs::path& path) {
  if (::renameat2(AT_FDCWD, temporary.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0)
    return true;
  if (errno == EEXIST) return false;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    fail(StorageErrorKind::kPermanent, "cannot create", path, errno);
  if (::link(temporary.c_str(), path.c_str()) != 0) {
    if (errno == EEXIST) return false;
    fail(StorageErrorKind::kPermanent, "cannot create", path, errno);
  }
  fs::remove(temporary);
  return true;
}

void LocalDirectoryStore::put(const std::string& key, const ByteSource& source, PutMode mode) {
  auto path = path_of(key);
  auto temporary = temporary_beside(path);
  try {
    ensure_directory(path.parent_path());
    write_from(temporary, source);
    if (mode == PutMode::kOverwrite)
      fs::rename(temporary, path);
    else if (!rename_if_absent(temporary, path))
      throw already_exists_error(key);
    archive::fsync_directory(path.parent_path());
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    rethrow_as_storage_error("store", key);
  }
}

void LocalDirectoryStore::get(const std::string& key, const ByteSink& sink,
                              const ByteRange& range) const {
  try {
    auto path = path_of(key);
    if (!fs::is_regular_file(path))
      throw StorageError(StorageErrorKind::kNotFound, fmt::format("{} does not exist", key));
    archive::File file(path, archive::File::Mode::kRead);
    auto size = file.size();
    if (range.offset > size)
      throw StorageError(
          StorageErrorKind::kPermanent,
          fmt::format("{} has {} bytes; cannot read from offset {}", key, size, range.offset));
    auto end = range.length ? std::min(size, range.offset + *range.length) : size;
    std::vector<std::uint8_t> buffer(std::min<std::uint64_t>(kChunk, end - range.offset));
    for (auto at = range.offset; at < end;) {
      auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), end - at));
      auto n = file.pread_some(std::span(buffer).first(want), at);
      if (n == 0)
        throw StorageError(StorageErrorKind::kPermanent,
                           fmt::format("{} ended at {} while being read", key, at));
      sink(Bytes(buffer).first(n));
      at += n;
    }
  } catch (const StorageError&) {
    throw;
  } catch (...) {
    rethrow_as_storage_error("read", key);
  }
}

ListPage LocalDirectoryStore::list_page(const std::string& prefix,
                                        const std::optional<std::string>& resume,
                                        std::size_t max_objects) const {
  check_prefix(prefix);
  max_objects = std::max<std::size_t>(max_objects, 1);
  auto slash = prefix.rfind('/');
  auto base = slash == std::string::npos ? root_ : root_ / prefix.substr(0, slash);
  std::vector<ObjectInfo> all;
  std::error_code ec, missing;
  if (fs::is_directory(base, missing)) {
    // Files removed while the walk runs are passed over; a directory that cannot be read
    // fails the listing (it must never look shorter than it is).
    for (auto it = fs::recursive_directory_iterator(base, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      auto name = it->path().filename().string();
      if (name.front() == '.') {  // temporary files, and nothing a key can name
        std::error_code dir_ec;
        if (it->is_directory(dir_ec)) it.disable_recursion_pending();
        continue;
      }
      std::error_code file_ec;
      if (!it->is_regular_file(file_ec)) continue;
      auto key = it->path().lexically_relative(root_).generic_string();
      if (!key.starts_with(prefix) || (resume && key <= *resume)) continue;
      auto size = it->file_size(file_ec);
      if (!file_ec) all.push_back({key, size, modified_unix(it->path())});
    }
  }
  if (ec)
    throw StorageError(StorageErrorKind::kPermanent,
                       fmt::format("cannot list {}: {}", base.string(), ec.message()));
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.key < b.key; });
  ListPage page;
  if (all.size() > max_objects) {
    all.resize(max_objects);
    page.resume = all.back().key;
  }
  page.objects = std::move(all);
  return page;
}

std::optional<ObjectInfo> LocalDirectoryStore::stat(const std::string& key) const {
  auto path = path_of(key);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  return ObjectInfo{key, fs::file_size(path), modified_unix(path)};
}

void LocalDirectoryStore::remove(const std::string& key) {
  auto path = path_of(key);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return;
    fail(StorageErrorKind::kPermanent, "cannot remove", path, errno);
  }
  archive::fsync_directory(path.parent_path());
}

}  // namespace pitr::storage
