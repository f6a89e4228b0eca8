// WAL summaries (formats/postgres/wal_summary.hpp) built and stored as capture does while it
// seals segments, and read back by the incremental backup's WAL scan
// (archive/wal_change_scan.hpp): between any two record boundaries the scan's change map
// equals the one decoded from the WAL alone, with summaries, without them, and with a
// damaged one.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <random>

#include "archive/archive_layout.hpp"
#include "archive/wal_change_scan.hpp"
#include "archive/wal_summary_object.hpp"
#include "archive/wal_verify.hpp"
#include "capture/postgres/wal_writer.hpp"
#include "formats/postgres/wal_summary.hpp"
#include "tests/unit/temp_dir.hpp"
#include "tests/unit/wal_builder.hpp"

namespace pitr::postgres {
namespace {

using test::Block;
using test::put;
using test::record;
using test::rel_file;

constexpr std::uint64_t kSegment = 4 << 20;  // four chunks of 1 MiB
constexpr std::uint16_t kPg15 = 0xD110;
const RelFile kRels[] = {{1663, 5, 16384}, {1663, 5, 16390}, {1663, 7, 16400}};
const RelFile kLargeRecords{1663, 5, 17000};  // named by large records only: never cut

std::string dump(const WalChanges& c) {
  std::string out;
  c.for_each_fork([&](const RelFile& f, Fork fork, const WalChanges::ForkChanges& changes) {
    out += fmt::format("{}/{}/{} fork {} limit {} blocks {}\n", f.spc, f.db, f.rel,
                       static_cast<int>(fork), changes.limit ? std::to_string(*changes.limit) : "-",
                       fmt::join(changes.blocks, ","));
  });
  for (auto [spc, db] : c.replaced_databases()) out += fmt::format("database {}/{}\n", spc, db);
  out += fmt::format("minimal {} unknown {}\n", c.minimal_wal_seen(), c.unknown_file_change_seen());
  return out;
}

// Random WAL: small heap-like records naming blocks, a few large ones (`large` per mille,
// of `large_min` to twice that) that cross chunks and segments, truncations, relation
// creations and database creations.
class RandomWal {
 public:
  RandomWal(std::uint64_t segment, std::uint64_t bytes, std::uint32_t large = 3,
            std::uint32_t large_min = 512 * 1024)
      : wal_(segment) {
    std::mt19937 rng(7);
    auto pick = [&](std::uint32_t n) {
      return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(rng);
    };
    while (wal_.bytes().size() < bytes) {
      auto kind = pick(1000);
      const auto& rel = kRels[pick(3)];
      std::vector<std::uint8_t> r;
      if (kind < large) {  // naming a block no other record names, so that losing it shows
        r = record(10, 0,
                   {{kLargeRecords, 0, static_cast<std::uint32_t>(starts_.size()), false, {1}, {}}},
                   std::vector<std::uint8_t>(large_min + pick(large_min), 9));
      } else if (kind < large + 5) {  // truncation to a few blocks
        std::vector<std::uint8_t> main;
        put(main, pick(50), 4);
        auto f = rel_file(rel);
        main.insert(main.end(), f.begin(), f.end());
        put(main, 1, 4);
        r = record(2, 0x20, {}, main);
      } else if (kind < large + 7) {  // creation of a fork
        auto main = rel_file(rel);
        put(main, pick(3) == 0 ? 2 : 0, 4);
        r = record(2, 0x10, {}, main);
      } else if (kind < large + 8) {  // a database created
        std::vector<std::uint8_t> main;
        put(main, 20000 + pick(100), 4);
        put(main, 1663, 4);
        r = record(4, 0x10, {}, main);
      } else {
        std::vector<Block> blocks{{rel, 0, pick(300), false, {1, 2}, {}}};
        if (pick(2))
          blocks.push_back({rel, static_cast<std::uint8_t>(pick(3)), pick(300), true, {3}, {}});
        r = record(10, 0, blocks, std::vector<std::uint8_t>(pick(400), 1));
      }
      starts_.push_back(wal_.add_record(r));
      ends_.push_back(wal_.bytes().size());
      records_.push_back(std::move(r));
    }
  }

  const std::vector<std::uint8_t>& bytes() const { return wal_.bytes(); }
  const std::vector<Lsn>& starts() const { return starts_; }
  const std::vector<Lsn>& ends() const { return ends_; }
  // The map of the records that start in [from, to), decoded one by one.
  WalChanges between(Lsn from, Lsn to) const {
    WalChanges c;
    for (std::size_t i = 0; i < starts_.size(); ++i)
      if (starts_[i] >= from && starts_[i] < to) c.add(decode_wal_record(records_[i], kPg15));
    return c;
  }
  // The map of the records that end in (from, to].
  WalChanges ending_in(Lsn from, Lsn to) const {
    WalChanges c;
    for (std::size_t i = 0; i < ends_.size(); ++i)
      if (ends_[i] > from && ends_[i] <= to) c.add(decode_wal_record(records_[i], kPg15));
    return c;
  }

