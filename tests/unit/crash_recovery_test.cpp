// Every state a kill -9 of capture can leave around a binlog rotation or a WAL segment end,
// built from files, then recovered: capture must resume (never refuse), and the archive
// must end up holding every byte once, with pitr verify's checks clean.
#include <gtest/gtest.h>

#include "archive/binlog_archive.hpp"
#include "archive/segment_file.hpp"
#include "archive/wal_archive.hpp"
#include "archive/wal_verify.hpp"
#include "capture/postgres/wal_writer.hpp"
#include "capture/segment_writer.hpp"
#include "formats/binlog/event_reader.hpp"
#include "tests/unit/fixture_path.hpp"
#include "tests/unit/temp_dir.hpp"
#include "tests/unit/wal_builder.hpp"

namespace pitr {
namespace {

using archive::fs::path;

// Files in `dir` that only a crash leaves: open segments and interrupted atomic writes.
std::vector<std::string> crash_leftovers(const path& dir) {
  std::vector<std::string> out;
  for (const auto& e : archive::fs::directory_iterator(dir)) {
    auto name = e.path().filename().string();
    if (archive::layout::is_partial_name(name) || e.path().extension() == ".tmp")
      out.push_back(name);
  }
  return out;
}

// A source's first binlog archived whole (it ends with a ROTATE naming the next file), then
// a crash around the rotation. The next file gets the same bytes (so its own ROTATE names
// itself): the writer does not look at what a ROTATE names, only the catalog does.
struct BinlogRotationCrash : test::FixtureFiles {
  void SetUp() override {
    test::FixtureFiles::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    arch.create_or_check();
    image = test::read_fixture(first);
  }

  capture::SegmentWriter writer(bool sync_each_transaction = false,
                                std::uint64_t max_bytes = 4096) {
    capture::SegmentPolicy policy;
    policy.max_bytes = max_bytes;
    policy.sync_each_transaction = sync_each_transaction;
    return capture::SegmentWriter(arch, source, policy);
  }

  // Writes events of `file` from `offset` on, as a replication session does (for a start
  // in the middle, the server first re-sends the file's FORMAT_DESCRIPTION_EVENT).
  void stream(capture::SegmentWriter& w, const std::string& file, std::uint64_t offset,
              std::uint64_t until = UINT64_MAX) {
    if (w.file() != file || w.file_ended()) w.begin_file(file, offset <= 4 ? 0 : offset);
    binlog::EventReader reader(image, file);
    while (auto ev = reader.next()) {
      if (ev->offset == 4) w.note_format_description(ev->raw);
      if (ev->offset < offset) continue;
      if (ev->offset >= until) break;
      w.append(ev->raw);
      w.end_event(ev->header, ev->raw, reader.format());
    }
  }

  // The archived bytes of `file` from where its archived part begins.
  std::vector<std::uint8_t> archived_part(const std::string& file) const {
    archive::BinlogArchive catalog(arch);
    std::vector<std::uint8_t> got;
    catalog.read_log(catalog.find(file, std::nullopt),
                     [&](Bytes b) { got.insert(got.end(), b.begin(), b.end()); });
    return got;
  }

  void archive_first_file() {
    auto w = writer();
    stream(w, first, 4);
    w.finish();
  }

  path next_partial() const { return file_of(archive::layout::partial(source, next, 0)); }
  path log_dir(const std::string& file) const {
    return file_of(archive::layout::log_prefix(source, file));
  }
  // Where the local store (and spool) keeps a key.
  path file_of(const std::string& key) const { return root / key; }

  // Capture restarts: it must resume at the next file's start and, once the server has sent
  // it, the archive holds both files byte for byte with nothing left of the crash.
  void restart_resumes_at_next_file() {
    auto w = writer();
    std::optional<capture::LogPosition> at;
    ASSERT_NO_THROW(at = w.recover());
    ASSERT_TRUE(at);
    EXPECT_EQ(at->file, next);
    EXPECT_EQ(at->offset, 4u);
    stream(w, at->file, at->offset);
    w.finish();
    archive::BinlogArchive catalog(arch);
    EXPECT_EQ(catalog.verify(), std::vector<std::string>{});
    for (const auto& name : {first, next}) {
      std::vector<std::uint8_t> got;
      catalog.write_log(catalog.find(name, std::nullopt),
                        [&](Bytes b) { got.insert(got.end(), b.begin(), b.end()); });
      EXPECT_TRUE(got == image) << name << " differs from what the server wrote";
    }
    EXPECT_EQ(crash_leftovers(log_dir(first)), std::vector<std::string>{});
  }

