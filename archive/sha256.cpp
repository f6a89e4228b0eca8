#include "archive/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "formats/hex.hpp"

namespace pitr::archive {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("OpenSSL SHA-256 initialisation failed");
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_);
}

void Sha256::update(Bytes data) {
  EVP_DigestUpdate(ctx_, data.data(), data.size());
}

std::string Sha256::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_, md, &n);
  return to_hex(Bytes(md, n));
}

}  // namespace pitr::archive
