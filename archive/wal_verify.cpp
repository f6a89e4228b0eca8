#include "archive/wal_verify.hpp"

#include <fmt/format.h>

#include <map>

#include "archive/wal_summary_object.hpp"
#include "formats/postgres/wal_scanner.hpp"
#include "formats/postgres/wal_summary.hpp"

namespace pitr::archive {
namespace {

std::map<TimelineId, std::vector<WalPiece>> by_timeline(const WalSourceListing& l) {
  std::map<TimelineId, std::vector<WalPiece>> out;
  for (const auto& p : l.pieces()) out[p.timeline].push_back(p);
  return out;
}

// A segment's stored summary against the one built from its WAL here, chunk by chunk where
// both saw the whole chunk.
void check_summary(const WalSourceListing& l, const WalSegmentRecord& r,
                   const postgres::WalSegmentSummary& built, std::vector<std::string>& problems) {
  auto key = l.summary_key(r);
  if (!key) return;
  try {
    auto stored = read_wal_summary(*l.store, *key, r);
    bool same = stored.chunk_size == built.chunk_size;
    for (std::size_t k = 0; same && k < stored.chunks.size(); ++k) {
      const auto &a = stored.chunks[k], &b = built.chunks[k];
      if (!a.complete || !b.complete) continue;
      bool across_known = a.record_across_end != postgres::kRecordAcrossUnknown &&
                          b.record_across_end != postgres::kRecordAcrossUnknown;
      same =
          a.changes == b.changes && (!across_known || a.record_across_end == b.record_across_end);
    }
    if (!same)
      problems.push_back(
          fmt::format("{}: {} does not match the WAL of its segment (remove it; "
                      "incremental backups then decode that WAL)",
                      l.source.source_id, *key));
  } catch (const std::exception& e) {
    problems.push_back(fmt::format("{}: {}", l.source.source_id, e.what()));
  }
}

}  // namespace

std::vector<WalTimelineSummary> summarize_wal(const WalSourceListing& l) {
  std::vector<WalTimelineSummary> out;
  for (const auto& [tli, pieces] : by_timeline(l)) {
    WalTimelineSummary s;
    s.timeline = tli;
    s.start = pieces.front().start;
    s.end = pieces.back().end;
    s.segments = pieces.size();
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      if (i > 0)
        for (auto seg = pieces[i - 1].segment + 1; seg < pieces[i].segment; ++seg)
          s.holes.push_back(postgres::wal_file_name(tli, seg, l.source.segment_size));
      if (const auto* r = pieces[i].record) {
        s.commits += r->commits;
        if (r->first_commit_time && !s.first_commit_time)
          s.first_commit_time = r->first_commit_time;
        if (r->last_commit_time) s.last_commit_time = r->last_commit_time;
      }
    }
    out.push_back(s);
  }
  return out;
}

std::vector<std::string> verify_wal(const WalSourceListing& l) {
  auto problems = l.damaged_catalogs;
  auto size = l.source.segment_size;
  for (const auto& [tli, pieces] : by_timeline(l)) {
    postgres::WalScanner scanner(size);
    postgres::WalSummaryBuilder builder(size);
    std::optional<Lsn> builder_at;  // the segment the builder is in
    auto fresh_scanner = [&] {
      scanner = postgres::WalScanner(size);
      builder.follow(scanner);
    };
    fresh_scanner();
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      const auto& p = pieces[i];
      auto name = postgres::wal_file_name(tli, p.segment, size);
      bool last = i + 1 == pieces.size();
      if (i > 0 && pieces[i - 1].segment + 1 != p.segment)
        problems.push_back(
            fmt::format("{}: timeline {} has no WAL between {} and {}", l.source.source_id, tli,
                        postgres::wal_file_name(tli, pieces[i - 1].segment, size), name));
      if (!last && p.end != (p.segment + 1) * size)
        problems.push_back(
            fmt::format("{}: {} ends early at {} but later WAL of timeline {} follows",
                        l.source.source_id, name, postgres::format_lsn(p.end), tli));
      if (builder_at != p.start) builder.restart(p.start);
      builder_at.reset();
      Lsn at = p.start;
      try {
        l.read(p, [&](Bytes b) {
          scanner.feed(at, b, [](const postgres::WalEvent&) {});
          at += b.size();
        });
        if (scanner.ended()) builder.lose_sync();
        if (p.record && p.record->complete()) {
          check_summary(l, *p.record, builder.seal(p.end, scanner.open_record()), problems);
          builder_at = p.end;
        }
      } catch (const std::exception& e) {
        problems.push_back(fmt::format("{}: {}: {}", l.source.source_id, name, e.what()));
        fresh_scanner();
      }
    }
  }
  return problems;
}

}  // namespace pitr::archive
