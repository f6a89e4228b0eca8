#pragma once
// The backup manifest PostgreSQL writes for BASE_BACKUP (backup_manifest, version 1): every
// file with its size and checksum, the WAL range the backup needs, and the manifest's own
// SHA-256 over everything before its last line.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "formats/postgres/lsn.hpp"

namespace pitr::postgres {

struct ManifestFile {
  std::uint64_t size = 0;
  std::string checksum_algorithm;  // "CRC32C", "SHA256", ..., "NONE"
  std::string checksum;            // hex, as the server wrote it
};

struct WalRange {
  TimelineId timeline = 0;
  Lsn start = 0, end = 0;
};

struct ServerManifest {
  std::map<std::string, ManifestFile> files;  // by path relative to the data directory
  std::vector<WalRange> wal_ranges;
};

// Parses the manifest and checks its Manifest-Checksum; throws DecodeError otherwise.
ServerManifest parse_server_manifest(std::string_view text);

// The hex form the manifest uses for a CRC-32C (the value's bytes in little-endian order).
std::string manifest_crc32c_hex(std::uint32_t crc);

}  // namespace pitr::postgres