 private:
  test::WalBuilder wal_;
  std::vector<Lsn> starts_, ends_;
  std::vector<std::vector<std::uint8_t>> records_;
};

// Scans `pairs` random ranges between record boundaries (and up to the WAL's end) and
// compares each with the records decoded one by one; returns the bytes the scans decoded.
std::uint64_t compare_random_ranges(const archive::WalSourceListing& l, const RandomWal& wal,
                                    int pairs, std::uint64_t* summarized = nullptr) {
  std::mt19937 rng(11);
  const auto& starts = wal.starts();
  std::uniform_int_distribution<std::size_t> any(0, starts.size());
  auto at = [&](std::size_t k) { return k == starts.size() ? wal.bytes().size() : starts[k]; };
  std::uint64_t decoded = 0;
  for (int i = 0; i < pairs; ++i) {
    auto a = any(rng), b = any(rng);
    if (a > b) std::swap(a, b);
    auto scan = archive::scan_wal_changes(l, 1, at(a), at(b));
    EXPECT_TRUE(scan.changes) << scan.missing;
    if (!scan.changes) continue;
    EXPECT_EQ(dump(*scan.changes), dump(wal.between(at(a), at(b))))
        << "range " << format_lsn(at(a)) << " to " << format_lsn(at(b));
    decoded += scan.decoded_bytes;
    if (summarized) *summarized += scan.summarized_bytes;
  }
  return decoded;
}

class WalSummaryScanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { wal_ = new RandomWal(kSegment, 3 * kSegment + kSegment / 2); }
  static void TearDownTestSuite() { delete wal_; }

  void SetUp() override {
    arch_.create_or_check();
    archive::remember_wal_source(arch_, source_);
    capture::WalWriter writer(arch_, source_, {1, 1});
    writer.write(1, 0, wal_->bytes());
    writer.finish();
  }

  archive::WalSourceListing listing() const { return archive::list_wal_sources(arch_).at(0); }
  std::string summary_key(std::uint64_t segment) const {
    return archive::layout::wal_summary(source_.source_id, wal_file_name(1, segment, kSegment));
  }

  std::uint64_t scan_ranges_and_compare(int pairs, std::uint64_t* summarized = nullptr) {
    return compare_random_ranges(listing(), *wal_, pairs, summarized);
  }

