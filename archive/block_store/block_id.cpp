#include "archive/block_store/block_id.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "formats/hex.hpp"

namespace pitr::archive {

namespace {

// One context per thread, its algorithm fetched once: EVP_Digest would fetch and allocate per
// call, a cost comparable to hashing a whole 8 KiB page.
struct Hasher {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Hasher() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
};

}  // namespace

BlockId BlockId::of(Bytes content) {
  thread_local Hasher hasher;
  BlockId id;
  unsigned int n = 0;
  if (!hasher.md || !hasher.ctx || EVP_DigestInit_ex(hasher.ctx, hasher.md, nullptr) != 1 ||
      EVP_DigestUpdate(hasher.ctx, content.data(), content.size()) != 1 ||
      EVP_DigestFinal_ex(hasher.ctx, id.bytes.data(), &n) != 1 || n != kSize)
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
