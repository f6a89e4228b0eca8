// mariabackup's stream (formats/mariadb/mbstream_reader.hpp) and metadata files
// (formats/mariadb/backup_metadata.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "formats/mariadb/backup_metadata.hpp"
#include "formats/mariadb/innodb_delta.hpp"
#include "formats/mariadb/mbstream_reader.hpp"

namespace pitr::mariadb {
namespace {

struct Seen {
  std::map<std::string, std::string> files;
  std::vector<std::string> ended, events;
};

// What a stream says, applied as mbstream -x would (a payload may come in several pieces).
MbstreamReader reader_into(Seen& seen) {
  return MbstreamReader(
      {[&](const std::string& path, std::uint64_t offset, Bytes b, bool rewrite) {
         auto& f = seen.files[path];
         if (offset == f.size()) {
           f.append(reinterpret_cast<const char*>(b.data()), b.size());
         } else {
           f.replace(offset, b.size(),
                     std::string(reinterpret_cast<const char*>(b.data()), b.size()));
         }
         if (rewrite && (seen.events.empty() || seen.events.back() != "rewrite " + path))
           seen.events.push_back("rewrite " + path);  // once, however many pieces
       },
       [&](const std::string& path) { seen.ended.push_back(path); },
       [&](const std::string& path, std::uint64_t at) {
         seen.events.push_back("seek " + path + " " + std::to_string(at));
       },
       [&](const std::string& path) { seen.events.push_back("remove " + path); },
       [&](const std::string& from, const std::string& to) {
         seen.events.push_back("rename " + from + " " + to);
       }});
}

void append(std::vector<std::uint8_t>& out, const std::vector<std::uint8_t>& chunk) {
  out.insert(out.end(), chunk.begin(), chunk.end());
}

Bytes text(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Two files interleaved, as mariabackup --parallel sends them, and an empty one.
std::vector<std::uint8_t> sample_stream() {
  std::vector<std::uint8_t> s;
  append(s, mbstream_payload_chunk("ibdata1", 0, text("aaaa")));
  append(s, mbstream_payload_chunk("db/t.ibd", 0, text("bbbbbb")));
  append(s, mbstream_payload_chunk("ibdata1", 4, text("cc")));
  append(s, mbstream_end_chunk("ibdata1"));
  append(s, mbstream_end_chunk("empty.opt"));
  append(s, mbstream_end_chunk("db/t.ibd"));
  return s;
}

TEST(Mbstream, ReadsInterleavedFilesFedInAnyPieces) {
  auto stream = sample_stream();
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{31}, stream.size()}) {
    Seen seen;
    auto reader = reader_into(seen);
    for (std::size_t at = 0; at < stream.size(); at += piece)
      reader.feed(Bytes(stream).subspan(at, std::min(piece, stream.size() - at)));
    reader.finish();
    EXPECT_EQ(seen.files["ibdata1"], "aaaacc") << piece;
    EXPECT_EQ(seen.files["db/t.ibd"], "bbbbbb");
    EXPECT_EQ(seen.ended, (std::vector<std::string>{"ibdata1", "empty.opt", "db/t.ibd"}));
    EXPECT_EQ(reader.chunks(), 6u);
  }
}

TEST(Mbstream, ReportsSeeksRemovalsRenamesAndRewrites) {
  // What mariabackup sends when an Aria log rotates and non-InnoDB DDL runs during a backup.
  std::vector<std::uint8_t> s;
  append(s, mbstream_payload_chunk("aria_log.00000002", 0, text("header..tail")));
  append(s, mbstream_seek_chunk("aria_log.00000002", 2));
  append(s, mbstream_payload_chunk("aria_log.00000002", 2, text("AD")));
  append(s, mbstream_end_chunk("aria_log.00000002"));
  append(s, mbstream_rename_chunk("d2/a.MAD", "d2/a2.MAD"));
  append(s, mbstream_remove_chunk("d1/t#P#*"));
  append(s, mbstream_payload_chunk("d2/a2.frm", 0, text("frm"), true));
  append(s, mbstream_end_chunk("d2/a2.frm"));
  for (std::size_t piece : {std::size_t{1}, std::size_t{5}, s.size()}) {
    Seen seen;
    auto reader = reader_into(seen);
    for (std::size_t at = 0; at < s.size(); at += piece)
      reader.feed(Bytes(s).subspan(at, std::min(piece, s.size() - at)));
    reader.finish();
    EXPECT_EQ(seen.files["aria_log.00000002"], "heADer..tail");
    EXPECT_EQ(seen.events,
              (std::vector<std::string>{"seek aria_log.00000002 2", "rename d2/a.MAD d2/a2.MAD",
                                        "remove d1/t#P#*", "rewrite d2/a2.frm"}));
  }
}

TEST(Mbstream, RefusesPathsOutsideTheDataDirectory) {
  for (const auto* path : {"/etc/passwd", "../x", "db/../../x", ".hidden", "db/.."}) {
    Seen seen;
    auto reader = reader_into(seen);
    EXPECT_THROW(reader.feed(mbstream_end_chunk(path)), DecodeError) << path;
  }
  Seen seen;
  auto reader = reader_into(seen);
  EXPECT_THROW(reader.feed(mbstream_rename_chunk("db/a", "../a")), DecodeError);
}

TEST(Mbstream, RefusesDamageWithAClearError) {
  auto stream = sample_stream();
  Seen seen;
  auto flipped = stream;
  flipped[8 + 2 + 4 + 7 + 20 + 1] ^= 1;  // a payload byte of the first chunk
  auto r1 = reader_into(seen);
  try {
    r1.feed(flipped);
    FAIL() << "a flipped payload byte was accepted";
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("fails its CRC-32"), std::string::npos) << e.what();
  }
  auto bad_magic = stream;
  bad_magic[0] = 'Y';
  auto r2 = reader_into(seen);
  EXPECT_THROW(r2.feed(bad_magic), DecodeError);
  auto unknown = stream;
  unknown[9] = 'Z';  // a type that is not flagged ignorable
  auto r3 = reader_into(seen);
  EXPECT_THROW(r3.feed(unknown), DecodeError);
  auto long_path = mbstream_end_chunk("f");
  long_path[10 + 2] = 0x7f;  // a path of megabytes
  auto r4 = reader_into(seen);
  EXPECT_THROW(r4.feed(long_path), DecodeError);
  auto r5 = reader_into(seen);
  r5.feed(Bytes(stream).first(stream.size() - 3));
  EXPECT_THROW(r5.finish(), DecodeError);
}

