#pragma once
// Checks a base backup's files against the server's backup_manifest, as pg_verifybackup
// does: the tar streams are walked for each regular file's size and CRC-32C, and every
// file the manifest lists must be there with the size and checksum it gives. Used while
// the backup arrives and again by `pitr verify`.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "formats/crc32c.hpp"
#include "formats/postgres/server_manifest.hpp"
#include "formats/tar_reader.hpp"

namespace pitr::postgres {

struct FileChecksum {
  std::uint64_t size = 0;
  std::uint32_t crc32c = 0;
};
// By path relative to the data directory, as the manifest names files.
using FileChecksums = std::map<std::string, FileChecksum>;

// The manifest path prefix of a tar archive's files: "" for the data directory's, and
// "pg_tblspc/<oid>/" for a tablespace's.
std::string manifest_prefix(const std::string& tablespace_oid);

// Fed one tar archive in any pieces; adds each regular file's checksum to `into`.
class TarChecksummer {
 public:
  TarChecksummer(std::string prefix, FileChecksums& into);
  void feed(Bytes data) { tar_.feed(data); }
  void finish() const { tar_.finish(); }  // throws DecodeError when the tar stopped mid-entry

 private:
  std::string prefix_;
  FileChecksums& into_;
  TarReader tar_;
  std::string current_;
  bool in_file_ = false;
  FileChecksum sum_;
  Crc32c crc_;
};

// What disagrees with the manifest: files missing, of another size, or failing the CRC-32C.
std::vector<std::string> compare_with_manifest(const ServerManifest& manifest,
                                               const FileChecksums& seen);

}  // namespace pitr::postgres
