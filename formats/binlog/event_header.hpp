#pragma once
// The 19-byte common header of a binlog v4 event.
#include <cstdint>

#include "formats/byte_cursor.hpp"

namespace pitr::binlog {

inline constexpr std::size_t kEventHeaderSize = 19;
inline constexpr std::size_t kChecksumSize = 4;
inline constexpr std::uint8_t kBinlogMagic[4] = {0xfe, 'b', 'i', 'n'};
inline constexpr std::size_t kFlagsOffset = 17;

// Header flag bits.
inline constexpr std::uint16_t kFlagBinlogInUse = 0x0001;
inline constexpr std::uint16_t kFlagArtificial = 0x0020;
inline constexpr std::uint16_t kFlagRelayLog = 0x0040;
inline constexpr std::uint16_t kFlagIgnorable = 0x0080;

struct EventHeader {
  std::uint32_t timestamp = 0;
  std::uint8_t type = 0;
  std::uint32_t server_id = 0;
  std::uint32_t event_size = 0;
  std::uint32_t log_pos = 0;  // end position in the source binlog; 0 in some MariaDB 11.4+ events
  std::uint16_t flags = 0;

  bool artificial() const { return flags & kFlagArtificial; }
  bool ignorable() const { return flags & kFlagIgnorable; }
};

// Decodes the header from the first 19 bytes; throws DecodeError when fewer are given.
EventHeader decode_event_header(Bytes bytes);

}  // namespace pitr::binlog
