#include "formats/postgres/wal_summary.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "formats/crc32c.hpp"
#include "formats/hex.hpp"

namespace pitr::postgres {
namespace {

constexpr std::string_view kMagic = "PITRWSUM";
constexpr std::uint32_t kVersion = 1;
constexpr std::uint32_t kMaxChunkSize = 1u << 20;
constexpr std::uint8_t kComplete = 1, kMinimalWal = 2, kUnknownFileChange = 4;

class Encoder {
 public:
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void bytes(Bytes b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void rel_file(const RelFile& f) {
    u32(f.spc);
    u32(f.db);
    u32(f.rel);
  }
  std::vector<std::uint8_t> take() { return std::move(out_); }
  const std::vector<std::uint8_t>& data() const { return out_; }

 private:
  void put(std::uint64_t v, std::size_t n) {
    auto at = out_.size();
    out_.resize(at + n);
    store_le(out_.data() + at, v, n);
  }
  std::vector<std::uint8_t> out_;
};

// Sorted unique blocks as runs of consecutive numbers.
std::vector<std::pair<std::uint32_t, std::uint32_t>> runs_of(
    const std::vector<std::uint32_t>& blocks) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> runs;
  for (auto b : blocks) {
    if (!runs.empty() && runs.back().first + runs.back().second == b)
      ++runs.back().second;
    else
      runs.push_back({b, 1});
  }
  return runs;
}

void encode_chunk(Encoder& e, const WalChunkSummary& chunk) {
  const auto& c = chunk.changes;
  e.u8(static_cast<std::uint8_t>((chunk.complete ? kComplete : 0) |
                                 (c.minimal_wal_seen() ? kMinimalWal : 0) |
                                 (c.unknown_file_change_seen() ? kUnknownFileChange : 0)));
  e.u64(chunk.record_across_end);
  e.u32(static_cast<std::uint32_t>(c.replaced_databases().size()));
  for (auto [spc, db] : c.replaced_databases()) {
    e.u32(spc);
    e.u32(db);
  }
  std::uint32_t forks = 0;
  c.for_each_fork([&](const RelFile&, Fork, const WalChanges::ForkChanges&) { ++forks; });
  e.u32(forks);
  c.for_each_fork([&](const RelFile& file, Fork fork, const WalChanges::ForkChanges& f) {
    e.rel_file(file);
    e.u8(static_cast<std::uint8_t>(fork));
    e.u8(f.limit ? 1 : 0);
    e.u32(f.limit.value_or(0));
    auto runs = runs_of(f.blocks);
    e.u32(static_cast<std::uint32_t>(runs.size()));
    for (auto [first, count] : runs) {
      e.u32(first);
      e.u32(count);
    }
  });
}

// A count read from the input that says how many items of `item_bytes` follow.
std::uint32_t count(ByteCursor& c, std::size_t item_bytes) {
  auto n = c.u32();
  c.need(std::size_t{n} * item_bytes);
  return n;
}

WalChunkSummary decode_chunk(ByteCursor& c, std::uint32_t chunk_size) {
  WalChunkSummary chunk;
  auto flags = c.u8();
  if (flags & ~(kComplete | kMinimalWal | kUnknownFileChange))
    throw DecodeError(fmt::format("WAL summary: unknown chunk flags {:#x}", flags));
  chunk.complete = flags & kComplete;
  if (flags & kMinimalWal) chunk.changes.mark_minimal_wal();
  if (flags & kUnknownFileChange) chunk.changes.mark_unknown_file_change();
  chunk.record_across_end = c.u64();
  for (auto n = count(c, 8); n > 0; --n) {
    auto spc = c.u32();
    chunk.changes.replace_database(spc, c.u32());
  }
  // A block reference takes at least 8 bytes of WAL, and the one record crossing into the
  // chunk names at most 33 blocks: this bounds a hostile input's cost.
  std::uint64_t blocks = 0;
  for (auto forks = count(c, 22); forks > 0; --forks) {
    auto file = read_rel_file(c);
    auto fork_number = c.u8();
    if (fork_number > static_cast<std::uint8_t>(Fork::kInit))
      throw DecodeError(fmt::format("WAL summary: fork number {} is not a fork", fork_number));
    auto fork = static_cast<Fork>(fork_number);
    auto has_limit = c.u8();
    auto limit = c.u32();
    if (has_limit > 1) throw DecodeError("WAL summary: a limit flag other than 0 or 1");
    if (has_limit) chunk.changes.cut(file, fork, limit);
    for (auto runs = count(c, 8); runs > 0; --runs) {
      auto first = c.u32();
      auto n = c.u32();
      blocks += n;
      if (blocks > chunk_size / 8 + 33 || std::uint64_t{first} + n > (std::uint64_t{1} << 32))
        throw DecodeError("WAL summary: more blocks than a chunk of WAL can name");
      for (std::uint32_t i = 0; i < n; ++i) chunk.changes.add_block(file, fork, first + i);
    }
  }
  return chunk;
}

}  // namespace

std::uint32_t wal_summary_chunk_size(std::uint64_t segment_size) {
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(segment_size, kMaxChunkSize));
}