TEST(Mbstream, SkipsChunksFlaggedIgnorable) {
  auto chunk = mbstream_payload_chunk("f", 0, text("later format"));
  chunk[8] = 0x01;  // ignorable
  chunk[9] = 'Q';
  std::vector<std::uint8_t> s = chunk;
  append(s, mbstream_end_chunk("f"));
  Seen seen;
  auto reader = reader_into(seen);
  reader.feed(s);
  reader.finish();
  EXPECT_TRUE(seen.files.empty());
  EXPECT_EQ(seen.ended, std::vector<std::string>{"f"});
}

TEST(BackupMetadata, ReadsTheRedoLogStart) {
  std::vector<std::uint8_t> header(512, 0);
  std::copy_n("Phys", 4, header.begin());
  for (int i = 0; i < 8; ++i)
    header[8 + i] = static_cast<std::uint8_t>(97424897ull >> (56 - 8 * i));
  EXPECT_EQ(redo_start_lsn(header), 97424897u);
  header[0] = 'X';
  EXPECT_THROW(redo_start_lsn(header), DecodeError);
  EXPECT_THROW(redo_start_lsn(Bytes(header).first(12)), DecodeError);
}

TEST(BackupMetadata, ReadsWhatMariabackupWrites) {
  // As mariabackup 10.11 writes them.
  auto c = parse_checkpoints(
      "backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 44404\nlast_lsn = 48086\n"
      "recover_binlog_info = 0\n");
  EXPECT_EQ(c.backup_type, "full-backuped");
  EXPECT_EQ(c.from_lsn, 0u);
  EXPECT_EQ(c.to_lsn, 44404u);
  EXPECT_EQ(c.last_lsn, 48086u);
  EXPECT_EQ(parse_checkpoints(checkpoints_text(c)).to_lsn, 44404u);
  auto b = parse_binlog_info("binlog.000001\t1227\t0-1-5\n");
  EXPECT_EQ(b.file, "binlog.000001");
  EXPECT_EQ(b.position, 1227u);
  EXPECT_EQ(b.gtid, "0-1-5");
  auto multi = parse_binlog_info("mysql-bin.000012\t385\t0-1-100,1-2-7\n");
  EXPECT_EQ(multi.gtid, "0-1-100,1-2-7");
  EXPECT_EQ(parse_binlog_info("binlog.000003\t4\n").gtid, "");
  EXPECT_THROW(parse_checkpoints("backup_type = full-backuped\nto_lsn = x\n"), DecodeError);
  EXPECT_THROW(parse_binlog_info("binlog.000001 1227"), DecodeError);
  EXPECT_THROW(parse_binlog_info("binlog.000001\tnope\t0-1-5"), DecodeError);
}

