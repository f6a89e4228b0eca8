#include "capture/segment_writer.hpp"

#include "formats/hex.hpp"

#include <fmt/format.h>

#include "archive/binlog_archive.hpp"
#include "archive/partial_scan.hpp"
#include "archive/segment_file.hpp"
#include "capture/segment_sealer.hpp"
#include "formats/binlog/event_types.hpp"

namespace pitr::capture {

namespace fs = archive::fs;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kBufferSize = 1 << 20;

}  // namespace

SegmentWriter::SegmentWriter(archive::Archive archive, std::string source_id, SegmentPolicy policy)
    : archive_(std::move(archive)),
      source_id_(std::move(source_id)),
      policy_(policy),
      sealer_(archive_.store(), policy.compression,
              archive::layout::binlog_catalog_prefix(source_id_)) {
  archive::check_path_component(source_id_, "source id");
  buffer_.reserve(kBufferSize);
}

std::optional<LogPosition> SegmentWriter::recover() {
  std::optional<LogPosition> emptied;
  {
    archive::BinlogArchive catalog(archive_);
    auto logs = catalog.logs_of(source_id_);
    if (logs.empty()) return std::nullopt;
    catalog_unrecorded(catalog);
    // Not only the newest log: the sealer may still have been compressing the end of the
    // previous file when the next one began.
    for (const auto* log : logs) repair_log(*log, log == logs.back());
    const auto& newest = *logs.back();
    if (!partial_ && end_ == newest.start()) {
      // The crash came before any of the newest file's bytes were durable (typically just
      // after a rotation): archive it again from where its archived part began.
      emptied = LogPosition{newest.file, std::max<std::uint64_t>(newest.start(), 4)};
      std::error_code ignored;  // an empty log directory is no log; leave it if not empty
      fs::remove(log_dir(newest.file), ignored);
    }
  }
  if (emptied) {
    file_.clear();
    end_ = 0;
    return emptied;
  }
  archive::BinlogArchive catalog(archive_);
  const auto& last = *catalog.logs_of(source_id_).back();
  file_ended_ = last.complete();
  if (!file_ended_) return LogPosition{file_, end_};
  if (!last.next_file) return LogPosition{file_, end_};  // STOP event: the server restarted
  archive::check_path_component(*last.next_file, "binlog file name");
  return LogPosition{*last.next_file, 4};
}

void SegmentWriter::catalog_unrecorded(const archive::BinlogArchive& catalog) {
  // What an earlier run sealed without a catalog (it was killed) gets one now.
  std::vector<archive::IndexedObject> mine;
  for (const auto& o : catalog.uncatalogued())
    if (o.key.starts_with(archive::layout::source_prefix(source_id_))) mine.push_back(o);
  archive::write_record_catalog(archive_.store(),
                                archive::layout::binlog_catalog_prefix(source_id_), mine);
}

void SegmentWriter::repair_log(const archive::ArchivedLog& log, bool newest) {
  file_ = log.file;
  file_start_ = log.start();
  archive::remove_files(log.leftovers, log_dir(file_));
  end_ = partial_start_ = log.sealed_end();
  fde_hex_ = log.format_description().value_or("");
  for (const auto& partial : log.partials) {
    if (&partial != log.tail())
      seal_handed_off(partial.path, partial.start);
    else if (newest)
      adopt_partial(partial.path, partial.start);
    else
      seal_older_tail(partial.path, partial.start);
  }
}

archive::PartialScan SegmentWriter::scan_open_segment(const fs::path& path,
                                                      std::uint64_t start) const {
  if (start != end_)
    throw archive::IoError(fmt::format("{} starts at {}, but the archive before it ends at {}",
                                       path.string(), start, end_));
  archive::MappedFile map(path);
  return archive::scan_partial(map.bytes(), file_, start, fde_hex_or_none());
}

void SegmentWriter::seal_older_tail(const fs::path& path, std::uint64_t start) {
  {
    auto scan = scan_open_segment(path, start);
    // Left at a file switch that was not at a transaction boundary (capture moved on after
    // a gap): its complete part is readable as it is.
    if (scan.boundary != scan.end || scan.boundary == start) return;
  }
  seal_handed_off(path, start);
}

void SegmentWriter::seal_handed_off(const fs::path& path, std::uint64_t start) {
  archive::SegmentRecord record;
  {
    auto scan = scan_open_segment(path, start);
    if (scan.boundary != scan.end)
      throw archive::IoError(fmt::format(
          "{} was complete when handed off for sealing, but is "
          "damaged after offset {}: {}",
          path.string(), scan.boundary, scan.tail_problem.value_or("incomplete transaction")));
    if (scan.format_description_hex) fde_hex_ = *scan.format_description_hex;
    scan.stats.fill(record);
    record.end = scan.boundary;
  }
  record.source_id = source_id_;
  record.file = file_;
  record.start = start;
  record.format_description = fde_hex_;
  // Recovery seals what a stopped capture handed off, before capture can go on: catching up.
  sealer_.catalog(SegmentSealer::seal_now(archive_.store(), path, record,
                                          archive::layout::segment(source_id_, file_, start),
                                          policy_.compression.catching_up));
  end_ = partial_start_ = record.end;
}

fs::path SegmentWriter::log_dir(const std::string& file) const {
  return archive_.spool_path(archive::layout::log_prefix(source_id_, file));
}

std::optional<std::string> SegmentWriter::fde_hex_or_none() const {
  return fde_hex_.empty() ? std::nullopt : std::optional(fde_hex_);
}

