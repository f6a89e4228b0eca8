#pragma once
// Lower-case hexadecimal text for bytes, and back.
#include <string>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr {

std::string to_hex(Bytes bytes);
// Throws std::invalid_argument for text that is not an even number of hex digits.
std::vector<std::uint8_t> from_hex(const std::string& hex);

}  // namespace pitr
