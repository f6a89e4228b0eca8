#pragma once
// The backup manifest PostgreSQL writes for BASE_BACKUP (backup_manifest, version 1; 2 from
// PostgreSQL 17 on, with the system identifier): every file with its size and checksum, the
// WAL range the backup needs, and the manifest's own SHA-256 over everything before its last
// line. pitr also writes one, for the incremental BASE_BACKUP of PostgreSQL 17+
// (UPLOAD_MANIFEST), from a backup it holds.
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
  std::uint64_t system_identifier = 0;        // version 2
  std::map<std::string, ManifestFile> files;  // by path relative to the data directory
  std::vector<WalRange> wal_ranges;
};

// A file of a backup_manifest pitr writes: no checksum (the server reads none from it).
struct ListedFile {
  std::string path;  // relative to the data directory
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // Unix seconds
};

// Parses the manifest and checks its Manifest-Checksum; throws DecodeError otherwise.
ServerManifest parse_server_manifest(std::string_view text);

// A backup_manifest of `version` 1 or 2 (2 names the system identifier) listing `files` and
// `wal_ranges`, with its Manifest-Checksum.
std::string write_server_manifest(int version, std::uint64_t system_identifier,
                                  const std::vector<ListedFile>& files,
                                  const std::vector<WalRange>& wal_ranges);

// The hex form the manifest uses for a CRC-32C (the value's bytes in little-endian order).
std::string manifest_crc32c_hex(std::uint32_t crc);

}  // namespace pitr::postgres
