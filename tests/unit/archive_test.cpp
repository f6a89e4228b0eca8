// The archive without a server: real fixture binlogs fed through the segment writer,
// crashes simulated by damaging the open segment, and the archive read back.
#include <gtest/gtest.h>

#include <fstream>

#include "archive/binlog_archive.hpp"
#include "archive/partial_scan.hpp"
#include "archive/segment_file.hpp"
#include "archive/storage/local_directory_store.hpp"
#include "capture/segment_writer.hpp"
#include "formats/binlog/event_reader.hpp"
#include "formats/binlog/event_types.hpp"
#include "tests/unit/fixture_path.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr {
namespace {

using archive::fs::path;

std::vector<std::uint8_t> archived(const archive::Archive& a, const std::string& file) {
  archive::BinlogArchive catalog(a);
  std::vector<std::uint8_t> out;
  catalog.write_log(catalog.find(file, std::nullopt),
                    [&](Bytes b) { out.insert(out.end(), b.begin(), b.end()); });
  return out;
}

// Feeds the events of `image` (a whole binlog file) to a writer, stopping after
// `max_events` events.
void feed(capture::SegmentWriter& w, Bytes image, const std::string& name,
          std::size_t max_events = SIZE_MAX) {
  binlog::EventReader reader(image, name);
  w.begin_file(name, 0);
  for (std::size_t n = 0; n < max_events; ++n) {
    auto ev = reader.next();
    if (!ev) break;
    w.append(ev->raw);
    w.end_event(ev->header, ev->raw, reader.format());
  }
}

struct ArchiveFixture : test::FixtureFiles {
  // What a resumed capture does: writes the file's events from `offset` on, then the
  // archive must give back the whole file and verify clean.
  void finish_from(capture::SegmentWriter& w, const std::vector<std::uint8_t>& original,
                   const std::string& name, std::uint64_t offset) {
    binlog::EventReader reader(original, name);
    while (auto ev = reader.next()) {
      if (ev->offset < offset) continue;
      w.append(ev->raw);
      w.end_event(ev->header, ev->raw, reader.format());
    }
    w.finish();
    EXPECT_EQ(archived(arch, name), original);
    EXPECT_TRUE(archive::BinlogArchive(arch).verify().empty());
  }

