#pragma once
// Incremental SHA-256 (OpenSSL), hex output.
#include <memory>
#include <string>

#include "formats/byte_cursor.hpp"

struct evp_md_ctx_st;

namespace pitr::archive {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(Bytes data);
  std::string hex();  // finishes the digest

 private:
  evp_md_ctx_st* ctx_;
};

}  // namespace pitr::archive