  static RandomWal* wal_;
  test::TempDir dir_;
  archive::Archive arch_ = archive::Archive::local(dir_.path() / "archive");
  archive::WalSource source_{"pg-42", 42, kSegment};
};

RandomWal* WalSummaryScanTest::wal_ = nullptr;

TEST_F(WalSummaryScanTest, CaptureStoresASummaryForEveryCompleteSegment) {
  auto l = listing();
  ASSERT_EQ(l.segments.size(), 3u);
  for (const auto& r : l.segments) EXPECT_TRUE(l.summary_key(r)) << r.file;
  EXPECT_EQ(l.open.size(), 1u);  // the last segment is the open tail: no summary yet
}

TEST_F(WalSummaryScanTest, ScanWithSummariesEqualsDecodingTheWal) {
  std::uint64_t summarized = 0;
  scan_ranges_and_compare(150, &summarized);
  EXPECT_GT(summarized, 0u);
  // A long range decodes its two end chunks and what large records add to them, not more.
  auto l = listing();
  auto from = wal_->starts()[3], to = wal_->starts()[wal_->starts().size() - 3];
  auto scan = archive::scan_wal_changes(l, 1, from, to);
  ASSERT_TRUE(scan.changes) << scan.missing;
  EXPECT_EQ(dump(*scan.changes), dump(wal_->between(from, to)));
  EXPECT_GT(scan.summarized_bytes, 2 * kSegment);
  EXPECT_LT(scan.decoded_bytes, 6u << 20) << "of " << to - from;
}

TEST_F(WalSummaryScanTest, MissingOrDamagedSummariesAreReadAround) {
  arch_.store().remove(summary_key(1));
  archive::write_file_atomically(dir_.path() / "archive" / summary_key(2), as_bytes("garbage"));
  auto l = listing();
  auto scan = archive::scan_wal_changes(l, 1, wal_->starts()[1], wal_->bytes().size());
  ASSERT_TRUE(scan.changes) << scan.missing;
  ASSERT_EQ(scan.warnings.size(), 1u);
  EXPECT_NE(scan.warnings[0].find(summary_key(2)), std::string::npos) << scan.warnings[0];
  EXPECT_EQ(dump(*scan.changes), dump(wal_->between(wal_->starts()[1], wal_->bytes().size())));
  scan_ranges_and_compare(60);
}

TEST_F(WalSummaryScanTest, ASummaryOfOtherBytesIsNotUsed) {
  // Segment 0's summary under segment 1's name: it names another segment.
  auto zero = dir_.path() / "archive" / summary_key(0);
  auto one = dir_.path() / "archive" / summary_key(1);
  archive::fs::copy_file(zero, one, archive::fs::copy_options::overwrite_existing);
  auto scan = archive::scan_wal_changes(listing(), 1, wal_->starts()[1], wal_->bytes().size());
  ASSERT_TRUE(scan.changes) << scan.missing;
  ASSERT_EQ(scan.warnings.size(), 1u);
  EXPECT_NE(scan.warnings[0].find("describes the segment at 0/0"), std::string::npos)
      << scan.warnings[0];
  EXPECT_EQ(dump(*scan.changes), dump(wal_->between(wal_->starts()[1], wal_->bytes().size())));
  // Segment 1's own summary with another SHA-256: other bytes.
  auto l = listing();
  auto summary = archive::read_wal_summary(arch_.store(), summary_key(2), l.segments.at(2));
  summary.start = l.segments.at(1).start;
  summary.segment_sha256 = std::string(64, 'c');
  archive::store_wal_summary(arch_.store(), summary_key(1), summary);
  scan = archive::scan_wal_changes(listing(), 1, wal_->starts()[1], wal_->bytes().size());
  ASSERT_TRUE(scan.changes) << scan.missing;
  ASSERT_EQ(scan.warnings.size(), 1u);
  EXPECT_NE(scan.warnings[0].find("describes other WAL"), std::string::npos) << scan.warnings[0];
  EXPECT_EQ(dump(*scan.changes), dump(wal_->between(wal_->starts()[1], wal_->bytes().size())));
}

TEST_F(WalSummaryScanTest, VerifyComparesEachSummaryWithItsSegment) {
  EXPECT_EQ(archive::verify_wal(listing()), std::vector<std::string>{});
  // One block more in a chunk of segment 1's summary, its SHA-256 still the segment's.
  auto l = listing();
  const auto& record = l.segments.at(1);
  auto summary = archive::read_wal_summary(arch_.store(), summary_key(1), record);
  summary.chunks[2].changes.add_block(kRels[2], Fork::kMain, 123456);
  archive::store_wal_summary(arch_.store(), summary_key(1), summary);
  auto problems = archive::verify_wal(listing());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find(summary_key(1) + " does not match the WAL of its segment"),
            std::string::npos)
      << problems[0];
  archive::write_file_atomically(dir_.path() / "archive" / summary_key(1), as_bytes("garbage"));
  problems = archive::verify_wal(listing());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find(summary_key(1)), std::string::npos) << problems[0];
}

// Segments of 256 KiB (one chunk each), records spanning up to four of them, and capture
// stopped mid-segment and resumed: the ranges still equal decoding the WAL, and verify
// agrees with every summary.
TEST(WalSummarySmallSegments, RecordsAcrossSegmentsAndACaptureResumed) {
  constexpr std::uint64_t kSmall = 256 << 10;
  RandomWal wal(kSmall, 24 * kSmall, 2, 300 << 10);
  test::TempDir dir;
  auto arch = archive::Archive::local(dir.path() / "archive");
  arch.create_or_check();
  archive::WalSource source{"pg-43", 43, kSmall};
  archive::remember_wal_source(arch, source);
  // Cut inside a segment that begins in the middle of a record: the resumed scan cannot
  // see that record, so that segment's summary must not claim its first chunk.
  Lsn cut = 0;
  for (std::size_t i = 0; i < wal.starts().size() && !cut; ++i) {
    auto next_segment = wal.starts()[i] / kSmall * kSmall + kSmall;
    if (wal.starts()[i] > 4 * kSmall && wal.ends()[i] > next_segment &&
        next_segment + 12345 < wal.ends()[i] && wal.ends()[i] + kSmall < wal.bytes().size())
      cut = next_segment + 12345;
  }
  ASSERT_NE(cut, 0u);

  {
    capture::WalWriter writer(arch, source, {1, 1});
    writer.write(1, 0, Bytes(wal.bytes()).first(cut));
    writer.finish();
  }
  capture::WalWriter writer(arch, source, {1, 1});
  auto at = writer.recover();
  ASSERT_TRUE(at);
  ASSERT_LE(at->lsn, cut);
  writer.write(1, at->lsn, Bytes(wal.bytes()).subspan(at->lsn));
  writer.finish();
  auto l = archive::list_wal_sources(arch).at(0);
  EXPECT_GE(l.summarized.size(), 20u);
  std::uint64_t summarized = 0;
  compare_random_ranges(l, wal, 150, &summarized);
  EXPECT_GT(summarized, 0u);
  EXPECT_EQ(archive::verify_wal(l), std::vector<std::string>{});
}

