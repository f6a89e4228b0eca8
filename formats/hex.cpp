#include "formats/hex.hpp"

#include <stdexcept>

namespace pitr {

std::string to_hex(Bytes bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::vector<std::uint8_t> from_hex(const std::string& hex) {
  if (hex.size() % 2) throw std::invalid_argument("odd-length hex string");
  std::vector<std::uint8_t> out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto pair = hex.substr(2 * i, 2);
    if (pair.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
      throw std::invalid_argument("not hexadecimal: '" + pair + "'");
    out[i] = static_cast<std::uint8_t>(std::stoul(pair, nullptr, 16));
  }
  return out;
}

}  // namespace pitr
