#include "formats/binlog/format_description.hpp"

#include <cstdio>

#include "formats/binlog/event_header.hpp"

namespace pitr::binlog {

bool version_has_checksum_byte(const std::string& v) {
  int major = 0, minor = 0, patch = 0;
  if (std::sscanf(v.c_str(), "%d.%d.%d", &major, &minor, &patch) < 2) return false;
  if (v.find("MariaDB") != std::string::npos) return major > 5 || (major == 5 && minor >= 3);
  if (major != 5) return major > 5;
  return minor > 6 || (minor == 6 && patch >= 1);
}

FormatDescription decode_format_description(Bytes event) {
  constexpr std::size_t kVersionLength = 50;
  ByteCursor c(event, "FORMAT_DESCRIPTION_EVENT");
  c.skip(kEventHeaderSize);
  FormatDescription fd;
  fd.binlog_version = c.u16();
  if (fd.binlog_version != 4)
    throw DecodeError("binlog format version " + std::to_string(fd.binlog_version) +
                      " is not supported (only v4, MySQL 5.0 and later)");
  auto version = c.text(kVersionLength);
  fd.server_version.assign(version.substr(0, version.find('\0')));
  fd.create_timestamp = c.u32();
  fd.common_header_length = c.u8();
  if (fd.common_header_length < kEventHeaderSize)
    throw DecodeError("FORMAT_DESCRIPTION_EVENT: common header length " +
                      std::to_string(fd.common_header_length) + " is shorter than 19");
  auto tail = c.rest();
  std::size_t lengths = tail.size();
  if (version_has_checksum_byte(fd.server_version)) {
    if (tail.size() < 1 + kChecksumSize)
      throw DecodeError("FORMAT_DESCRIPTION_EVENT: too short for its checksum field");
    lengths -= 1 + kChecksumSize;
    auto alg = tail[lengths];
    if (alg != 0 && alg != 1)
      throw DecodeError("FORMAT_DESCRIPTION_EVENT: unknown checksum algorithm " +
                        std::to_string(alg));
    fd.checksum = static_cast<ChecksumAlgorithm>(alg);
  }
  fd.post_header_lengths.assign(tail.begin(), tail.begin() + static_cast<std::ptrdiff_t>(lengths));
  return fd;
}

}  // namespace pitr::binlog