// The builder on its own: a scan that starts inside a segment knows nothing of the chunks
// before its first record, and says so.
TEST(WalSummaryBuilder, AScanStartedMidSegmentMarksEarlierChunksIncomplete) {
  RandomWal wal(kSegment, kSegment + 1000);
  WalScanner scanner(kSegment);
  WalSummaryBuilder builder(kSegment);
  Lsn begin = (1 << 20) + 5 * kWalPageSize;  // a page in chunk 1
  builder.restart(begin);
  builder.follow(scanner);
  scanner.feed(begin, Bytes(wal.bytes()).subspan(begin, kSegment - begin), [](const WalEvent&) {});
  auto summary = builder.seal(kSegment, scanner.open_record());
  ASSERT_EQ(summary.chunks.size(), 4u);
  EXPECT_FALSE(summary.chunks[0].complete);
  EXPECT_FALSE(summary.chunks[1].complete);
  EXPECT_TRUE(summary.chunks[2].complete);
  EXPECT_TRUE(summary.chunks[3].complete);
  EXPECT_EQ(summary.chunks[0].record_across_end, kRecordAcrossUnknown);
  // Chunks 2 and 3 hold the records ending in them.
  EXPECT_EQ(dump(summary.chunks[2].changes), dump(wal.ending_in(2 << 20, 3 << 20)));
  EXPECT_EQ(dump(summary.chunks[3].changes), dump(wal.ending_in(3 << 20, kSegment)));
  EXPECT_GT(summary.chunks[2].changes.records(), 100u);
}

TEST(WalSummaryEncoding, RoundTripsAndRefusesDamage) {
  WalSegmentSummary s;
  s.start = 3 * kSegment;
  s.segment_size = kSegment;
  s.chunk_size = wal_summary_chunk_size(kSegment);
  s.segment_sha256 = std::string(64, 'a');
  s.chunks.resize(4);
  s.chunks[0].complete = false;
  s.chunks[0].record_across_end = kRecordAcrossUnknown;
  s.chunks[1].complete = true;
  s.chunks[1].record_across_end = 3 * kSegment + (2 << 20) - 100;
  for (std::uint32_t b : {1u, 2u, 3u, 9u, 70000u})
    s.chunks[1].changes.add_block(kRels[0], Fork::kMain, b);
  s.chunks[1].changes.cut(kRels[1], Fork::kVm, 4);
  s.chunks[1].changes.add_block(kRels[1], Fork::kVm, 6);
  s.chunks[2].complete = true;
  s.chunks[2].changes.replace_database(1663, 20001);
  s.chunks[2].changes.mark_minimal_wal();
  s.chunks[3].complete = true;
  s.chunks[3].changes.mark_unknown_file_change();
  auto bytes = encode_wal_summary(s);
  auto back = decode_wal_summary(bytes);
  EXPECT_EQ(back.start, s.start);
  EXPECT_EQ(back.segment_sha256, s.segment_sha256);
  ASSERT_EQ(back.chunks.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(back.chunks[i].complete, s.chunks[i].complete) << i;
    EXPECT_EQ(back.chunks[i].record_across_end, s.chunks[i].record_across_end) << i;
    EXPECT_EQ(dump(back.chunks[i].changes), dump(s.chunks[i].changes)) << i;
  }
  for (std::size_t at = 0; at < bytes.size(); at += 7) {
    auto flipped = bytes;
    flipped[at] ^= 0x10;
    EXPECT_THROW(decode_wal_summary(flipped), DecodeError) << at;
  }
  for (std::size_t n = 0; n < bytes.size(); n += 5)
    EXPECT_THROW(decode_wal_summary(Bytes(bytes).first(n)), DecodeError) << n;
}

TEST(WalSummaryEncoding, AHostileRunLengthIsRefusedBeforeItCosts) {
  WalSegmentSummary s;
  s.segment_size = kSegment;
  s.chunk_size = wal_summary_chunk_size(kSegment);
  s.segment_sha256 = std::string(64, 'b');
  s.chunks.resize(4);
  s.chunks[0].changes.add_block(kRels[0], Fork::kMain, 5);
  auto bytes = encode_wal_summary(s);
  // The one run (block 5, count 1) made 2^31 blocks long, and the CRC made right again.
  std::vector<std::uint8_t> run{5, 0, 0, 0, 1, 0, 0, 0};
  auto it = std::search(bytes.begin(), bytes.end(), run.begin(), run.end());
  ASSERT_NE(it, bytes.end());
  store_le(&*it + 4, 1u << 31, 4);
  store_le(bytes.data() + bytes.size() - 4, crc32c(Bytes(bytes).first(bytes.size() - 4)), 4);
  EXPECT_THROW(decode_wal_summary(bytes), DecodeError);
}

}  // namespace
}  // namespace pitr::postgres
