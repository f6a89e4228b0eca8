#include "formats/binlog/checksum.hpp"

#include <zlib.h>

#include "formats/binlog/event_types.hpp"

namespace pitr::binlog {

std::uint32_t crc32_update(std::uint32_t crc, Bytes bytes) {
  // zlib takes uInt lengths; feed large inputs in slices.
  constexpr std::size_t kSlice = 1u << 30;
  while (!bytes.empty()) {
    auto n = std::min(bytes.size(), kSlice);
    crc = static_cast<std::uint32_t>(::crc32(crc, bytes.data(), static_cast<uInt>(n)));
    bytes = bytes.subspan(n);
  }
  return crc;
}

std::uint32_t expected_event_crc(Bytes event) {
  return static_cast<std::uint32_t>(load_le(event.data() + event.size() - kChecksumSize, 4));
}

std::uint32_t compute_event_crc(Bytes event) {
  EventCrc crc;
  crc.update(event.first(event.size() - kChecksumSize));
  return crc.value();
}

void EventCrc::update(Bytes piece) {
  // The FDE's in-use flag lives in the low byte of the header flags; the server computes
  // the checksum as if it were clear so it can clear it later without rewriting the CRC.
  constexpr std::size_t kTypeOffset = 4;
  std::size_t start = seen_;
  seen_ += piece.size();
  if (start <= kTypeOffset && kTypeOffset < seen_)
    is_fde_ =
        piece[kTypeOffset - start] == static_cast<std::uint8_t>(EventType::kFormatDescription);
  if (is_fde_ && start <= kFlagsOffset && kFlagsOffset < seen_) {
    auto at = kFlagsOffset - start;
    crc_ = crc32_update(crc_, piece.first(at));
    std::uint8_t cleared = piece[at] & static_cast<std::uint8_t>(~kFlagBinlogInUse);
    crc_ = crc32_update(crc_, Bytes(&cleared, 1));
    crc_ = crc32_update(crc_, piece.subspan(at + 1));
    return;
  }
  crc_ = crc32_update(crc_, piece);
}

}  // namespace pitr::binlog
