#include "formats/postgres/server_manifest.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <openssl/sha.h>
#include <ctime>

#include <nlohmann/json.hpp>

#include "formats/byte_cursor.hpp"
#include "formats/hex.hpp"

namespace pitr::postgres {
namespace {

std::string manifest_checksum(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return to_hex(Bytes(digest, sizeof digest));
}

// "Path": "..." or, for a name that is not UTF-8, "Encoded-Path": its bytes in hex (as the
// server writes it).
std::string path_field(const std::string& path) {
  try {
    return "\"Path\": " + nlohmann::json(path).dump();
  } catch (const nlohmann::json::type_error&) {
    return "\"Encoded-Path\": \"" + to_hex(as_bytes(path)) + "\"";
  }
}

void check_manifest_checksum(std::string_view text, const std::string& claimed) {
  auto last = text.rfind('\n', text.size() >= 2 ? text.size() - 2 : 0);
  if (last == std::string_view::npos) throw DecodeError("backup manifest has no checksum line");
  if (manifest_checksum(text.substr(0, last + 1)) != claimed)
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
    auto version = j.at("PostgreSQL-Backup-Manifest-Version").get<int>();
    if (version != 1 && version != 2)
      throw DecodeError(fmt::format("backup manifest version {} is not 1 or 2", version));
    check_manifest_checksum(text, j.at("Manifest-Checksum").get<std::string>());
    ServerManifest m;
    if (version == 2) m.system_identifier = j.at("System-Identifier").get<std::uint64_t>();
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

std::string write_server_manifest(int version, std::uint64_t system_identifier,
                                  const std::vector<ListedFile>& files,
                                  const std::vector<WalRange>& wal_ranges) {
  // One entry to a line, as the server writes it: the checksum covers every line before
  // its own.
  std::string text = fmt::format("{{ \"PostgreSQL-Backup-Manifest-Version\": {},\n", version);
  if (version >= 2) text += fmt::format("\"System-Identifier\": {},\n", system_identifier);
  text += "\"Files\": [";
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    auto mtime = static_cast<std::time_t>(f.mtime);
    std::tm utc{};
    gmtime_r(&mtime, &utc);
    text +=
        fmt::format("{}\n{{ {}, \"Size\": {}, \"Last-Modified\": \"{:%Y-%m-%d %H:%M:%S} GMT\" }}",
                    i ? "," : "", path_field(f.path), f.size, utc);
  }
  text += " ],\n\"WAL-Ranges\": [";
  for (std::size_t i = 0; i < wal_ranges.size(); ++i)
    text += fmt::format("{}\n{{ \"Timeline\": {}, \"Start-LSN\": \"{}\", \"End-LSN\": \"{}\" }}",
                        i ? "," : "", wal_ranges[i].timeline, format_lsn(wal_ranges[i].start),
                        format_lsn(wal_ranges[i].end));
  text += " ],\n";
  return text + fmt::format("\"Manifest-Checksum\": \"{}\"}}\n", manifest_checksum(text));
}

std::string manifest_crc32c_hex(std::uint32_t crc) {
  std::uint8_t b[4];
  store_le(b, crc, 4);
  return to_hex(Bytes(b, 4));
}

}  // namespace pitr::postgres
