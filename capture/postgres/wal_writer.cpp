#include "capture/postgres/wal_writer.hpp"

#include <fmt/format.h>

#include <ctime>

#include "archive/index_frame.hpp"
#include "archive/wal_summary_object.hpp"

namespace pitr::capture {

using postgres::Lsn;
namespace fs = archive::fs;

void count_wal_event(archive::WalSegmentRecord& r, const postgres::WalEvent& e) {
  auto unix_us = postgres::postgres_to_unix_micros(e.time);
  if (e.kind == postgres::WalEventKind::kRestorePoint) {
    r.restore_points.push_back({e.name, e.lsn, unix_us});
    return;
  }
  ++(e.kind == postgres::WalEventKind::kCommit ? r.commits : r.aborts);
  if (!r.first_commit_time) r.first_commit_time = unix_us;
  r.last_commit_time = unix_us;
}

archive::IndexedObject seal_wal_tail(storage::ObjectStore& store, const fs::path& tail,
                                     archive::WalSegmentRecord record, const std::string& key,
                                     int compression_level,
                                     const std::function<void()>& before_commit) {
  archive::IndexedObject sealed;
  {
    archive::File source(tail, archive::File::Mode::kRead);
    sealed = archive::write_indexed_object(
        store, key, source, 0, record.end - record.start, compression_level,
        [&](const std::string& sha) {
          record.sha256 = sha;
          record.sealed_at = static_cast<std::uint64_t>(std::time(nullptr));
          return archive::to_json(record);
        },
        before_commit);
  }
  fs::remove(tail);
  archive::fsync_directory(tail.parent_path());
  return sealed;
}

void store_segment_summary(storage::ObjectStore& store, const archive::IndexedObject& sealed,
                           postgres::WalSegmentSummary summary, const std::string& key) {
  try {
    summary.segment_sha256 = sealed.record.at("sha256").get<std::string>();
    archive::store_wal_summary(store, key, summary);
  } catch (const std::exception& e) {
    fmt::print(stderr,
               "pitr capture: warning: the summary of {} was not stored ({}); incremental "
               "backups decode its WAL instead\n",
               sealed.key, e.what());
  }
}

WalWriter::WalWriter(archive::Archive archive, archive::WalSource source, CompressionLevels levels)
    : archive_(std::move(archive)),
      source_(std::move(source)),
      dir_(archive_.spool_path(archive::layout::wal_source_prefix(source_.source_id))),
      summary_(source_.segment_size),
      sealer_(archive_.store(), levels, archive::layout::wal_catalog_prefix(source_.source_id)) {
  if (!fs::is_directory(dir_)) {
    fs::create_directories(dir_);
    archive::fsync_directory(dir_.parent_path());
  }
}

WalWriter::~WalWriter() = default;

archive::WalSegmentRecord WalWriter::new_record(postgres::TimelineId timeline,
                                                std::uint64_t segment) const {
  archive::WalSegmentRecord r;
  r.source_id = source_.source_id;
  r.timeline = timeline;
  r.segment = segment;
  r.segment_size = source_.segment_size;
  r.file = postgres::wal_file_name(timeline, segment, source_.segment_size);
  r.start = r.end = segment * source_.segment_size;
  return r;
}

void WalWriter::open_tail(postgres::TimelineId timeline, Lsn lsn, bool exists) {
  auto segment = postgres::segment_of(lsn, source_.segment_size);
  auto record = new_record(timeline, segment);
  auto path = archive_.spool_path(archive::layout::open_wal(source_.source_id, record.file));
  tail_.emplace(Tail{archive::File(path, exists ? archive::File::Mode::kReadWrite
                                                : archive::File::Mode::kCreateExclusive),
                     record, exists});
  if (!scanner_ || scanner_->position() != lsn) {
    new_scanner(lsn);
    records_before_ = 0;
  }
}

void WalWriter::new_scanner(Lsn lsn) {
  scanner_.emplace(source_.segment_size);
  summary_.restart(lsn);
  summary_.follow(*scanner_);
}

std::optional<postgres::WalSegmentSummary> WalWriter::seal_summary(
    const archive::WalSegmentRecord& r) {
  if (!scanner_ || !r.complete()) return std::nullopt;
  return summary_.seal(r.end, scanner_->open_record());
}

void WalWriter::scan(Lsn lsn, Bytes data) {
  if (!scanner_) return;  // indexing stopped after damaged WAL, until the next segment
  try {
    if (scanner_->position() != lsn || scanner_->ended()) summary_.lose_sync();  // it skips
    scanner_->feed(lsn, data,
                   [&](const postgres::WalEvent& e) { count_wal_event(tail_->record, e); });
    if (scanner_->ended()) summary_.lose_sync();
  } catch (const DecodeError& e) {
    fmt::print(stderr,
               "pitr capture: warning: WAL in {} could not be indexed ({}); it is archived "
               "as received\n",
               tail_->record.file, e.what());
    scanner_.reset();
  }
}

void WalWriter::write(postgres::TimelineId timeline, Lsn lsn, Bytes data) {
  if (tail_ && lsn != written_)
    throw std::runtime_error(fmt::format("WAL arrived at {}, expected {}",
                                         postgres::format_lsn(lsn),
                                         postgres::format_lsn(written_)));
  while (!data.empty()) {
    if (!tail_) {
      if (lsn % source_.segment_size != 0)
        throw std::runtime_error(fmt::format("WAL for a new segment arrived mid-segment at {}",
                                             postgres::format_lsn(lsn)));
      open_tail(timeline, lsn, false);
      written_ = synced_ = lsn;
    }
    auto segment_end = tail_->record.start + source_.segment_size;
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(segment_end - lsn, data.size()));
    tail_->file.write_all(data.first(n));
    scan(lsn, data.first(n));
    lsn += n;
    written_ = tail_->record.end = lsn;
    data = data.subspan(n);
    if (lsn == segment_end) seal_tail();
  }
}

