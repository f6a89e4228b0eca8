#pragma once
// The archive's storage: objects under keys ("binlog/src/file/0000.seg.zst"), not paths.
// Every backend (a local directory, S3-compatible object storage) implements this one
// interface and passes one conformance suite (tests/unit/storage_conformance_test.cpp).
// There is no rename, no append and no lock: an object is written whole, and objects that
// must never be overwritten are created with PutMode::kIfAbsent.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr::storage {

enum class StorageErrorKind {
  kNotFound,       // no object under the key
  kAlreadyExists,  // a kIfAbsent put found the key taken
  kRetryable,      // worth trying again (a timeout, a 503)
  kPermanent,      // anything else: credentials, a bad request, a full disk
};

class StorageError : public std::runtime_error {
 public:
  StorageError(StorageErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  StorageErrorKind kind() const { return kind_; }

 private:
  StorageErrorKind kind_;
};

// What a backend can do; callers ask this instead of testing which backend they have.
struct StorageCapabilities {
  // kIfAbsent is decided by the store, race-free, for objects written in one request (S3:
  // up to one part; Ceph 16 ignores If-None-Match on CompleteMultipartUpload, so a
  // multipart object is checked first, which a concurrent writer could race).
  bool atomic_if_absent = false;
  bool durable_on_return = false;  // put returns only once the object survives a crash
  bool local_files = false;        // objects are files on this host (flock and mmap work)
};

enum class PutMode { kOverwrite, kIfAbsent };

struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::int64_t modified_unix = 0;  // seconds; for display only, never for ordering
};

struct ListPage {
  std::vector<ObjectInfo> objects;    // sorted by key
  std::optional<std::string> resume;  // pass back to get the next page; none at the end
};

struct ByteRange {
  std::uint64_t offset = 0;
  std::optional<std::uint64_t> length;  // none: to the end of the object
};

// Fills `out` with the next bytes and returns how many; 0 at the end.
using ByteSource = std::function<std::size_t(std::span<std::uint8_t> out)>;
using ByteSink = std::function<void(Bytes)>;

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  virtual StorageCapabilities capabilities() const = 0;
  // For messages: where the archive is ("/backup/db1", "s3://bucket/prefix").
  virtual std::string describe() const = 0;

  // Stores the whole object read from `source`; it becomes visible only once complete. A
  // failure (also a throwing source) leaves no object behind, nor a changed one.
  virtual void put(const std::string& key, const ByteSource& source, PutMode mode) = 0;
  // Streams the object, or a range of it, to `sink`. A range starting past the end is
  // kPermanent; one ending past it is cut at the end.
  virtual void get(const std::string& key, const ByteSink& sink,
                   const ByteRange& range = {}) const = 0;
  // Objects whose keys start with `prefix` (any string, not only a folder), from `resume`.
  virtual ListPage list_page(const std::string& prefix, const std::optional<std::string>& resume,
                             std::size_t max_objects) const = 0;
  virtual std::optional<ObjectInfo> stat(const std::string& key) const = 0;
  // Removing a missing object is not an error.
  virtual void remove(const std::string& key) = 0;
  // A hint: these objects will be read whole, in this order, soon. A store that fetches
  // ahead (ReadAheadStore) starts on them; the others ignore it.
  virtual void will_read(const std::vector<std::string>& keys) const { (void)keys; }

  // Every page of list_page.
  std::vector<ObjectInfo> list(const std::string& prefix) const;
  bool exists(const std::string& key) const { return stat(key).has_value(); }
  void put_bytes(const std::string& key, Bytes bytes, PutMode mode);
  std::vector<std::uint8_t> get_bytes(const std::string& key, const ByteRange& range = {}) const;
};

// Throws kPermanent unless `key` is a valid key: UTF-8 without control characters, at most
// 1024 bytes, '/'-separated non-empty components of at most 200 bytes, none starting with
// '.' (so no "." or "..", and no name a temporary file of the local store can have).
void check_key(const std::string& key);
// What a kIfAbsent put throws when the key is taken.
StorageError already_exists_error(const std::string& key);
// The same for a listing's prefix: what some valid key could start with ("" included).
void check_prefix(const std::string& prefix);

}  // namespace pitr::storage
