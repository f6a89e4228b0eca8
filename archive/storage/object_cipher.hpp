#pragma once
// How one archive object is encrypted (docs/archive-format.md, "Encrypted objects"):
//
//   header  "PITRENC1" | key id (8 bytes) | salt (32 random bytes)
//   chunks  AES-256-GCM of 16 KiB of plaintext each, every one followed by its 16-byte tag
//
// The object's own key is HKDF-SHA256(archive key, salt), so nonces (the chunk's number)
// never repeat under one key. Each chunk authenticates the header, its number, whether it
// is the last chunk and the object's key: a flipped bit, a truncation, chunks reordered or
// an object stored under another object's key all fail. The last chunk is the one shorter
// than 16 KiB (empty when the plaintext fills whole chunks), so a reader of any byte range
// knows from a chunk's length whether it claims to be last. No I/O here.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "archive/storage/encryption_key.hpp"
#include "formats/byte_cursor.hpp"

namespace pitr::storage {

class ObjectCipher {
 public:
  static constexpr std::size_t kHeaderSize = 48;
  static constexpr std::size_t kChunk = 16 << 10;  // plaintext bytes per chunk
  static constexpr std::size_t kTag = 16;
  static constexpr std::size_t kSealedChunk = kChunk + kTag;

  // The stored size of `plain` bytes, and back (none for a size no object can have).
  static std::uint64_t sealed_size(std::uint64_t plain);
  static std::optional<std::uint64_t> plain_size(std::uint64_t sealed);

  // A new object under `object_key`, with a fresh random salt.
  static ObjectCipher for_new_object(const EncryptionKey& key, const std::string& object_key);
  // The object whose first kHeaderSize bytes are `header`; throws ObjectRejected when they
  // are not a header or name another key.
  static ObjectCipher for_header(const EncryptionKey& key, const std::string& object_key,
                                 Bytes header);

  Bytes header() const { return Bytes(header_.data(), header_.size()); }
  // Appends chunk `index` (at most kChunk bytes; the last chunk iff shorter) sealed to `out`.
  void seal(std::uint64_t index, Bytes plain, std::vector<std::uint8_t>& out);
  // Appends the plaintext of sealed chunk `index` to `out`; throws ObjectRejected when the
  // chunk fails authentication.
  void open(std::uint64_t index, Bytes sealed, std::vector<std::uint8_t>& out);

 private:
  struct ContextFree {
    void operator()(void* ctx) const;
  };
  ObjectCipher(const EncryptionKey& key, std::string object_key, std::vector<std::uint8_t> header);
  std::vector<std::uint8_t> associated_data(std::uint64_t index, bool last) const;

  std::string object_key_;
  std::vector<std::uint8_t> header_;
  std::unique_ptr<void, ContextFree> ctx_;  // EVP_CIPHER_CTX keyed with the object's key
};

// An object that is not what it claims: damaged, cut short, reordered, swapped, or
// encrypted with another key. The message says which, and the chunk.
class ObjectRejected : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace pitr::storage
