#include "formats/postgres/server_manifest.hpp"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <nlohmann/json.hpp>

#include "formats/byte_cursor.hpp"
#include "formats/hex.hpp"

namespace pitr::postgres {
namespace {

void check_manifest_checksum(std::string_view text, const std::string& claimed) {
  auto last = text.rfind('\n', text.size() >= 2 ? text.size() - 2 : 0);
  if (last == std::string_view::npos) throw DecodeError("backup manifest has no checksum line");
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), last + 1, digest);
  if (to_hex(Bytes(digest, sizeof digest)) != claimed)
    throw DecodeError("backup manifest fails its Manifest-Checksum: it is damaged");
}

}  // namespace

ServerManifest parse_server_manifest(std::string_view text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw DecodeError(std::string("backup manifest is not JSON: ") + e.what());
  }
  try {
    if (j.at("PostgreSQL-Backup-Manifest-Version").get<int>() != 1)
      throw DecodeError("backup manifest version is not 1");
    check_manifest_checksum(text, j.at("Manifest-Checksum").get<std::string>());
    ServerManifest m;
    for (const auto& f : j.at("Files")) {
      ManifestFile file;
      file.size = f.at("Size").get<std::uint64_t>();
      file.checksum_algorithm = f.value("Checksum-Algorithm", "NONE");
      file.checksum = f.value("Checksum", "");
      if (!f.contains("Path"))
        throw DecodeError("backup manifest lists a file by Encoded-Path, which pitr does not read");
      m.files[f.at("Path").get<std::string>()] = file;
    }
    for (const auto& r : j.at("WAL-Ranges"))
      m.wal_ranges.push_back({r.at("Timeline").get<TimelineId>(),
                              parse_lsn(r.at("Start-LSN").get<std::string>()),
                              parse_lsn(r.at("End-LSN").get<std::string>())});
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw DecodeError(std::string("backup manifest is missing a field: ") + e.what());
  }
}

std::string manifest_crc32c_hex(std::uint32_t crc) {
  std::uint8_t b[4];
  store_le(b, crc, 4);
  return to_hex(Bytes(b, 4));
}

}  // namespace pitr::postgres
