#pragma once
// CRC-32C (Castagnoli), the checksum PostgreSQL puts on WAL records and, by default, on
// the files of a backup manifest. Uses the SSE4.2 instruction where the CPU has it.
#include <cstdint>

#include "formats/byte_cursor.hpp"

namespace pitr {

class Crc32c {
 public:
  void update(Bytes data);
  std::uint32_t value() const { return ~state_; }

 private:
  std::uint32_t state_ = 0xFFFFFFFF;
};

inline std::uint32_t crc32c(Bytes data) {
  Crc32c c;
  c.update(data);
  return c.value();
}

}  // namespace pitr
