#include "archive/block_store/block_id.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "formats/hex.hpp"

namespace pitr::archive {

BlockId BlockId::of(Bytes content) {
  BlockId id;
  unsigned int n = 0;
  if (EVP_Digest(content.data(), content.size(), id.bytes.data(), &n, EVP_sha256(), nullptr) != 1 ||
      n != kSize)
    throw std::runtime_error("OpenSSL SHA-256 failed");
  return id;
}

BlockId BlockId::from_hex(const std::string& hex) {
  if (hex.size() != 2 * kSize || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw DecodeError("a block id is 64 lower-case hex digits, got '" + hex + "'");
  auto raw = pitr::from_hex(hex);
  BlockId id;
  std::copy(raw.begin(), raw.end(), id.bytes.begin());
  return id;
}

std::string BlockId::hex() const {
  return to_hex(Bytes(bytes.data(), bytes.size()));
}

}  // namespace pitr::archive
