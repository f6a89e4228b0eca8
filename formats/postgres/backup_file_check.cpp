#include "formats/postgres/backup_file_check.hpp"

#include <fmt/format.h>

namespace pitr::postgres {

std::string manifest_prefix(const std::string& tablespace_oid) {
  return tablespace_oid.empty() ? "" : "pg_tblspc/" + tablespace_oid + "/";
}

TarChecksummer::TarChecksummer(std::string prefix, FileChecksums& into)
    : prefix_(std::move(prefix)),
      into_(into),
      tar_({[this](const TarEntry& e) {
              in_file_ = e.type == TarEntry::Type::kFile;
              current_ = prefix_ + e.name;
              sum_ = {e.size, 0};
              crc_ = Crc32c();
            },
            [this](Bytes d) { crc_.update(d); },
            [this] {
              if (!in_file_) return;
              sum_.crc32c = crc_.value();
              into_[current_] = sum_;
            }}) {}

std::vector<std::string> compare_with_manifest(const ServerManifest& manifest,
                                               const FileChecksums& seen) {
  std::vector<std::string> problems;
  for (const auto& [path, file] : manifest.files) {
    auto it = seen.find(path);
    if (it == seen.end())
      problems.push_back(path + " is missing, though the server's manifest lists it");
    else if (it->second.size != file.size)
      problems.push_back(fmt::format("{} has {} bytes, the server's manifest says {}", path,
                                     it->second.size, file.size));
    else if (file.checksum_algorithm == "CRC32C" &&
             manifest_crc32c_hex(it->second.crc32c) != file.checksum)
      problems.push_back(path + " fails the CRC-32C in the server's manifest");
  }
  return problems;
}

}  // namespace pitr::postgres
