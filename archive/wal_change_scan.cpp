#include "archive/wal_change_scan.hpp"

#include <fmt/format.h>

#include "archive/wal_summary_object.hpp"
#include "formats/postgres/wal_scanner.hpp"
#include "formats/postgres/wal_summary.hpp"

namespace pitr::archive {
namespace {

using postgres::WalChunkSummary;

struct Chunk {
  Lsn start = 0, end = 0;
  const WalChunkSummary* summary = nullptr;  // complete, from the segment's summary
  bool from_summary = false;                 // what the walk takes from it
};

struct Missing {
  std::string what;
};

class RangeScan {
 public:
  RangeScan(const WalSourceListing& source, TimelineId timeline, Lsn from, Lsn to)
      : source_(source),
        timeline_(timeline),
        from_(from),
        to_(to),
        size_(source.source.segment_size) {}

  WalChangeScan run() {
    result_.changes.emplace();
    if (to_ <= from_) return std::move(result_);
    try {
      find_pieces();
      plan_chunks();
      for (std::size_t i = 0; i < chunks_.size();) {
        if (chunks_[i].from_summary) {
          result_.changes->append(chunks_[i].summary->changes);
          result_.summarized_bytes += chunks_[i].end - chunks_[i].start;
          ++i;
          continue;
        }
        auto j = i;
        while (j + 1 < chunks_.size() && !chunks_[j + 1].from_summary) ++j;
        decode_run(i, j);
        i = j + 1;
      }
    } catch (const Missing& m) {
      result_.changes.reset();
      result_.missing = fmt::format(
          "the archived WAL between {} and {} on timeline {} is not "
          "whole: {}",
          postgres::format_lsn(from_), postgres::format_lsn(to_), timeline_, m.what);
    }
    return std::move(result_);
  }

 private:
  std::string file_name(std::uint64_t segment) const {
    return postgres::wal_file_name(timeline_, segment, size_);
  }

  // Every segment of the range, whole up to where the range needs it, then their summaries
  // (none is read while the WAL is not whole: a backup waiting for capture asks again).
  void find_pieces() {
    for (const auto& p : source_.pieces())
      if (p.timeline == timeline_) pieces_[p.segment] = p;
    auto first = postgres::segment_of(from_, size_), last = postgres::segment_of(to_ - 1, size_);
    for (auto s = first; s <= last; ++s) {
      auto it = pieces_.find(s);
      if (it == pieces_.end()) throw Missing{file_name(s) + " is not in the archive"};
      if (it->second.end < std::min<Lsn>(to_, (s + 1) * size_))
        throw Missing{
            fmt::format("{} ends at {}", file_name(s), postgres::format_lsn(it->second.end))};
    }
    for (auto s = first; s <= last; ++s) load_summary(pieces_.at(s));
  }

  void load_summary(const WalPiece& piece) {
    if (!piece.record) return;
    auto key = source_.summary_key(*piece.record);
    if (!key) return;
    try {
      summaries_[piece.segment] = read_wal_summary(*source_.store, *key, *piece.record);
    } catch (const std::exception& e) {
      result_.warnings.push_back(
          fmt::format("{} (the WAL of {} is decoded instead)", e.what(), piece.record->file));
    }
  }

  // The range in chunks; the first and last are always decoded (the range starts or ends
  // inside them), and so is a chunk whose summary is missing or incomplete.
  void plan_chunks() {
    auto chunk_size = postgres::wal_summary_chunk_size(size_);
    for (Lsn at = from_ - from_ % chunk_size; at < to_; at += chunk_size) {
      Chunk c{at, at + chunk_size};
      auto s = summaries_.find(postgres::segment_of(at, size_));
      if (s != summaries_.end() && s->second.chunk_size == chunk_size) {
        const auto& summary = s->second.chunks[(at - s->second.start) / chunk_size];
        if (summary.complete) c.summary = &summary;
      }
      chunks_.push_back(c);
    }
    for (std::size_t i = 1; i + 1 < chunks_.size(); ++i)
      chunks_[i].from_summary = chunks_[i].summary != nullptr;
    // Decoding a chunk starts at the record that runs into it; where the chunk before does
    // not know that record's start, decode that chunk too.
    for (auto i = chunks_.size(); i-- > 1;)
      if (!chunks_[i].from_summary && chunks_[i - 1].from_summary &&
          chunks_[i - 1].summary->record_across_end == postgres::kRecordAcrossUnknown)
        chunks_[i - 1].from_summary = false;
  }

