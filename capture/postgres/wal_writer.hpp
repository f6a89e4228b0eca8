#pragma once
// Turns the WAL stream into archive files: the open tail `<WAL file>.partial` grows as
// bytes arrive and is fsynced on request; a full segment is handed to the sealer, which
// compresses it with its index record (commits, their times, restore points), stores the
// summary of its block changes (formats/postgres/wal_summary.hpp) and removes the tail.
// Recovery after a crash seals what is complete and resumes from the tail's end.
#include <optional>
#include <string>

#include "archive/file_io.hpp"
#include "archive/wal_archive.hpp"
#include "capture/segment_sealer.hpp"
#include "formats/postgres/wal_scanner.hpp"
#include "formats/postgres/wal_summary.hpp"

namespace pitr::capture {

struct WalPosition {
  postgres::TimelineId timeline = 0;
  postgres::Lsn lsn = 0;
};

class WalWriter {
 public:
  WalWriter(archive::Archive archive, archive::WalSource source, CompressionLevels levels);
  ~WalWriter();

  // Seals complete leftovers of an earlier run and returns where streaming resumes, or
  // nothing when the archive holds no WAL of this source yet.
  std::optional<WalPosition> recover();

  // Appends bytes that start exactly at written() (or at a segment start when no tail is
  // open) on `timeline`.
  void write(postgres::TimelineId timeline, postgres::Lsn lsn, Bytes data);
  // The server's end of WAL as it last said: a segment sealed while the server already holds
  // the whole next one is compressed at the catch-up level.
  void note_server_end(postgres::Lsn end) { server_end_ = end; }
  // Makes everything written durable; returns the durable end.
  postgres::Lsn sync();
  // The timeline ended at written(): seal the open tail as it is (<file>.partial.zst).
  void end_timeline();
  void store_history(postgres::TimelineId timeline, const std::string& content);
  // sync() and wait for the sealer.
  void finish();

  postgres::Lsn written() const { return written_; }
  postgres::Lsn synced() const { return synced_; }
  bool has_history(postgres::TimelineId timeline) const;

 private:
  struct Tail {
    archive::File file;
    archive::WalSegmentRecord record;
    bool dir_synced = false;
  };
  void open_tail(postgres::TimelineId timeline, postgres::Lsn lsn, bool exists);
  // A scanner starting afresh at `lsn`, feeding the summary builder.
  void new_scanner(postgres::Lsn lsn);
  void scan(postgres::Lsn lsn, Bytes data);
  // The sealed segment's summary, when the scan saw the whole segment.
  std::optional<postgres::WalSegmentSummary> seal_summary(const archive::WalSegmentRecord& r);
  void seal_tail();
  archive::WalSegmentRecord new_record(postgres::TimelineId timeline, std::uint64_t segment) const;
  void resume_tail(const archive::OpenWalTail& tail);

  archive::Archive archive_;
  archive::WalSource source_;
  archive::fs::path dir_;  // the source's spool directory
  std::optional<Tail> tail_;
  std::optional<postgres::WalScanner> scanner_;
  postgres::WalSummaryBuilder summary_;
  std::uint64_t records_before_ = 0;
  postgres::Lsn written_ = 0, synced_ = 0, server_end_ = 0;
  SegmentSealer sealer_;
};

// Compresses an open tail into its sealed object `key` with `record` (sha256 and sealed_at
// are filled in) and removes the tail. `before_commit`: as for write_indexed_object.
archive::IndexedObject seal_wal_tail(storage::ObjectStore& store, const archive::fs::path& tail,
                                     archive::WalSegmentRecord record, const std::string& key,
                                     int compression_level,
                                     const std::function<void()>& before_commit = {});

// Stores the summary of the segment `sealed` holds under `key`. A failure costs later
// incremental backups time, not correctness: it is reported on stderr, not thrown.
void store_segment_summary(storage::ObjectStore& store, const archive::IndexedObject& sealed,
                           postgres::WalSegmentSummary summary, const std::string& key);

// Adds one scanned event to a segment's index record.
void count_wal_event(archive::WalSegmentRecord& record, const postgres::WalEvent& event);

}  // namespace pitr::capture
