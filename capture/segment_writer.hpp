#pragma once
// Writes a source's binlog into the archive as it arrives: bytes go to the open .partial
// segment of the current binlog file, which is fsynced at transaction ends (--sync) or at
// least every second, and sealed into a compressed segment at a transaction boundary once
// it is large or old enough, or when the file ends. Not thread-safe.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "archive/archive.hpp"
#include "archive/binlog_archive.hpp"
#include "archive/file_io.hpp"
#include "archive/partial_scan.hpp"
#include "archive/segment_stats.hpp"
#include "capture/segment_sealer.hpp"

namespace pitr::capture {

struct SegmentPolicy {
  std::uint64_t max_bytes = 16ull << 20;
  std::chrono::seconds max_age{60};
  bool sync_each_transaction = false;
  CompressionLevels compression;
};

struct LogPosition {
  std::string file;
  std::uint64_t offset = 0;
};

struct SealedSegmentInfo {
  std::string file;
  std::uint64_t start = 0, end = 0, events = 0, transactions = 0;
};

class SegmentWriter {
 public:
  SegmentWriter(archive::Archive archive, std::string source_id, SegmentPolicy policy);

  // Repairs the archived tail of this source after a crash (truncates the open segment to
  // its last complete transaction) and returns where capture must resume, if anything is
  // archived yet.
  std::optional<LogPosition> recover();

  // The binlog file being written and the offset after the last appended byte.
  const std::string& file() const { return file_; }
  std::uint64_t end() const { return end_; }
  bool file_ended() const { return file_ended_; }

  // Starts archiving `file` at offset `start`; start 0 writes the binlog magic first.
  void begin_file(const std::string& file, std::uint64_t start);
  // Appends bytes of the current event; call end_event once all of them are appended.
  void append(Bytes bytes);
  // `first_bytes` is the event from its start: all of it, or for a huge event its beginning.
  void end_event(const binlog::EventHeader& header, Bytes first_bytes,
                 const binlog::FormatDescription& fd);
  // For a file archived from the middle: its FORMAT_DESCRIPTION_EVENT as the server re-sent
  // it, kept in the index records so that the archived part can be parsed on its own.
  void note_format_description(Bytes fde_event);
  // Periodic work while idle: the once-a-second fsync, and sealing an old segment.
  void tick();
  // Graceful stop: make everything durable, seal the complete part of the open segment and
  // wait until every handed-off segment is sealed.
  void finish();

  std::uint64_t sealed_segments() const { return sealed_count_; }
  std::optional<SealedSegmentInfo> take_sealed() {
    return std::exchange(last_sealed_, std::nullopt);
  }

 private:
  void open_partial();
  void flush_buffer();
  void sync();
  void seal();
  bool seal_due() const;
  // Stores a record catalog of this source's sealed segments that are in none.
  void catalog_unrecorded(const archive::BinlogArchive& catalog);
  // Removes a crash's leftovers in one archived log and seals its handed-off open
  // segments; the newest log's tail is adopted as the open segment.
  void repair_log(const archive::ArchivedLog& log, bool newest);
  // Re-reads an open segment left by an earlier run; it must continue the archive.
  archive::PartialScan scan_open_segment(const archive::fs::path& path, std::uint64_t start) const;
  void seal_handed_off(const archive::fs::path& path, std::uint64_t start);
  // An older file's last open segment: sealed only when it ends at a transaction boundary.
  void seal_older_tail(const archive::fs::path& path, std::uint64_t start);
  void adopt_partial(const archive::fs::path& path, std::uint64_t start);
  std::optional<std::string> fde_hex_or_none() const;
  // The spool directory of one of this source's binlog files.
  archive::fs::path log_dir(const std::string& file) const;

  archive::Archive archive_;
  std::string source_id_;
  SegmentPolicy policy_;

  std::string file_;
  std::uint64_t file_start_ = 0;  // where the archive's copy of file_ begins
  bool file_ended_ = false;
  std::string fde_hex_;
  std::optional<archive::File> partial_;
  std::uint64_t partial_start_ = 0;
  std::uint64_t end_ = 0;
  std::uint64_t written_ = 0;  // bytes of the partial already in the file (not in buffer_)
  std::vector<std::uint8_t> buffer_;
  archive::SegmentStats stats_;
  std::chrono::steady_clock::time_point opened_at_, synced_at_;
  bool dirty_ = false;
  std::uint64_t sealed_count_ = 0;
  std::optional<SealedSegmentInfo> last_sealed_;
  SegmentSealer sealer_;  // last: its worker stops before the members it never touches
};

}  // namespace pitr::capture