  // Decodes the records ending in chunks [a, b] (and starting in the range).
  void decode_run(std::size_t a, std::size_t b) {
    auto page_floor = [](Lsn lsn) { return lsn - lsn % postgres::kWalPageSize; };
    Lsn feed_from = page_floor(from_);
    if (a > 0) {
      auto across = chunks_[a - 1].summary->record_across_end;
      feed_from = across == postgres::kNoRecordAcross ? chunks_[a].start : page_floor(across);
    }
    Lsn run_start = chunks_[a].start, feed_to = chunks_[b].end;
    postgres::WalScanner scanner(size_);
    scanner.set_record_sink([&](Lsn start, const postgres::WalRecordParts& record) {
      auto end = scanner.last_record_end();
      if (start >= from_ && start < to_ && end > run_start) result_.changes->add(record);
    });
    for (auto s = postgres::segment_of(feed_from, size_);
         s <= postgres::segment_of(feed_to - 1, size_); ++s)
      feed_segment(scanner, pieces_.at(s), feed_from, feed_to);
    if (scanner.ended() && scanner.position() < std::min(to_, feed_to))
      throw Missing{fmt::format("the WAL in {} ends at {}",
                                file_name(postgres::segment_of(scanner.position(), size_)),
                                postgres::format_lsn(scanner.position()))};
  }

  // Feeds the piece's bytes within [from, to); those before the range's end must be there.
  void feed_segment(postgres::WalScanner& scanner, const WalPiece& piece, Lsn from, Lsn to) {
    Lsn at = piece.start;
    auto sink = [&](Bytes b) {
      auto lo = std::max(at, from), hi = std::min(at + b.size(), to);
      if (lo < hi && !scanner.ended()) {
        scanner.feed(lo, b.subspan(lo - at, hi - lo), [](const postgres::WalEvent&) {});
        result_.decoded_bytes += hi - lo;
      }
      at += b.size();
    };
    if (piece.open)  // the open tail: only the part wanted (it may still be growing)
      read_open_part(*piece.open, std::max(from, piece.start), to, at, sink);
    else
      source_.read(piece, sink);
    if (at < std::min({to, to_, piece.start + size_}))
      throw Missing{
          fmt::format("{} ends at {}", file_name(piece.segment), postgres::format_lsn(at))};
  }

  // Calls sink with the tail's bytes in [from, to), or as many as it holds, a MiB at a time,
  // from `at` = from on.
  void read_open_part(const OpenWalTail& tail, Lsn from, Lsn to, Lsn& at,
                      const std::function<void(Bytes)>& sink) const {
    std::vector<std::uint8_t> buffer(std::min<std::uint64_t>(to - from, 1u << 20));
    at = from;
    for (Lsn next = from; next < to;) {
      auto want = std::min<std::uint64_t>(buffer.size(), to - next);
      auto n = tail.file->pread_some(std::span(buffer).first(want), next - tail.segment * size_);
      if (n == 0) break;  // the tail ends here
      sink(Bytes(buffer).first(n));
      next += n;
    }
  }

  const WalSourceListing& source_;
  TimelineId timeline_;
  Lsn from_, to_;
  std::uint64_t size_;
  std::map<std::uint64_t, WalPiece> pieces_;
  std::map<std::uint64_t, postgres::WalSegmentSummary> summaries_;
  std::vector<Chunk> chunks_;
  WalChangeScan result_;
};

}  // namespace

WalChangeScan scan_wal_changes(const WalSourceListing& source, TimelineId timeline, Lsn from,
                               Lsn to) {
  return RangeScan(source, timeline, from, to).run();
}

}  // namespace pitr::archive
