#pragma once
// The PostgreSQL side of an archive (docs/archive-format.md):
//   wal/pg-<system identifier>/
//     source.json                    system identifier and wal_segment_size
//     <WAL file>.zst                 a sealed complete segment, index record inside
//     <WAL file>.partial.zst         a sealed segment that ends where its timeline ended
//     <WAL file>.partial             the open tail (in the spool): raw bytes from the
//                                    segment's start
//     <TLI>.history                  timeline history files, as the server wrote them
//     <WAL file>.summary.zst         the block changes of a sealed complete segment
//                                    (archive/wal_summary_object.hpp)
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "archive/archive.hpp"
#include "archive/file_io.hpp"
#include "archive/index_frame.hpp"
#include "formats/byte_cursor.hpp"
#include "formats/postgres/lsn.hpp"

namespace pitr::archive {

using postgres::Lsn;
using postgres::TimelineId;

struct WalRestorePoint {
  std::string name;
  Lsn lsn = 0;
  std::int64_t time = 0;  // Unix µs
};

struct WalSegmentRecord {
  std::string source_id, file;
  TimelineId timeline = 0;
  std::uint64_t segment = 0, segment_size = 0;
  Lsn start = 0, end = 0;  // [start, end): start is the segment's first byte
  std::uint64_t records = 0, commits = 0, aborts = 0;
  std::optional<std::int64_t> first_commit_time, last_commit_time;  // Unix µs
  std::vector<WalRestorePoint> restore_points;
  std::string sha256;
  std::uint64_t sealed_at = 0;

  bool complete() const { return end - start == segment_size; }
};

nlohmann::json to_json(const WalSegmentRecord& r);
WalSegmentRecord wal_segment_record_from_json(const nlohmann::json& j);

struct WalSource {
  std::string source_id;
  std::uint64_t system_identifier = 0, segment_size = 0;
};

struct OpenWalTail {
  fs::path path;  // in the spool
  TimelineId timeline = 0;
  std::uint64_t segment = 0, size = 0;
  // Opened when listed: capture may seal and remove it before it is read.
  std::shared_ptr<const File> file;
};

// One segment's WAL as the archive holds it: sealed, or the open tail.
struct WalPiece {
  TimelineId timeline = 0;
  std::uint64_t segment = 0;
  Lsn start = 0, end = 0;
  const WalSegmentRecord* record = nullptr;  // sealed
  const OpenWalTail* open = nullptr;         // or the open tail
};

struct WalSourceListing {
  WalSource source;
  std::shared_ptr<storage::ObjectStore> store;
  std::vector<WalSegmentRecord> segments;  // sorted by timeline, then segment
  std::vector<OpenWalTail> open;           // normally at most one
  std::map<TimelineId, std::string> histories;
  std::set<std::string> summarized;  // WAL files with a summary object
  // What a crash can leave in the spool: interrupted atomic writes (*.tmp) and open tails
  // whose sealed copy is already stored (left out of `open`). Capture's recovery removes
  // them.
  std::vector<fs::path> leftovers;
  // Sealed segments whose records no record catalog held (archive/record_catalog.hpp), and
  // catalogs that could not be read.
  std::vector<IndexedObject> uncatalogued;
  std::vector<std::string> damaged_catalogs;

  std::string sealed_key(const WalSegmentRecord& r) const;
  // The segment's summary object, when it has one.
  std::optional<std::string> summary_key(const WalSegmentRecord& r) const;
  // Sealed segments and open tails together, sorted by timeline, then segment.
  std::vector<WalPiece> pieces() const;
  // Tells the store every sealed segment will be read next, in pieces() order (a store in
  // object storage then fetches them ahead).
  void will_read() const;
  // Streams a piece's bytes (a sealed one decompressed and checked against its checksum).
  void read(const WalPiece& piece, const std::function<void(Bytes)>& sink) const;
};

std::string wal_source_id(std::uint64_t system_identifier);

// Records the source's identity the first time; throws if it disagrees with what is there.
void remember_wal_source(const Archive& archive, const WalSource& source);
// Every PostgreSQL source of the archive, with its open tails when it has a spool.
std::vector<WalSourceListing> list_wal_sources(const Archive& archive);

}  // namespace pitr::archive
