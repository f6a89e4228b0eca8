#include "archive/storage/encrypted_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "archive/storage/object_cipher.hpp"

namespace pitr::storage {
namespace {

using C = ObjectCipher;

// Pulls plaintext from `source` a chunk at a time and hands out the sealed object: the
// header, then each chunk with its tag.
class SealingSource {
 public:
  SealingSource(ObjectCipher cipher, const ByteSource& source)
      : cipher_(std::move(cipher)), source_(source), plain_(C::kChunk) {
    auto header = cipher_.header();
    pending_.assign(header.begin(), header.end());
  }

  std::size_t operator()(std::span<std::uint8_t> out) {
    while (at_ == pending_.size() && !done_) seal_next_chunk();
    auto n = std::min(out.size(), pending_.size() - at_);
    std::memcpy(out.data(), pending_.data() + at_, n);
    at_ += n;
    return n;
  }

 private:
  void seal_next_chunk() {
    std::size_t filled = 0;
    while (filled < C::kChunk) {
      auto n = source_({plain_.data() + filled, C::kChunk - filled});
      if (n == 0) break;
      filled += n;
    }
    pending_.clear();
    at_ = 0;
    cipher_.seal(index_++, Bytes(plain_.data(), filled), pending_);
    done_ = filled < C::kChunk;  // the short chunk is the last
  }

  ObjectCipher cipher_;
  const ByteSource& source_;
  std::vector<std::uint8_t> plain_, pending_;
  std::size_t at_ = 0;
  std::uint64_t index_ = 0;
  bool done_ = false;
};

// Takes the sealed bytes of a range of whole chunks as they arrive (after the header when the
// range starts at the object's beginning) and passes on the plaintext the caller asked for.
class OpeningSink {
 public:
  OpeningSink(const EncryptionKey& key, const std::string& object_key, std::uint64_t first_chunk,
              const ByteRange& plain_range, const ByteSink& sink)
      : key_(key),
        object_key_(object_key),
        index_(first_chunk),
        skip_(plain_range.offset - first_chunk * C::kChunk),
        wanted_(plain_range.length),
        sink_(sink) {}

  void set_header(Bytes header) { cipher_.emplace(C::for_header(key_, object_key_, header)); }

  void take(Bytes sealed) {
    received_ += sealed.size();
    buffer_.insert(buffer_.end(), sealed.begin(), sealed.end());
    if (!cipher_ && buffer_.size() >= C::kHeaderSize) {
      set_header(Bytes(buffer_.data(), C::kHeaderSize));
      at_ = C::kHeaderSize;
    }
    if (!cipher_) return;
    while (buffer_.size() - at_ >= C::kSealedChunk) {
      open_chunk(Bytes(buffer_.data() + at_, C::kSealedChunk));
      at_ += C::kSealedChunk;
    }
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(at_));
    at_ = 0;
  }

  // After the last byte arrived; `to_the_end`: the object's end was reached (or should have
  // been), so its last chunk must be there.
  void finish(bool to_the_end) {
    if (!cipher_)
      throw ObjectRejected(fmt::format("{} is cut short: it has no whole header", object_key_));
    if (!buffer_.empty()) {
      open_chunk(Bytes(buffer_.data(), buffer_.size()));
      saw_last_ = true;
    }
    if (to_the_end && !saw_last_)
      throw ObjectRejected(
          fmt::format("{} is cut short: it ends without its last chunk", object_key_));
    if (saw_last_ && skip_ > 0)
      throw StorageError(
          StorageErrorKind::kPermanent,
          fmt::format("{}: the byte range starts past the object's end", object_key_));
  }

  std::uint64_t received() const { return received_; }

 private:
  void open_chunk(Bytes sealed) {
    plain_.clear();
    cipher_->open(index_++, sealed, plain_);
    auto skipped = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, plain_.size()));
    skip_ -= skipped;
    auto n = plain_.size() - skipped;
    if (wanted_) n = static_cast<std::size_t>(std::min<std::uint64_t>(n, *wanted_)), *wanted_ -= n;
    if (n > 0) sink_(Bytes(plain_.data() + skipped, n));
  }

  const EncryptionKey& key_;
  const std::string& object_key_;
  std::optional<ObjectCipher> cipher_;
  std::uint64_t index_, skip_;
  std::optional<std::uint64_t> wanted_;
  const ByteSink& sink_;
  std::vector<std::uint8_t> buffer_, plain_;
  std::size_t at_ = 0;
  std::uint64_t received_ = 0;
  bool saw_last_ = false;
};

}  // namespace

EncryptedStore::EncryptedStore(std::shared_ptr<ObjectStore> inner, EncryptionKey key,
                               std::set<std::string> plain_keys)
    : inner_(std::move(inner)), key_(std::move(key)), plain_keys_(std::move(plain_keys)) {}

void EncryptedStore::put(const std::string& key, const ByteSource& source, PutMode mode) {
  if (!encrypted(key)) return inner_->put(key, source, mode);
  check_key(key);
  SealingSource sealed(ObjectCipher::for_new_object(key_, key), source);
  inner_->put(key, std::ref(sealed), mode);
}

void EncryptedStore::get(const std::string& key, const ByteSink& sink,
                         const ByteRange& range) const {
  if (!encrypted(key)) return inner_->get(key, sink, range);
  if (range.length == 0) return;
  auto first = range.offset / C::kChunk;
  ByteRange sealed{C::kHeaderSize + first * C::kSealedChunk, std::nullopt};
  if (range.length) {
    auto end = range.offset + std::min(*range.length, UINT64_MAX - range.offset);  // saturated
    auto last = (end - 1) / C::kChunk;
    sealed.length = (last - first + 1) * C::kSealedChunk;
  }
  OpeningSink opening(key_, key, first, range, sink);
  if (first == 0) {  // the header comes with the first chunk
    sealed.offset = 0;
    if (sealed.length) *sealed.length += C::kHeaderSize;
  } else {
    auto header = inner_->get_bytes(key, {0, C::kHeaderSize});
    opening.set_header(header);
  }
  inner_->get(
      key, [&](Bytes b) { opening.take(b); }, sealed);
  opening.finish(!sealed.length || opening.received() < *sealed.length);
}

ObjectInfo EncryptedStore::as_plain(ObjectInfo info) const {
  // A size no sealed object can have is shown as 0; reading it says what is wrong.
  if (encrypted(info.key)) info.size = ObjectCipher::plain_size(info.size).value_or(0);
  return info;
}

ListPage EncryptedStore::list_page(const std::string& prefix,
                                   const std::optional<std::string>& resume,
                                   std::size_t max_objects) const {
  auto page = inner_->list_page(prefix, resume, max_objects);
  for (auto& o : page.objects) o = as_plain(std::move(o));
  return page;
}

std::optional<ObjectInfo> EncryptedStore::stat(const std::string& key) const {
  auto info = inner_->stat(key);
  if (info) info = as_plain(std::move(*info));
  return info;
}

}  // namespace pitr::storage