Lsn WalWriter::sync() {
  if (tail_ && synced_ < written_) {
    tail_->file.sync();
    if (!tail_->dir_synced) archive::fsync_directory(dir_);
    tail_->dir_synced = true;
  }
  synced_ = written_;
  return synced_;
}

void WalWriter::seal_tail() {
  sync();
  auto record = tail_->record;
  if (scanner_) record.records = scanner_->records() - records_before_;
  if (scanner_) records_before_ = scanner_->records();
  auto path = tail_->file.path();
  auto key = archive::layout::sealed_wal(source_.source_id, record.file, record.complete());
  auto summary = seal_summary(record);
  auto summary_key = archive::layout::wal_summary(source_.source_id, record.file);
  bool behind = server_end_ >= record.end + source_.segment_size;
  tail_.reset();
  if (!scanner_) new_scanner(record.end);  // index again from the next segment
  sealer_.submit(
      [&store = archive_.store(), path, record, key, summary = std::move(summary), summary_key](
          int level, const SegmentSealer::WaitTurn& wait_turn) {
        auto sealed = seal_wal_tail(store, path, record, key, level, wait_turn);
        if (summary) store_segment_summary(store, sealed, *summary, summary_key);
        return sealed;
      },
      behind);
}

void WalWriter::end_timeline() {
  if (tail_) seal_tail();
  scanner_.reset();
}

bool WalWriter::has_history(postgres::TimelineId timeline) const {
  return archive_.store().exists(archive::layout::wal_history(source_.source_id, timeline));
}

void WalWriter::store_history(postgres::TimelineId timeline, const std::string& content) {
  auto key = archive::layout::wal_history(source_.source_id, timeline);
  if (archive_.create_text(key, content)) return;
  if (archive_.read_text(key) != content)
    throw archive::IoError(
        fmt::format("{} exists with other content; the server's timeline {} is "
                    "not the one archived",
                    key, timeline));
}

void WalWriter::finish() {
  sync();
  sealer_.finish();
}

void WalWriter::resume_tail(const archive::OpenWalTail& open) {
  auto start = open.segment * source_.segment_size;
  open_tail(open.timeline, start, true);
  std::vector<std::uint8_t> bytes(open.size);
  tail_->file.pread_exact(bytes, 0);
  std::uint64_t keep = open.size;
  try {
    scanner_->feed(start, bytes,
                   [&](const postgres::WalEvent& e) { count_wal_event(tail_->record, e); });
    if (scanner_->ended())
      keep = scanner_->last_record_end() > start ? scanner_->last_record_end() - start : 0;
  } catch (const DecodeError& e) {
    keep = scanner_->last_record_end() > start ? scanner_->last_record_end() - start : 0;
    fmt::print(stderr, "pitr capture: {} ends in damaged WAL ({}); keeping its first {} bytes\n",
               open.path.string(), e.what(), keep);
  }
  if (keep < open.size) {
    tail_->file.truncate(keep);
    tail_->file.sync();
    tail_->record = new_record(open.timeline, open.segment);
    new_scanner(start);
    scanner_->feed(start, Bytes(bytes).first(keep),
                   [&](const postgres::WalEvent& e) { count_wal_event(tail_->record, e); });
  }
  records_before_ = 0;
  written_ = synced_ = tail_->record.end = start + keep;
  if (keep == source_.segment_size) seal_tail();
}

std::optional<WalPosition> WalWriter::recover() {
  for (const auto& listing : archive::list_wal_sources(archive_)) {
    if (listing.source.source_id != source_.source_id) continue;
    archive::remove_files(listing.leftovers, dir_);
    // What an earlier run sealed without a catalog (it was killed) gets one now.
    archive::write_record_catalog(archive_.store(),
                                  archive::layout::wal_catalog_prefix(source_.source_id),
                                  listing.uncatalogued);
    std::optional<WalPosition> position;
    for (const auto& r : listing.segments) position = WalPosition{r.timeline, r.end};
    for (std::size_t i = 0; i < listing.open.size(); ++i) {
      const auto& open = listing.open[i];
      resume_tail(open);
      bool newest = i + 1 == listing.open.size();
      if (tail_ && !newest) end_timeline();  // an older timeline's last segment
      position = WalPosition{open.timeline, written_};
    }
    sealer_.drain();
    return position;
  }
  return std::nullopt;
}

}  // namespace pitr::capture
