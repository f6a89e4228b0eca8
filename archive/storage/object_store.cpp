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

namespace {

bool valid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
    if (n == 9 || i + n >= s.size()) return false;
    if (c >= 0x80 && (c == 0xC0 || c == 0xC1 || c > 0xF4)) return false;  // overlong, too high
    for (std::size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

void check_key(const std::string& key) {
  auto refuse = [&](const char* why) {
    throw StorageError(StorageErrorKind::kPermanent, "invalid object key '" + key + "': " + why);
  };
  if (key.empty()) refuse("empty");
  if (key.size() > 1024) refuse("longer than 1024 bytes");
  for (unsigned char c : key)
    if (c < 0x20 || c == 0x7F) refuse("contains a control character");
  if (!valid_utf8(key)) refuse("is not valid UTF-8");
  std::size_t start = 0;
  while (true) {
    auto end = key.find('/', start);
    auto part = key.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.empty()) refuse("an empty path component (leading, trailing or double '/')");
    if (part.front() == '.') refuse("a path component starting with '.'");
    if (part.size() > 200) refuse("a path component longer than 200 bytes");
    if (end == std::string::npos) return;
    start = end + 1;
  }
}

StorageError already_exists_error(const std::string& key) {
  return StorageError(StorageErrorKind::kAlreadyExists,
                      key + " already exists; it is never overwritten");
}

void check_prefix(const std::string& prefix) {
  if (!prefix.empty()) check_key(prefix + "x");  // a key ending here or going on
}

}  // namespace pitr::storage