std::vector<std::uint8_t> encode_wal_summary(const WalSegmentSummary& s) {
  Encoder e;
  e.bytes(as_bytes(kMagic));
  e.u32(kVersion);
  e.u64(s.start);
  e.u64(s.segment_size);
  e.u32(s.chunk_size);
  auto sha = from_hex(s.segment_sha256);
  if (sha.size() != 32) throw std::invalid_argument("WAL summary without the segment's SHA-256");
  e.bytes(sha);
  e.u32(static_cast<std::uint32_t>(s.chunks.size()));
  for (const auto& chunk : s.chunks) encode_chunk(e, chunk);
  e.u32(crc32c(e.data()));
  return e.take();
}

WalSegmentSummary decode_wal_summary(Bytes data) {
  if (data.size() < 4 ||
      crc32c(data.first(data.size() - 4)) != load_le(data.data() + data.size() - 4, 4))
    throw DecodeError("WAL summary: damaged (its CRC does not match)");
  ByteCursor c(data.first(data.size() - 4), "WAL summary");
  if (c.text(kMagic.size()) != kMagic) throw DecodeError("WAL summary: not a WAL summary");
  if (auto v = c.u32(); v != kVersion)
    throw DecodeError(fmt::format("WAL summary: version {} is not one this pitr reads", v));
  WalSegmentSummary s;
  s.start = c.u64();
  s.segment_size = c.u64();
  s.chunk_size = c.u32();
  if (s.segment_size == 0 || s.chunk_size == 0 || s.chunk_size > kMaxChunkSize ||
      s.segment_size % s.chunk_size != 0 || s.start % s.segment_size != 0)
    throw DecodeError("WAL summary: its segment and chunk sizes do not fit together");
  s.segment_sha256 = to_hex(c.bytes(32));
  auto chunks = c.u32();
  if (chunks != s.segment_size / s.chunk_size)
    throw DecodeError("WAL summary: the number of chunks does not cover the segment");
  for (std::uint32_t i = 0; i < chunks; ++i) s.chunks.push_back(decode_chunk(c, s.chunk_size));
  if (!c.empty()) throw DecodeError("WAL summary: bytes after the last chunk");
  return s;
}

WalSummaryBuilder::WalSummaryBuilder(std::uint64_t segment_size)
    : segment_size_(segment_size), chunk_size_(wal_summary_chunk_size(segment_size)) {}

void WalSummaryBuilder::restart(Lsn lsn) {
  synced_ = false;
  current_ = {};
  current_.start = segment_start(lsn, segment_size_);
  current_.segment_size = segment_size_;
  current_.chunk_size = chunk_size_;
  current_.chunks.resize(segment_size_ / chunk_size_);
}

WalChunkSummary& WalSummaryBuilder::chunk_of(Lsn end) {
  if (end <= current_.start || end > current_.start + segment_size_)
    throw std::logic_error(fmt::format("a WAL record ending at {} is not in the segment at {}",
                                       format_lsn(end), format_lsn(current_.start)));
  return current_.chunks[(end - 1 - current_.start) / chunk_size_];
}

void WalSummaryBuilder::add(Lsn start, Lsn end, const WalRecordParts& record) {
  if (!synced_) first_seen_ = start;
  synced_ = true;
  chunk_of(end).changes.add(record);
  // Chunk ends inside the record, in this segment (the segment's own start was the last
  // segment's end, recorded when it was sealed).
  std::size_t k = start < current_.start ? 0 : (start - current_.start) / chunk_size_;
  for (; k + 1 < current_.chunks.size() && current_.chunk_start(k + 1) < end; ++k)
    current_.chunks[k].record_across_end = start;
}

void WalSummaryBuilder::follow(WalScanner& scanner) {
  scanner.set_raw_record_sink([this, &scanner](Lsn start, Bytes record, std::uint16_t magic) {
    try {
      add(start, scanner.last_record_end(), decode_wal_record(record, magic));
    } catch (const std::exception&) {
      lose_sync();
    }
  });
}

WalSegmentSummary WalSummaryBuilder::seal(Lsn end, const WalScanner::OpenRecord& open) {
  if (end != current_.start + segment_size_)
    throw std::logic_error("a WAL summary sealed before the end of its segment");
  for (std::size_t k = 0; k < current_.chunks.size(); ++k) {
    auto& chunk = current_.chunks[k];
    chunk.complete = synced_ && first_seen_ <= current_.chunk_start(k);
    // Before the first record seen, what crossed a chunk's end is not known.
    if (!synced_ || first_seen_ > current_.chunk_start(k + 1))
      chunk.record_across_end = kRecordAcrossUnknown;
  }
  if (synced_) {
    current_.chunks.back().record_across_end = !open.open         ? kNoRecordAcross
                                               : open.start_known ? open.start
                                                                  : kRecordAcrossUnknown;
    // A record still open at the segment's end crosses every chunk end after its start.
    for (std::size_t k = 0; open.open && open.start_known && k + 1 < current_.chunks.size(); ++k)
      if (open.start < current_.chunk_start(k + 1))
        current_.chunks[k].record_across_end = open.start;
  }
  auto sealed = std::move(current_);
  auto synced = synced_;
  restart(end);
  synced_ = synced;  // the scan goes on into the next segment
  return sealed;
}

}  // namespace pitr::postgres
