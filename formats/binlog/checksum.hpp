#pragma once
// CRC32 of binlog events (the zlib polynomial), including the FDE rule that the
// "binlog in use" flag is excluded from the checksum.
#include <cstdint>

#include "formats/binlog/event_header.hpp"

namespace pitr::binlog {

std::uint32_t crc32_update(std::uint32_t crc, Bytes bytes);

// Checksum the server stores in the last 4 bytes of `event` (which includes them).
std::uint32_t expected_event_crc(Bytes event);
// Computes the checksum over event[0 .. size-4), clearing the in-use flag of an FDE.
std::uint32_t compute_event_crc(Bytes event);

// Incremental form for events that arrive in pieces; feed every byte but the last 4.
class EventCrc {
 public:
  void update(Bytes piece);
  std::uint32_t value() const { return crc_; }

 private:
  std::uint32_t crc_ = 0;
  std::size_t seen_ = 0;
  bool is_fde_ = false;
};

}  // namespace pitr::binlog
