#include "formats/binlog/charsets.hpp"

namespace pitr::binlog {

bool is_latin1(std::uint32_t c) {
  return c == 5 || c == 8 || c == 15 || c == 31 || c == 47 || c == 48 || c == 49 || c == 94;
}

std::string latin1_to_utf8(const std::string& latin1) {
  std::string out;
  for (unsigned char c : latin1) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | c >> 6);
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

}  // namespace pitr::binlog
