#pragma once
// The archive's AES-256 key, as `--encryption-key-file` (or PITR_ENCRYPTION_KEY_FILE) gives
// it: 32 raw bytes, or 64 hexadecimal digits as `openssl rand -hex 32` prints them. The key
// is wiped from memory when the object goes; only its id (a one-way digest) is ever shown or
// stored.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

namespace pitr::storage {

class EncryptionKey {
 public:
  static constexpr std::size_t kSize = 32;

  explicit EncryptionKey(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}
  // Throws std::runtime_error naming the file and the forms it may take.
  static EncryptionKey from_file(const std::filesystem::path& file);
  EncryptionKey(const EncryptionKey&) = default;
  EncryptionKey& operator=(const EncryptionKey&) = default;
  ~EncryptionKey();

  const std::array<std::uint8_t, kSize>& bytes() const { return bytes_; }
  // 16 hex digits naming the key without revealing it (an HMAC-SHA256 of a fixed text).
  std::string id() const;

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

}  // namespace pitr::storage