  test::TempDir dir;
  path root = dir.path() / "archive";
  archive::Archive arch = archive::Archive::local(root);
  void SetUp() override {
    test::FixtureFiles::SetUp();  // skipped (or, under CI=true, failed) without the fixtures
    arch.create_or_check();
  }
  // Where the local store keeps an object.
  path file_of(const std::string& key) const { return root / key; }
  capture::SegmentWriter writer(std::uint64_t max_bytes) {
    capture::SegmentPolicy policy;
    policy.max_bytes = max_bytes;
    return capture::SegmentWriter(arch, "mysql-test", policy);
  }
};

TEST_F(ArchiveFixture, SegmentsGiveBackTheFileByteForByte) {
  const std::string name = "mysql-bin.checksum-crc32";
  auto original = test::read_fixture(name);
  auto w = writer(4096);
  feed(w, original, name);
  w.finish();
  EXPECT_GT(w.sealed_segments(), 3u);
  EXPECT_EQ(archived(arch, name), original);
  archive::BinlogArchive catalog(arch);
  EXPECT_TRUE(catalog.verify().empty());
  const auto& log = catalog.find(name, std::nullopt);
  EXPECT_TRUE(log.complete());
  EXPECT_EQ(log.segments.back().record.next_file, "mysql-bin.000002");
  std::uint64_t transactions = 0, expected_start = 0;
  for (const auto& s : log.segments) {
    EXPECT_EQ(s.record.start, expected_start);
    expected_start = s.record.end;
    transactions += s.record.transactions;
  }
  EXPECT_EQ(transactions, 60u);  // one per XID event in the file (SOURCES.md: 60 of type 16)
}

// `--archive archive`, a bare name: the directory to fsync after creating it (and its
// first files) is the current one, whose path is empty as parent_path() gives it.
TEST_F(ArchiveFixture, AnArchiveNamedRelativeToTheCurrentDirectoryIsWritten) {
  const std::string name = "mysql-bin.checksum-crc32";
  auto original = test::read_fixture(name);
  auto previous = archive::fs::current_path();
  archive::fs::current_path(dir.path());
  std::vector<std::uint8_t> read_back;
  try {
    auto relative = archive::Archive::local("relative-archive");
    relative.create_or_check();
    capture::SegmentWriter w(relative, "mysql-test", capture::SegmentPolicy{});
    feed(w, original, name);
    w.finish();
    read_back = archived(relative, name);
  } catch (...) {
    archive::fs::current_path(previous);
    throw;
  }
  archive::fs::current_path(previous);
  EXPECT_EQ(read_back, original);
}

// A `get` or restore racing a live capture: the open segment it listed is sealed and
// removed before it is read, and the listing still reads what it held.
TEST_F(ArchiveFixture, AnOpenSegmentSealedAfterListingStillReads) {
  const std::string name = "mysql-bin.checksum-crc32";
  auto original = test::read_fixture(name);
  capture::SegmentPolicy policy;
  policy.sync_each_transaction = true;
  capture::SegmentWriter w(arch, "mysql-test", policy);
  std::size_t events = 0, through_commit = 0;  // the events up to the 30th commit
  binlog::EventReader reader(original, name);
  for (int commits = 0; commits < 30;) {
    auto ev = reader.next();
    ASSERT_TRUE(ev);
    ++events;
    if (ev->header.type == static_cast<std::uint8_t>(binlog::EventType::kXid))
      ++commits, through_commit = events;
  }
  feed(w, original, name, through_commit);
  archive::BinlogArchive listed(arch);
  const auto& log = listed.find(name, std::nullopt);
  ASSERT_TRUE(log.tail());
  auto open_path = log.tail()->path;
  w.finish();
  ASSERT_FALSE(archive::fs::exists(open_path));
  std::vector<std::uint8_t> out;
  listed.write_log(log, [&](Bytes b) { out.insert(out.end(), b.begin(), b.end()); });
  EXPECT_GT(out.size(), 1000u);
  ASSERT_LE(out.size(), original.size());
  EXPECT_TRUE(std::equal(out.begin(), out.end(), original.begin()));
  EXPECT_TRUE(listed.verify().empty());
}

TEST_F(ArchiveFixture, CrashMidTransactionResumesAtTheLastBoundary) {
  const std::string name = "mysql-bin.checksum-crc32";
  auto original = test::read_fixture(name);
  for (std::size_t cut : {1ul, 3ul, 50ul, 101ul, 202ul}) {
    SCOPED_TRACE(cut);
    archive::fs::remove_all(file_of(archive::layout::binlog_prefix()));
    {
      capture::SegmentPolicy policy;
      policy.sync_each_transaction = true;
      capture::SegmentWriter w(arch, "mysql-test", policy);
      feed(w, original, name, cut);
    }  // destroyed without finish(): what a kill -9 leaves
    // The crash also left the beginning of the next transaction and a torn event.
    archive::BinlogArchive before(arch);
    const auto* partial = before.find(name, std::nullopt).tail();
    ASSERT_TRUE(partial);
    auto on_disk = archive::fs::file_size(partial->path);
    {
      std::ofstream torn(partial->path, std::ios::app | std::ios::binary);
      auto from = original.begin() + static_cast<long>(partial->start + on_disk);
      torn.write(reinterpret_cast<const char*>(&*from), 150);
      torn << "\x12\x34garbage";
    }
    auto w = writer(1 << 20);
    auto resume = w.recover();
    ASSERT_TRUE(resume);
    EXPECT_EQ(resume->file, name);
    if (w.file().empty()) {
      // Nothing complete survived: capture starts the file again.
      EXPECT_EQ(resume->offset, 4u);
      w.begin_file(name, 0);
    } else {
      // The resume point is a transaction boundary and the archived prefix is the file's.
      auto prefix = archived(arch, name);
      ASSERT_EQ(prefix.size(), resume->offset);
      // Complete transactions among the bytes the crash left behind are kept.
      EXPECT_GE(resume->offset, partial->start + on_disk);
      EXPECT_LT(resume->offset, partial->start + on_disk + 150);
      EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), original.begin()));
    }
    finish_from(w, original, name, resume->offset);
  }
}

TEST_F(ArchiveFixture, CrashAfterHandOffSealsTheWaitingSegments) {
  const std::string name = "mysql-bin.checksum-crc32";
  auto original = test::read_fixture(name);
  {
    auto w = writer(2048);
    feed(w, original, name);
    w.finish();
  }
  // Turn the archive into what a kill -9 leaves while segments wait for compression:
  // the last three sealed segments become open segments again, the final one torn.
  archive::BinlogArchive catalog(arch);
  auto segs = catalog.find(name, std::nullopt).segments;
  ASSERT_GE(segs.size(), 4u);
  for (std::size_t i = segs.size() - 3; i < segs.size(); ++i) {
    const auto& r = segs[i].record;
    archive::fs::remove(file_of(segs[i].key));
    std::ofstream out(file_of(archive::layout::partial("mysql-test", name, r.start)),
                      std::ios::binary);
    auto size = i + 1 == segs.size() ? r.size() - 10 : r.size();
    out.write(reinterpret_cast<const char*>(original.data() + r.start), static_cast<long>(size));
  }
  auto problems = archive::BinlogArchive(arch).verify();
  EXPECT_TRUE(problems.empty()) << problems.front();
  auto w = writer(2048);
  auto resume = w.recover();
  ASSERT_TRUE(resume);
  EXPECT_EQ(resume->file, name);
  // Resumes inside what was the last segment, at its last complete transaction.
  EXPECT_GT(resume->offset, segs.back().record.start);
  EXPECT_LT(resume->offset, segs.back().record.end);
  archive::BinlogArchive after(arch);
  EXPECT_EQ(after.find(name, std::nullopt).segments.size(), segs.size() - 1);
  finish_from(w, original, name, resume->offset);
}