  // A sealed segment of the first file as the sealer found it: still open (its sealed copy
  // is removed when `sealed_too` is false), with an interrupted compression beside it.
  void unseal_segment_of_first_file(bool sealed_too, std::size_t index = SIZE_MAX) {
    archive::BinlogArchive catalog(arch);
    const auto& segments = catalog.find(first, std::nullopt).segments;
    const auto& last = segments.at(std::min(index, segments.size() - 1));
    std::vector<std::uint8_t> bytes;
    archive::read_segment(arch.store(), last.key, last.record,
                          [&](Bytes b) { bytes.insert(bytes.end(), b.begin(), b.end()); });
    archive::write_file_atomically(
        file_of(archive::layout::partial(source, first, last.record.start)), bytes);
    if (!sealed_too) {
      archive::fs::remove(file_of(last.key));
      archive::write_file_atomically(file_of(last.key + ".tmp"), Bytes(bytes).first(100));
    }
  }

  test::TempDir dir;
  path root = dir.path() / "archive";
  archive::Archive arch = archive::Archive::local(root);
  const std::string source = "mysql-test";
  const std::string first = "mysql-bin.checksum-crc32", next = "mysql-bin.000002";
  std::vector<std::uint8_t> image;
};

TEST_F(BinlogRotationCrash, NextFileDirectoryWithoutSegments) {
  archive_first_file();
  archive::fs::create_directories(log_dir(next));
  restart_resumes_at_next_file();
}

// The state of issue 10: the new file's open segment was created, none of it durable.
TEST_F(BinlogRotationCrash, NextFileOpenSegmentEmpty) {
  archive_first_file();
  archive::fs::create_directories(log_dir(next));
  archive::write_file_atomically(next_partial(), {});
  restart_resumes_at_next_file();
}

TEST_F(BinlogRotationCrash, NextFileMagicTorn) {
  archive_first_file();
  archive::fs::create_directories(log_dir(next));
  archive::write_file_atomically(next_partial(), Bytes(image).first(2));
  restart_resumes_at_next_file();
}

TEST_F(BinlogRotationCrash, NextFileFormatDescriptionTorn) {
  archive_first_file();
  archive::fs::create_directories(log_dir(next));
  archive::write_file_atomically(next_partial(), Bytes(image).first(4 + 30));
  restart_resumes_at_next_file();
}

// The ROTATE's segment was handed to the sealer and the next file began before the sealer
// finished: the older file still has an open segment and a half-written sealed one.
TEST_F(BinlogRotationCrash, PreviousFileStillBeingSealed) {
  archive_first_file();
  unseal_segment_of_first_file(false);
  archive::fs::create_directories(log_dir(next));
  archive::write_file_atomically(next_partial(), {});
  restart_resumes_at_next_file();
}

// The sealer renamed the sealed segment into place but had not removed the open one.
TEST_F(BinlogRotationCrash, PreviousFileSealedButOpenSegmentNotRemoved) {
  archive_first_file();
  unseal_segment_of_first_file(true);
  archive::fs::create_directories(log_dir(next));
  archive::write_file_atomically(next_partial(), Bytes(image).first(4));
  restart_resumes_at_next_file();
}

// The newest file's first segment was handed off by size and the next one opened, empty,
// before the sealer ran: recovery seals the first and resumes after it, not at the start.
TEST_F(BinlogRotationCrash, HandedOffSegmentThenEmptyOpenSegment) {
  archive_first_file();
  archive::BinlogArchive catalog(arch);
  const auto& segments = catalog.find(first, std::nullopt).segments;
  ASSERT_GT(segments.size(), 2u);
  auto handed_off_end = segments[0].record.end;
  unseal_segment_of_first_file(false, 0);
  for (std::size_t i = 1; i < segments.size(); ++i) archive::fs::remove(file_of(segments[i].key));
  archive::write_file_atomically(file_of(archive::layout::partial(source, first, handed_off_end)),
                                 {});
  auto w = writer();
  auto at = w.recover();
  ASSERT_TRUE(at);
  EXPECT_EQ(at->file, first);
  EXPECT_EQ(at->offset, handed_off_end);
  stream(w, first, at->offset);
  w.finish();
  EXPECT_TRUE(archived_part(first) == image);
  EXPECT_EQ(archive::BinlogArchive(arch).verify(), std::vector<std::string>{});
}

// Capture started in the middle of a file (--start-pos, --start-gtid): the archived part
// does not hold the file's FORMAT_DESCRIPTION_EVENT, yet after a crash its complete
// transactions must be kept, not cut back to nothing because nobody can parse them.
TEST_F(BinlogRotationCrash, MidFileStartKeepsItsTransactions) {
  archive_first_file();
  auto from = archive::BinlogArchive(arch).find(first, std::nullopt).segments[1].record.start;
  archive::fs::remove_all(file_of(archive::layout::binlog_prefix()));
  {
    auto w = writer(true, 1 << 20);  // nothing sealed: all of it in the open segment
    stream(w, first, from, from + 6000);
  }  // destroyed without finish(): what a kill -9 leaves
  auto w = writer();
  auto at = w.recover();
  ASSERT_TRUE(at);
  EXPECT_EQ(at->file, first);
  EXPECT_GT(at->offset, from + 3000) << "complete transactions were dropped";
  stream(w, first, at->offset);
  w.finish();
  EXPECT_TRUE(archived_part(first) ==
              std::vector<std::uint8_t>(image.begin() + static_cast<long>(from), image.end()));
  EXPECT_EQ(archive::BinlogArchive(arch).verify(), std::vector<std::string>{});
}

// WAL of timeline 1 over a few 1 MiB segments, and capture crashing at a segment end.
struct WalSegmentEndCrash : ::testing::Test {
  static constexpr std::uint64_t kSegment = 1 << 20;