// A .delta as mariabackup writes it: blocks of a header page (magic, page numbers, the end
// mark unless full) and the pages.
std::vector<std::uint8_t> delta_of(std::uint32_t page_size,
                                   const std::vector<std::vector<std::uint32_t>>& blocks) {
  std::vector<std::uint8_t> out;
  auto put32 = [](std::uint8_t* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
  };
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    std::vector<std::uint8_t> header(page_size, 0);
    put32(header.data(), b + 1 == blocks.size() ? 0x58545241 : 0x78747261);
    for (std::size_t i = 0; i < blocks[b].size(); ++i)
      put32(header.data() + 4 * (i + 1), blocks[b][i]);
    if (blocks[b].size() < page_size / 4 - 1)
      put32(header.data() + 4 * (blocks[b].size() + 1), 0xFFFFFFFF);
    out.insert(out.end(), header.begin(), header.end());
    for (auto n : blocks[b]) out.insert(out.end(), page_size, static_cast<std::uint8_t>(n));
  }
  return out;
}

TEST(InnodbDelta, ReadsEveryPageOfEveryBlockFedInAnyPieces) {
  constexpr std::uint32_t kPage = 1024;
  std::vector<std::uint32_t> full(kPage / 4 - 1);  // a full header: no end mark
  for (std::size_t i = 0; i < full.size(); ++i) full[i] = static_cast<std::uint32_t>(i * 2);
  auto delta = delta_of(kPage, {full, {7, 9}});
  for (std::size_t piece : {std::size_t{100}, std::size_t{kPage}, delta.size()}) {
    std::vector<std::uint32_t> numbers;
    DeltaReader reader(kPage, [&](std::uint32_t n, Bytes page) {
      ASSERT_EQ(page.size(), kPage);
      EXPECT_EQ(page[0], static_cast<std::uint8_t>(n));
      numbers.push_back(n);
    });
    for (std::size_t at = 0; at < delta.size(); at += piece)
      reader.feed(Bytes(delta).subspan(at, std::min(piece, delta.size() - at)));
    reader.finish();
    ASSERT_EQ(numbers.size(), full.size() + 2);
    EXPECT_EQ(numbers.back(), 9u);
  }
  // An unchanged tablespace: one last block naming no page.
  DeltaReader empty(kPage, [](std::uint32_t, Bytes) { FAIL() << "a page from an empty delta"; });
  empty.feed(delta_of(kPage, {{}}));
  empty.finish();
}

TEST(InnodbDelta, RefusesDamagedOrCutDeltas) {
  constexpr std::uint32_t kPage = 1024;
  auto delta = delta_of(kPage, {{1, 2}});
  DeltaReader cut(kPage, [](std::uint32_t, Bytes) {});
  cut.feed(Bytes(delta).first(delta.size() - 1));
  EXPECT_THROW(cut.finish(), DecodeError);
  auto bad = delta;
  bad[0] = 'Q';
  DeltaReader damaged(kPage, [](std::uint32_t, Bytes) {});
  EXPECT_THROW(damaged.feed(bad), DecodeError);
  DeltaReader longer(kPage, [](std::uint32_t, Bytes) {});
  delta.push_back(0);
  EXPECT_THROW(longer.feed(delta), DecodeError);
  EXPECT_THROW(DeltaReader(1000, [](std::uint32_t, Bytes) {}), DecodeError);
}

TEST(InnodbDelta, ReadsMetaFilesAndPageFields) {
  // As mariabackup writes them (with the space after zip_size's value).
  auto m = parse_delta_meta("page_size = 16384\nzip_size = 0 \nspace_id = 8\n");
  EXPECT_EQ(m.page_size, 16384u);
  EXPECT_EQ(m.space_id, 8u);
  EXPECT_EQ(parse_delta_meta("page_size = 8192\nzip_size = 8192 \nspace_id = 5\n").zip_size, 8192u);
  EXPECT_THROW(parse_delta_meta("page_size = 16384\n"), DecodeError);
  EXPECT_THROW(parse_delta_meta("page_size = 1000\nspace_id = 1\n"), DecodeError);
  std::vector<std::uint8_t> page(16384, 0);
  page[37] = 9;                // FIL_PAGE_SPACE_ID (34..37)
  page[48] = 1, page[49] = 2;  // FSP_SIZE (46..49)
  EXPECT_EQ(page_space_id(page), 9u);
  EXPECT_EQ(tablespace_pages(page), 0x102u);
  EXPECT_THROW(page_space_id(Bytes(page).first(20)), DecodeError);
}

}  // namespace
}  // namespace pitr::mariadb