void SegmentWriter::adopt_partial(const fs::path& path, std::uint64_t start) {
  std::uint64_t boundary;
  {
    auto scan = scan_open_segment(path, start);
    boundary = scan.boundary;
    if (scan.format_description_hex) fde_hex_ = *scan.format_description_hex;
    if (scan.end != boundary)
      fmt::print(stderr,
                 "pitr: recovery: dropping {} bytes after {}:{} (an incomplete "
                 "transaction{}); they will be fetched again\n",
                 scan.end - boundary, file_, boundary,
                 scan.tail_problem ? ": " + *scan.tail_problem : "");
  }
  archive::File f(path, archive::File::Mode::kReadWrite);
  f.truncate(boundary - start);
  f.sync();
  if (boundary == start) {
    fs::remove(path);
    archive::fsync_directory(path.parent_path());
    return;
  }
  archive::MappedFile map(path);  // re-read: the statistics must stop at the boundary
  stats_ = archive::scan_partial(map.bytes(), file_, start, fde_hex_or_none()).stats;
  partial_.emplace(std::move(f));
  end_ = boundary;
  written_ = boundary - start;
  opened_at_ = synced_at_ = Clock::now();
}

void SegmentWriter::begin_file(const std::string& file, std::uint64_t start) {
  archive::check_path_component(file, "binlog file name");
  if (partial_) finish();
  file_ = file;
  file_ended_ = false;
  fde_hex_.clear();
  stats_ = {};
  end_ = partial_start_ = file_start_ = start;
  fs::create_directories(log_dir(file_));
  archive::fsync_directory(log_dir(file_).parent_path());
  if (start == 0) append(Bytes(binlog::kBinlogMagic, sizeof binlog::kBinlogMagic));
}

void SegmentWriter::note_format_description(Bytes fde_event) {
  if (!fde_hex_.empty()) return;
  fde_hex_ = to_hex(fde_event);
  // Durable before any byte of the file: an open segment nobody can parse would be cut
  // back to nothing by the next recovery.
  if (file_start_ > 0)
    archive_.store().put_bytes(archive::layout::format_description(source_id_, file_), fde_event,
                               storage::PutMode::kOverwrite);
}

void SegmentWriter::open_partial() {
  partial_start_ = end_;
  auto path = archive_.spool_path(archive::layout::partial(source_id_, file_, partial_start_));
  if (!fs::is_directory(path.parent_path())) {  // resuming from sealed segments alone
    fs::create_directories(path.parent_path());
    archive::fsync_directory(path.parent_path().parent_path());
  }
  partial_.emplace(path, archive::File::Mode::kCreateOrOpen);
  partial_->truncate(0);
  written_ = 0;
  archive::fsync_directory(path.parent_path());
  stats_ = {};
  opened_at_ = synced_at_ = Clock::now();
}

void SegmentWriter::append(Bytes bytes) {
  if (!partial_) open_partial();
  end_ += bytes.size();
  dirty_ = true;
  if (buffer_.size() + bytes.size() > kBufferSize) {
    flush_buffer();
    if (bytes.size() >= kBufferSize) {
      partial_->pwrite_all(bytes, written_);
      written_ += bytes.size();
      return;
    }
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

void SegmentWriter::flush_buffer() {
  if (buffer_.empty()) return;
  partial_->pwrite_all(buffer_, written_);
  written_ += buffer_.size();
  buffer_.clear();
}

void SegmentWriter::sync() {
  if (!partial_ || !dirty_) return;
  flush_buffer();
  partial_->sync();
  dirty_ = false;
  synced_at_ = Clock::now();
}

void SegmentWriter::end_event(const binlog::EventHeader& header, Bytes first_bytes,
                              const binlog::FormatDescription& fd) {
  bool whole = first_bytes.size() == header.event_size;
  if (header.type == static_cast<std::uint8_t>(binlog::EventType::kFormatDescription) && whole &&
      end_ - header.event_size == 4)
    fde_hex_ = to_hex(first_bytes);
  Bytes data = whole ? first_bytes.first(header.event_size - fd.checksum_size()) : first_bytes;
  stats_.feed(header, data, fd, end_);
  if (stats_.file_ended()) file_ended_ = true;
  if (!stats_.at_boundary()) return;
  if (policy_.sync_each_transaction || Clock::now() - synced_at_ >= std::chrono::seconds(1)) sync();
  if (seal_due()) seal();
}

bool SegmentWriter::seal_due() const {
  if (!partial_ || !stats_.at_boundary() || stats_.boundary() <= partial_start_) return false;
  return file_ended_ || end_ - partial_start_ >= policy_.max_bytes ||
         Clock::now() - opened_at_ >= policy_.max_age;
}

void SegmentWriter::tick() {
  if (partial_ && Clock::now() - synced_at_ >= std::chrono::seconds(1)) sync();
  if (seal_due()) seal();
}

void SegmentWriter::seal() {
  sync();
  archive::SegmentRecord record;
  record.source_id = source_id_;
  record.file = file_;
  record.start = partial_start_;
  record.end = stats_.boundary();
  record.format_description = fde_hex_;
  stats_.fill(record);
  if (record.end != end_)
    throw std::logic_error("sealing a segment that does not end at a transaction boundary");
  auto partial_path = partial_->path();
  partial_.reset();
  sealer_.submit(partial_path, record, archive::layout::segment(source_id_, file_, partial_start_));
  ++sealed_count_;
  last_sealed_ =
      SealedSegmentInfo{file_, record.start, record.end, record.events, record.transactions};
  partial_start_ = end_;
  stats_ = {};
}

void SegmentWriter::finish() {
  if (partial_) {
    sync();
    if (stats_.at_boundary() && stats_.boundary() > partial_start_ && stats_.boundary() == end_)
      seal();
  }
  sealer_.finish();
}

}  // namespace pitr::capture