TEST_F(ArchiveFixture, VerifyFindsDamageAndHoles) {
  const std::string name = "mysql-bin.checksum-none";
  auto w = writer(2048);
  feed(w, test::read_fixture(name), name);
  w.finish();
  archive::BinlogArchive catalog(arch);
  const auto& segs = catalog.find(name, std::nullopt).segments;
  ASSERT_GE(segs.size(), 4u);
  // Damage one byte of compressed data in the second segment, remove the third.
  {
    std::fstream f(file_of(segs[1].key), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x55');
  }
  archive::fs::remove(file_of(segs[2].key));
  auto problems = archive::BinlogArchive(arch).verify();
  ASSERT_EQ(problems.size(), 2u);
  std::string all = problems[0] + "\n" + problems[1];
  EXPECT_NE(all.find("hole"), std::string::npos) << all;
  EXPECT_TRUE(all.find("damaged") != std::string::npos || all.find("zstd") != std::string::npos ||
              all.find("checksum") != std::string::npos)
      << all;
}

TEST(SegmentFile, ResealingWithDifferentContentIsRefused) {  // reads no fixture
  test::TempDir dir;
  auto data_path = dir.path() / "data";
  {
    std::ofstream out(data_path, std::ios::binary);
    out << "0123456789abcdef";
  }
  archive::File source(data_path, archive::File::Mode::kRead);
  archive::SegmentRecord r;
  r.source_id = "s";
  r.file = "f.000001";
  r.start = 0;
  r.end = 16;
  storage::LocalDirectoryStore store(dir.path());
  const std::string dest = "seg.zst";
  archive::write_segment(store, dest, source, 0, r, 3);
  EXPECT_NO_THROW(archive::write_segment(store, dest, source, 0, r, 3));  // same bytes: no-op
  {
    std::ofstream out(data_path, std::ios::binary);
    out << "0123456789abcdeX";
  }
  archive::File changed(data_path, archive::File::Mode::kRead);
  EXPECT_THROW(archive::write_segment(store, dest, changed, 0, r, 3), archive::IoError);
  auto record = archive::read_segment_record(store, dest);
  std::string back;
  archive::read_segment(store, dest, record, [&](Bytes b) { back += as_text(b); });
  EXPECT_EQ(back, "0123456789abcdef");
}

using PartialScan = test::FixtureFiles;

TEST_F(PartialScan, EveryCutPointYieldsACompleteTransactionPrefix) {
  archive::MappedFile map(test::fixture("mariadb-bin.000001"));
  auto bytes = map.bytes();
  std::uint64_t last_boundary = 0;
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    auto scan = archive::scan_partial(bytes.first(cut), "mariadb-bin.000001", 0, std::nullopt);
    EXPECT_LE(scan.boundary, cut);
    EXPECT_GE(scan.boundary, last_boundary);  // never goes backwards as more bytes arrive
    last_boundary = scan.boundary;
    auto again = archive::scan_partial(bytes.first(scan.boundary), "x", 0, std::nullopt);
    EXPECT_FALSE(again.tail_problem) << cut;
    EXPECT_TRUE(again.stats.at_boundary());
  }
  EXPECT_EQ(last_boundary, bytes.size());
}

}  // namespace
}  // namespace pitr

namespace pitr {
namespace {

TEST(ArchiveLayout, KeysReadBackSplitWhereTheyWereBuilt) {
  namespace layout = archive::layout;
  auto seg = layout::parse_log_key(layout::segment("mariadb-1-0", "binlog.000007", 4));
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->source_id, "mariadb-1-0");
  EXPECT_EQ(seg->file, "binlog.000007");
  EXPECT_TRUE(layout::is_segment_name(seg->name));
  EXPECT_FALSE(layout::parse_log_key("binlog/src/file"));           // no name
  EXPECT_FALSE(layout::parse_log_key("binlog/src/file/sub/name"));  // one level too deep
  EXPECT_FALSE(layout::parse_log_key("gaps/1.json"));
  auto backup = layout::split_under(layout::backups_prefix(),
                                    layout::backup_file("20261130T000000Z", "data/a.sql.zst"));
  ASSERT_TRUE(backup);
  EXPECT_EQ(backup->first, "20261130T000000Z");
  EXPECT_EQ(backup->rest, "data/a.sql.zst");
  EXPECT_FALSE(layout::split_under(layout::backups_prefix(), "backups/only-an-id"));
  EXPECT_FALSE(layout::split_under(layout::wal_prefix(), "backups/x/y"));
}

}  // namespace
}  // namespace pitr
