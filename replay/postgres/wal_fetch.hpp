#pragma once
// The restore_command side of a PostgreSQL restore: serves one WAL segment or timeline
// history file from the archive to the path recovery asks for, and prefetches the segments
// that follow into a spool directory so recovery never waits on decompression.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "archive/archive.hpp"
#include "formats/byte_cursor.hpp"

namespace pitr::replay {

namespace fs = std::filesystem;

struct WalFetchRequest {
  archive::Archive archive;
  std::string source;    // pg-<system id>; empty: the archive's only PostgreSQL source
  std::string name;      // what recovery asked for (%f)
  fs::path destination;  // where recovery wants it (%p)
};

enum class FetchOutcome { kServed, kServedFromSpool, kNotInArchive };

// Serves from the prefetch spool when the file is there, else from the archive. Throws
// archive::IoError when the archive holds the file but it is damaged.
FetchOutcome fetch_wal(const WalFetchRequest& request);
// From the archive only, to a stream (`pitr get`); false when the archive lacks the file.
// `destination` is not used.
bool write_wal(const WalFetchRequest& request, const std::function<void(Bytes)>& sink);

// The spool directory next to the destination (inside pg_wal, on the same file system).
fs::path prefetch_spool(const fs::path& destination);
// Names of the `count` segments after `name` on its timeline that the archive has sealed
// and the spool lacks (empty for history files).
std::vector<std::string> segments_to_prefetch(const WalFetchRequest& request, unsigned count);
// Decompresses those segments into the spool (each via a temporary name and a rename) and
// removes spooled segments older than `name`. Meant for a background process.
void prefetch_segments(const WalFetchRequest& request, const std::vector<std::string>& names);

}  // namespace pitr::replay
