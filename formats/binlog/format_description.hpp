#pragma once
// FORMAT_DESCRIPTION_EVENT: the binlog's own description of its event layout.
#include <cstdint>
#include <string>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr::binlog {

enum class ChecksumAlgorithm : std::uint8_t { kOff = 0, kCrc32 = 1, kUndefined = 255 };

struct FormatDescription {
  std::uint16_t binlog_version = 4;
  std::string server_version;
  std::uint32_t create_timestamp = 0;
  std::uint8_t common_header_length = 19;
  std::vector<std::uint8_t> post_header_lengths;  // index = type code - 1
  ChecksumAlgorithm checksum = ChecksumAlgorithm::kOff;

  bool is_mariadb() const { return server_version.find("MariaDB") != std::string::npos; }
  // Post-header length for a type code, 0 when the FDE does not list it.
  std::uint8_t post_header_length(std::uint8_t type) const {
    return type >= 1 && type <= post_header_lengths.size() ? post_header_lengths[type - 1] : 0;
  }
  std::size_t checksum_size() const { return checksum == ChecksumAlgorithm::kCrc32 ? 4 : 0; }
};

// Decodes the whole event (header included). Throws DecodeError on malformed input.
FormatDescription decode_format_description(Bytes event);

// Whether a server of this version writes the checksum-algorithm byte in its FDE
// (MySQL 5.6.1+, every MariaDB that has checksums: 5.3+).
bool version_has_checksum_byte(const std::string& server_version);

}  // namespace pitr::binlog
