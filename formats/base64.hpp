#pragma once
// Standard base64 (RFC 4648, with padding), through OpenSSL.
#include <string>

#include "formats/byte_cursor.hpp"

namespace pitr {

std::string to_base64(Bytes data);

}  // namespace pitr
