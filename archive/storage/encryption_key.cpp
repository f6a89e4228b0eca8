#include "archive/storage/encryption_key.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "formats/hex.hpp"

namespace pitr::storage {
namespace {

bool is_hex_text(const std::string& text) {
  if (text.size() != 2 * EncryptionKey::kSize) return false;
  for (unsigned char c : text)
    if (!std::isxdigit(c)) return false;
  return true;
}

// 32 random bytes are all printable ASCII with a probability of about 1e-14.
bool looks_like_text(const std::string& raw) {
  for (unsigned char c : raw)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

// Hex text may end in a newline (echo, openssl rand -hex 32 > FILE); raw bytes never lose one.
std::string without_line_end(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

EncryptionKey EncryptionKey::from_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw std::runtime_error(
        fmt::format("cannot read the encryption key file {}: it does not exist or is not "
                    "readable by this user",
                    file.string()));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::array<std::uint8_t, kSize> bytes{};
  auto hex = without_line_end(text);
  if (text.size() == kSize && looks_like_text(text)) {
    OPENSSL_cleanse(text.data(), text.size());
    throw std::runtime_error(fmt::format(
        "the encryption key file {} holds 32 printable characters: a passphrase, not a key; "
        "give 32 random bytes or 64 hexadecimal digits (`openssl rand -hex 32 > FILE`)",
        file.string()));
  } else if (text.size() == kSize) {
    std::copy(text.begin(), text.end(), bytes.begin());
  } else if (is_hex_text(hex)) {
    auto decoded = from_hex(hex);
    std::copy(decoded.begin(), decoded.end(), bytes.begin());
    OPENSSL_cleanse(decoded.data(), decoded.size());
  } else {
    OPENSSL_cleanse(text.data(), text.size());
    throw std::runtime_error(fmt::format(
        "the encryption key file {} holds {} bytes; it must hold the 32-byte key, raw or as 64 "
        "hexadecimal digits (make one with `openssl rand -hex 32 > FILE`)",
        file.string(), text.size()));
  }
  OPENSSL_cleanse(text.data(), text.size());
  OPENSSL_cleanse(hex.data(), hex.size());
  EncryptionKey key(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return key;
}

EncryptionKey::~EncryptionKey() {
  OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

std::string EncryptionKey::id() const {
  static constexpr char kLabel[] = "pitr archive key id";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), bytes_.data(), static_cast<int>(bytes_.size()),
            reinterpret_cast<const unsigned char*>(kLabel), sizeof kLabel - 1, digest, &length))
    throw std::runtime_error("OpenSSL HMAC-SHA256 failed");
  return to_hex(Bytes(digest, 8));
}

}  // namespace pitr::storage
