#include "archive/wal_verify.hpp"

#include <fmt/format.h>

#include <map>

#include "formats/postgres/wal_scanner.hpp"

namespace pitr::archive {
namespace {

std::map<TimelineId, std::vector<WalPiece>> by_timeline(const WalSourceListing& l) {
  std::map<TimelineId, std::vector<WalPiece>> out;
  for (const auto& p : l.pieces()) out[p.timeline].push_back(p);
  return out;
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
      Lsn at = p.start;
      try {
        l.read(p, [&](Bytes b) {
          scanner.feed(at, b, [](const postgres::WalEvent&) {});
          at += b.size();
        });
      } catch (const std::exception& e) {
        problems.push_back(fmt::format("{}: {}: {}", l.source.source_id, name, e.what()));
        scanner = postgres::WalScanner(size);
      }
    }
  }
  return problems;
}

}  // namespace pitr::archive
