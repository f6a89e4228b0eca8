#include "archive/binlog_archive.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "archive/binlog_name.hpp"
#include "archive/file_io.hpp"
#include "archive/index_frame.hpp"
#include "archive/partial_scan.hpp"
#include "archive/record_catalog.hpp"
#include "formats/hex.hpp"

namespace pitr::archive {

std::uint64_t ArchivedLog::start() const {
  if (!segments.empty()) return segments.front().record.start;
  return partials.empty() ? 0 : partials.front().start;
}

std::uint64_t ArchivedLog::sealed_end() const {
  return segments.empty() ? start() : segments.back().record.end;
}

BinlogArchive::BinlogArchive(Archive archive) : archive_(std::move(archive)) {
  archive_.check_exists();
  scan();
}

namespace {

// Fills what the log's records and open segments tell about the whole file: its format
// description, and whether its last event (ROTATE or STOP) is archived, sealed or not.
void describe_log(ArchivedLog& log) {
  for (const auto& s : log.segments)
    if (!s.record.format_description.empty() && !log.fde_hex)
      log.fde_hex = s.record.format_description;
  if (!log.fde_hex && !log.partials.empty() && log.partials.front().start == 0) {
    auto bytes = log.partials.front().read();
    log.fde_hex = scan_partial(bytes, log.file, 0, std::nullopt).format_description_hex;
  }
  if (!log.segments.empty()) {
    log.ends_file = log.segments.back().record.ends_file;
    log.next_file = log.segments.back().record.next_file;
  }
  if (const auto* tail = log.tail()) {
    auto scan = scan_partial(tail->read(), log.file, tail->start, log.format_description());
    if (scan.stats.file_ended()) {
      log.ends_file = true;
      log.next_file = scan.stats.next_file();
    }
  }
}

}  // namespace

void BinlogArchive::scan_spool(
    std::map<std::pair<std::string, std::string>, ArchivedLog>& logs) const {
  if (!archive_.spool()) return;
  auto root = archive_.spool_path(layout::binlog_prefix());
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return;
  for (auto& source : fs::directory_iterator(root)) {
    if (!source.is_directory()) continue;
    for (auto& dir : fs::directory_iterator(source.path())) {
      if (!dir.is_directory()) continue;
      auto& log = logs[{source.path().filename().string(), dir.path().filename().string()}];
      for (auto& f : fs::directory_iterator(dir.path())) {
        auto name = f.path().filename().string();
        if (layout::is_partial_name(name)) {
          // Gone: sealed and removed since; the store, listed after the spool, holds it.
          if (auto file = open_if_present(f.path()))
            log.partials.push_back(PartialFile{f.path(), layout::start_of(name), file});
        } else if (f.path().extension() == ".tmp")
          log.leftovers.push_back(f.path());
      }
    }
  }
}

void BinlogArchive::scan() {
  // The spool first, then the store: a segment sealed in between is then seen twice (and
  // the open copy dropped), never not at all.
  std::map<std::pair<std::string, std::string>, ArchivedLog> logs;
  scan_spool(logs);
  std::vector<storage::ObjectInfo> segments;
  std::vector<ArchivedLog*> owners;  // the log of each segment (map nodes do not move)
  for (const auto& object : archive_.store().list(layout::binlog_prefix())) {
    auto key = layout::parse_log_key(object.key);
    if (!key) continue;
    auto& log = logs[{key->source_id, key->file}];
    if (layout::is_segment_name(key->name)) {
      segments.push_back(object);
      owners.push_back(&log);
    } else if (key->name == layout::kFormatDescriptionName) {
      log.fde_hex = to_hex(archive_.store().get_bytes(object.key));
    }
  }
  auto cataloged = read_records(archive_.store(), segments, layout::binlog_catalogs_prefix());
  for (std::size_t i = 0; i < segments.size(); ++i)
    owners[i]->segments.push_back({segments[i].key, segments[i].size,
                                   segment_record_of(cataloged.records[i], segments[i].key)});
  uncatalogued_ = std::move(cataloged.uncatalogued);
  damaged_catalogs_ = std::move(cataloged.damaged_catalogs);
  std::vector<ArchivedLog> found;
  for (auto& entry : logs) {  // no structured binding: lambdas below capture the log
    auto& log = entry.second;
    log.source_id = entry.first.first;
    log.file = entry.first.second;
    std::sort(log.segments.begin(), log.segments.end(),
              [](auto& a, auto& b) { return a.record.start < b.record.start; });
    std::sort(log.partials.begin(), log.partials.end(),
              [](auto& a, auto& b) { return a.start < b.start; });
    std::erase_if(log.partials, [&](const PartialFile& p) {
      bool sealed = std::any_of(log.segments.begin(), log.segments.end(),
                                [&](auto& s) { return s.record.start == p.start; });
      if (sealed) log.leftovers.push_back(p.path);
      return sealed;
    });
    if (log.segments.empty() && log.partials.empty()) continue;
    describe_log(log);
    found.push_back(std::move(log));
  }
  // Grouped by source (the map's order), in binlog order within a source.
  std::stable_sort(found.begin(), found.end(), [](auto& a, auto& b) {
    if (a.source_id != b.source_id) return a.source_id < b.source_id;
    return binlog_name_less(a.file, b.file);
  });
  logs_ = std::move(found);
}

const ArchivedLog& BinlogArchive::find(const std::string& file,
                                       const std::optional<std::string>& source_id) const {
  const ArchivedLog* found = nullptr;
  std::vector<std::string> holders;
  for (const auto& log : logs_) {
    if (log.file != file || (source_id && log.source_id != *source_id)) continue;
    holders.push_back(log.source_id);
    found = &log;
  }
  if (holders.size() > 1)
    throw IoError(fmt::format("{} exists for several sources ({}); name one with --source-id", file,
                              fmt::join(holders, ", ")));
  if (!found) throw IoError(fmt::format("the archive has no binlog file named {}", file));
  return *found;
}

std::vector<const ArchivedLog*> BinlogArchive::logs_of(const std::string& source_id) const {
  std::vector<const ArchivedLog*> out;
  for (const auto& log : logs_)
    if (log.source_id == source_id) out.push_back(&log);
  return out;
}

void BinlogArchive::write_log(const ArchivedLog& log, const ByteSink& sink) const {
  if (log.start() != 0)
    throw IoError(
        fmt::format("the archive holds {} only from offset {} (capture started there); "
                    "it cannot give back the whole file",
                    log.file, log.start()));
  read_log(log, sink);
}

void BinlogArchive::will_read(const std::vector<const ArchivedLog*>& logs) const {
  std::vector<std::string> keys;
  for (const auto* log : logs)
    for (const auto& s : log->segments) keys.push_back(s.key);
  archive_.store().will_read(keys);
}

void BinlogArchive::read_log(const ArchivedLog& log, const ByteSink& sink) const {
  std::uint64_t expected = log.start();
  for (const auto& s : log.segments) {
    if (s.record.start != expected)
      throw IoError(fmt::format("{}: hole in the archive between offsets {} and {}", log.file,
                                expected, s.record.start));
    read_segment(archive_.store(), s.key, s.record, sink);
    expected = s.record.end;
  }
  for (const auto& partial : log.partials) {
    if (partial.start != expected)
      throw IoError(fmt::format("{}: open segment starts at {}, the archive before it ends at {}",
                                log.file, partial.start, expected));
    auto bytes = partial.read();
    auto scan = scan_partial(bytes, log.file, partial.start, log.format_description());
    sink(Bytes(bytes).first(scan.boundary - partial.start));
    expected = scan.boundary;
    if (&partial != log.tail() && scan.boundary != scan.end)
      throw IoError(fmt::format("{}: open segment {} is damaged after offset {}", log.file,
                                partial.path.string(), scan.boundary));
  }
}

namespace {

// Whether `next` continues `previous`: the file its ROTATE names or, after a STOP event
// (server shutdown), the file with the next sequence number.
bool follows(const ArchivedLog& previous, const ArchivedLog& next) {
  if (previous.next_file) return *previous.next_file == next.file;
  return binlog_sequence(next.file) == binlog_sequence(previous.file) + 1;
}

}  // namespace

std::vector<std::string> BinlogArchive::verify() const {
  auto problems = damaged_catalogs_;
  const ArchivedLog* previous = nullptr;
  for (const auto& log : logs_) {
    if (previous && previous->source_id != log.source_id) previous = nullptr;
    verify_log(log, previous, problems);
    previous = &log;
  }
  for (const auto& gap : gaps())
    problems.push_back(fmt::format(
        "recorded gap in source {}: after {}:{} the server no longer had {} ({})", gap.source_id,
        gap.after_file.empty() ? "(start)" : gap.after_file, gap.after_position,
        gap.wanted_file.empty() ? "the requested binlog" : gap.wanted_file, gap.server_error));
  return problems;
}

void BinlogArchive::verify_log(const ArchivedLog& log, const ArchivedLog* previous,
                               std::vector<std::string>& problems) const {
  auto where = fmt::format("{}/{}", log.source_id, log.file);
  if (previous) {
    if (!previous->complete())
      problems.push_back(
          fmt::format("{}/{} stops at offset {} without its ROTATE event, yet a "
                      "later file {} is archived: the rest of it is missing",
                      previous->source_id, previous->file, previous->sealed_end(), log.file));
    else if (!follows(*previous, log))
      problems.push_back(fmt::format(
          "{}/{} is followed by {}, but the next archived file is {}", previous->source_id,
          previous->file,
          previous->next_file.value_or("the next-numbered file (it ended with STOP)"), log.file));
    if (log.start() != 0)
      problems.push_back(
          fmt::format("{} starts at offset {}, not at the file's beginning", where, log.start()));
  }
  std::optional<std::uint64_t> expected;
  for (const auto& s : log.segments) {
    if (expected && s.record.start != *expected)
      problems.push_back(fmt::format("{}: {} between offsets {} and {}", where,
                                     s.record.start > *expected ? "hole" : "overlap", *expected,
                                     s.record.start));
    if (s.record.file != log.file || s.record.source_id != log.source_id)
      problems.push_back(fmt::format("{}: segment {} is recorded as {}/{}", where,
                                     layout::base_name(s.key), s.record.source_id, s.record.file));
    try {
      read_segment(archive_.store(), s.key, s.record, [](Bytes) {});
    } catch (const std::exception& e) {
      problems.push_back(e.what());
    }
    expected = s.record.end;
  }
  for (const auto& partial : log.partials) {
    if (expected && partial.start != *expected)
      problems.push_back(
          fmt::format("{}: open segment starts at {}, the archive before it ends "
                      "at {}",
                      where, partial.start, *expected));
    auto scan = scan_partial(partial.read(), log.file, partial.start, log.format_description());
    expected = scan.boundary;
    if (&partial != log.tail() && scan.boundary != scan.end)
      problems.push_back(fmt::format("{}: open segment {} is damaged after offset {}", where,
                                     partial.path.string(), scan.boundary));
  }
  if (!log.partials.empty() && !log.segments.empty() && log.segments.back().record.ends_file)
    problems.push_back(fmt::format("{}: has an open tail after the file's ROTATE event", where));
}

}  // namespace pitr::archive
