#include "formats/base64.hpp"

#include <openssl/evp.h>

namespace pitr {

std::string to_base64(Bytes data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                           static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace pitr
