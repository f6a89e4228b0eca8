#pragma once
// The block changes of one sealed WAL segment, summarized when capture seals it, so that an
// incremental backup reads a few KiB per segment instead of decompressing and decoding the
// WAL again (PostgreSQL 17's WAL summarizer keeps the same facts on the server; this works
// on 15 and 16 and lives in the archive).
//
// A segment is cut into chunks of equal size. A record belongs to the chunk its last byte is
// in, so a chunk's map is complete once capture has scanned to the chunk's end. For a range
// of WAL that starts or ends inside a chunk, the reader decodes that chunk from the WAL; to
// do so it must begin at the start of the record that runs into the chunk from before,
// which the chunk before records (`record_across_end`).
//
// Encoding (docs/archive-format.md, "WAL summaries"), little-endian:
//   "PITRWSUM" u32 version=1 u64 segment start u64 segment size u32 chunk size
//   32 bytes: SHA-256 of the segment's bytes (the summary speaks for those bytes only)
//   u32 chunks, each: u8 flags (1 complete, 2 minimal WAL, 4 unknown file change)
//     u64 record_across_end  u32 databases, each u32 tablespace u32 database
//     u32 forks, each: u32 tablespace u32 database u32 relation u8 fork
//       u8 has limit u32 limit  u32 runs, each u32 first block u32 count
//   u32 CRC-32C of everything before it
#include <cstdint>
#include <string>
#include <vector>

#include "formats/byte_cursor.hpp"
#include "formats/postgres/lsn.hpp"
#include "formats/postgres/wal_changes.hpp"
#include "formats/postgres/wal_scanner.hpp"

namespace pitr::postgres {

// record_across_end: no record crosses the chunk's end, or the crossing record's start is
// not known (the scan began inside it).
inline constexpr Lsn kNoRecordAcross = 0;
inline constexpr Lsn kRecordAcrossUnknown = ~Lsn{0};

struct WalChunkSummary {
  // Every record ending in the chunk was seen (capture's scan began before their starts).
  bool complete = false;
  Lsn record_across_end = kNoRecordAcross;
  WalChanges changes;
};

struct WalSegmentSummary {
  Lsn start = 0;
  std::uint64_t segment_size = 0;
  std::uint32_t chunk_size = 0;
  std::string segment_sha256;  // hex
  std::vector<WalChunkSummary> chunks;

  Lsn chunk_start(std::size_t chunk) const { return start + chunk * std::uint64_t{chunk_size}; }
};

// The chunk size for a segment size: 1 MiB, or the whole segment when it is smaller.
std::uint32_t wal_summary_chunk_size(std::uint64_t segment_size);

std::vector<std::uint8_t> encode_wal_summary(const WalSegmentSummary& summary);
// Throws DecodeError for anything but a whole, well-formed summary.
WalSegmentSummary decode_wal_summary(Bytes data);

// Builds the summaries of consecutive segments from the records a WalScanner hands over,
// in WAL order.
class WalSummaryBuilder {
 public:
  explicit WalSummaryBuilder(std::uint64_t segment_size);

  // The scanner started afresh at `lsn` (a page boundary): records ending before the first
  // one seen from here on are unknown.
  void restart(Lsn lsn);
  // Takes every record `scanner` completes from now on (restart() first). A record that
  // cannot be decoded leaves the chunks up to it incomplete rather than failing the scan:
  // the summary only spares later backups work.
  void follow(WalScanner& scanner);
  // Records may have been missed here (the scanner skipped bytes): chunks up to the next
  // record seen are incomplete.
  void lose_sync() { synced_ = false; }
  // The segment that ends at `end` was scanned to its end, where `open` is the record the
  // scanner is in the middle of. Returns the segment's summary, its SHA-256 left empty for
  // the caller, and moves on to the next segment.
  WalSegmentSummary seal(Lsn end, const WalScanner::OpenRecord& open);

 private:
  // A complete record [start, end).
  void add(Lsn start, Lsn end, const WalRecordParts& record);
  WalChunkSummary& chunk_of(Lsn end);

  std::uint64_t segment_size_;
  std::uint32_t chunk_size_;
  bool synced_ = false;  // a record has been seen since the last restart
  Lsn first_seen_ = 0;   // the start of the first record seen since then
  WalSegmentSummary current_;
};

}  // namespace pitr::postgres