  void SetUp() override {
    arch.create_or_check();
    archive::remember_wal_source(arch, source);
    test::WalBuilder builder(kSegment);
    for (std::uint32_t i = 0; builder.bytes().size() < 2 * kSegment + kSegment / 2; ++i) {
      builder.add(0, 10, 0, std::vector<std::uint8_t>(9000, static_cast<std::uint8_t>(i)));
      builder.add(700 + i, 1, 0x00, test::commit_body(1000 + i));
    }
    wal = builder.bytes();
  }

  capture::WalWriter writer() { return capture::WalWriter(arch, source, {1, 1}); }
  void write(capture::WalWriter& w, postgres::Lsn from, postgres::Lsn to) {
    w.write(1, from, Bytes(wal).subspan(from, to - from));
  }
  path open_tail(std::uint64_t segment) const {
    return arch.spool_path(
        archive::layout::open_wal(source.source_id, postgres::wal_file_name(1, segment, kSegment)));
  }
  archive::WalSourceListing listing() const { return archive::list_wal_sources(arch).at(0); }

  // Capture restarts at `expected`, receives the rest, and the archive holds all of it.
  void restart_resumes_at(postgres::Lsn expected) {
    EXPECT_EQ(archive::verify_wal(listing()), std::vector<std::string>{});
    auto w = writer();
    std::optional<capture::WalPosition> at;
    ASSERT_NO_THROW(at = w.recover());
    ASSERT_TRUE(at);
    EXPECT_EQ(at->timeline, 1u);
    EXPECT_EQ(at->lsn, expected);
    write(w, at->lsn, wal.size());
    w.finish();
    auto l = listing();
    EXPECT_EQ(archive::verify_wal(l), std::vector<std::string>{});
    EXPECT_EQ(l.leftovers, std::vector<path>{});
    std::vector<std::uint8_t> got;
    for (const auto& piece : l.pieces())
      l.read(piece, [&](Bytes b) { got.insert(got.end(), b.begin(), b.end()); });
    EXPECT_TRUE(got == wal) << "archived " << got.size() << " bytes of " << wal.size();
  }

  test::TempDir dir;
  archive::Archive arch = archive::Archive::local(dir.path() / "archive");
  archive::WalSource source{"pg-42", 42, kSegment};
  std::vector<std::uint8_t> wal;
};

// The sealer renamed the sealed segment into place but had not removed the open tail.
TEST_F(WalSegmentEndCrash, SealedSegmentAndItsOpenTail) {
  {
    auto w = writer();
    write(w, 0, kSegment + 1000);
    w.finish();
  }
  archive::write_file_atomically(open_tail(0), Bytes(wal).first(kSegment));
  EXPECT_EQ(listing().open.size(), 1u);  // only segment 1's tail is open
  restart_resumes_at(kSegment + 1000);
  EXPECT_FALSE(archive::fs::exists(open_tail(0)));
}

// The next segment's tail was created, none of it durable.
TEST_F(WalSegmentEndCrash, NextSegmentTailEmpty) {
  {
    auto w = writer();
    write(w, 0, kSegment);
    w.finish();
  }
  archive::write_file_atomically(open_tail(1), {});
  restart_resumes_at(kSegment);
}

// A full tail handed to the sealer, and the next one begun, before the sealer ran.
TEST_F(WalSegmentEndCrash, FullTailNotYetSealed) {
  archive::write_file_atomically(open_tail(0), Bytes(wal).first(kSegment));
  archive::write_file_atomically(open_tail(1), Bytes(wal).subspan(kSegment, 500));
  restart_resumes_at(kSegment + 500);
}

}  // namespace
}  // namespace pitr
