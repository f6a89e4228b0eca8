#include "archive/storage/object_store.hpp"

#include <algorithm>

namespace pitr::storage {

std::vector<ObjectInfo> ObjectStore::list(const std::string& prefix) const {
  std::vector<ObjectInfo> out;
  std::optional<std::string> resume;
  do {
    auto page = list_page(prefix, resume, 1000);
    out.insert(out.end(), page.objects.begin(), page.objects.end());
    resume = page.resume;
  } while (resume);
  return out;
}

void ObjectStore::put_bytes(const std::string& key, Bytes bytes, PutMode mode) {
  std::size_t at = 0;
  put(
      key,
      [&](std::span<std::uint8_t> out) {
        auto n = std::min(out.size(), bytes.size() - at);
        std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(at), n, out.begin());
        at += n;
        return n;
      },
      mode);
}

std::vector<std::uint8_t> ObjectStore::get_bytes(const std::string& key,
                                                 const ByteRange& range) const {
  std::vector<std::uint8_t> out;
  get(
      key, [&](Bytes b) { out.insert(out.end(), b.begin(), b.end()); }, range);
  return out;
}

void check_key(const std::string& key) {
  auto refuse = [&](const char* why) {
    throw StorageError(StorageErrorKind::kPermanent, "invalid object key '" + key + "': " + why);
  };
  if (key.empty()) refuse("empty");
  if (key.size() > 1024) refuse("longer than 1024 bytes");
  if (key.find('\0') != std::string::npos) refuse("contains a NUL byte");
  std::size_t start = 0;
  while (true) {
    auto end = key.find('/', start);
    auto part = key.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.empty()) refuse("an empty path component (leading, trailing or double '/')");
    if (part.front() == '.') refuse("a path component starting with '.'");
    if (end == std::string::npos) return;
    start = end + 1;
  }
}

}  // namespace pitr::storage
