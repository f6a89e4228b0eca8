// The PostgreSQL codecs: LSNs and file names, timeline histories, replication messages,
// CRC-32C, tar streams, server manifests, data pages and their checksums, and the WAL walker
// on WAL built here page by page.
#include <gtest/gtest.h>

#include "archive/sha256.hpp"
#include "formats/crc32c.hpp"
#include "formats/postgres/backup_file_check.hpp"
#include "formats/postgres/base_backup_stream.hpp"
#include "formats/postgres/data_page.hpp"
#include "formats/postgres/lsn.hpp"
#include "formats/postgres/replication_messages.hpp"
#include "formats/postgres/server_manifest.hpp"
#include "formats/postgres/timeline_history.hpp"
#include "formats/postgres/wal_scanner.hpp"
#include "formats/tar_reader.hpp"
#include "tests/unit/wal_builder.hpp"

using namespace pitr;
using namespace pitr::postgres;
using pitr::test::commit_body;
using pitr::test::WalBuilder;

TEST(PostgresLsn, ParsesAndFormats) {
  EXPECT_EQ(parse_lsn("16/B374D848"), 0x16B374D848ull);
  EXPECT_EQ(format_lsn(0x16B374D848ull), "16/B374D848");
  EXPECT_EQ(format_lsn(0), "0/0");
  EXPECT_THROW(parse_lsn("16B374D848"), DecodeError);
  EXPECT_THROW(parse_lsn("1/2/3"), DecodeError);
  EXPECT_THROW(parse_lsn("100000000/0"), DecodeError);
}

TEST(PostgresLsn, WalFileNamesRoundTrip) {
  const std::uint64_t mib16 = 16 << 20;
  EXPECT_EQ(wal_file_name(1, 0x2A, mib16), "00000001000000000000002A");
  EXPECT_EQ(wal_file_name(2, 0x100, mib16), "000000020000000100000000");
  auto parsed = parse_wal_file_name("000000020000000100000000", mib16);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->timeline, 2u);
  EXPECT_EQ(parsed->segment, 0x100u);
  EXPECT_FALSE(parse_wal_file_name("000000020000000100000100", mib16));  // > 255 per id
  EXPECT_FALSE(parse_wal_file_name("00000002000000010000000g", mib16));
  EXPECT_EQ(history_file_name(3), "00000003.history");
  EXPECT_EQ(parse_history_file_name("0000000A.history"), 10u);
  EXPECT_FALSE(parse_history_file_name("00000000.history"));
}

TEST(PostgresTimelineHistory, ParsesAndRefusesDisorder) {
  auto h = parse_timeline_history(
      "1\t0/3000000\tno recovery target specified\n\n"
      "# comment\n2\t0/5000100\tbefore 2026-01-01\n");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].parent, 2u);
  EXPECT_EQ(h[1].switch_point, 0x5000100u);
  EXPECT_EQ(h[0].parent, 1u);
  EXPECT_EQ(h[0].switch_point, 0x3000000u);
  EXPECT_THROW(parse_timeline_history("2\t0/3000000\n1\t0/4000000\n"), DecodeError);
  EXPECT_THROW(parse_timeline_history("x\t0/3000000\n"), DecodeError);
  EXPECT_THROW(parse_timeline_history("1\n"), DecodeError);
}

TEST(PostgresReplication, ParsesServerMessagesAndEncodesStatus) {
  std::vector<std::uint8_t> w(25 + 3, 0);
  w[0] = 'w';
  store_be(w.data() + 1, 0x3000000, 8);
  store_be(w.data() + 9, 0x3000100, 8);
  w[25] = 'a';
  auto m = parse_server_message(w);
  auto& d = std::get<XLogData>(m);
  EXPECT_EQ(d.start, 0x3000000u);
  EXPECT_EQ(d.wal_end, 0x3000100u);
  EXPECT_EQ(d.data.size(), 3u);
  std::vector<std::uint8_t> k(18, 0);
  k[0] = 'k';
  k[17] = 1;
  EXPECT_TRUE(std::get<Keepalive>(parse_server_message(k)).reply_requested);
  EXPECT_THROW(parse_server_message(Bytes(k).first(10)), DecodeError);
  EXPECT_THROW(parse_server_message(std::vector<std::uint8_t>{'x'}), DecodeError);
  auto r = encode_standby_status({1, 2, 3, 4, true});
  ASSERT_EQ(r.size(), 34u);
  EXPECT_EQ(r[0], 'r');
  EXPECT_EQ(load_be(r.data() + 9, 8), 2u);
  EXPECT_EQ(r[33], 1);
}

TEST(PostgresBackupStream, ParsesMessages) {
  std::vector<std::uint8_t> n{'n', 'b', 'a', 's', 'e', '.', 't', 'a', 'r', 0, 0};
  EXPECT_EQ(std::get<NewArchive>(parse_backup_message(n)).name, "base.tar");
  std::vector<std::uint8_t> evil{'n', '.', '.', '/', 'x', 0, 0};
  EXPECT_THROW(parse_backup_message(evil), DecodeError);
  EXPECT_TRUE(
      std::holds_alternative<ManifestStart>(parse_backup_message(std::vector<std::uint8_t>{'m'})));
}

TEST(Crc32c, LongInputsEqualTheByteAtATimeResult) {
  // Long pieces go through three interleaved streams; single bytes through the plain loop.
  std::vector<std::uint8_t> data(50000);
  std::uint32_t x = 12345;
  for (auto& b : data) b = static_cast<std::uint8_t>((x = x * 1103515245 + 12345) >> 16);
  for (std::size_t length : {6143u, 6144u, 6145u, 12288u, 20000u, 50000u}) {
    Bytes input(data.data(), length);
    Crc32c bytewise;
    for (std::size_t i = 0; i < length; ++i) bytewise.update(input.subspan(i, 1));
    Crc32c split;
    split.update(input.subspan(0, 7));
    split.update(input.subspan(7));
    EXPECT_EQ(crc32c(input), bytewise.value()) << length;
    EXPECT_EQ(split.value(), bytewise.value()) << length;
  }
}

TEST(Crc32c, MatchesTheCheckValue) {
  EXPECT_EQ(crc32c(as_bytes("123456789")), 0xE3069283u);
  Crc32c split;
  split.update(as_bytes("1234"));
  split.update(as_bytes("56789"));
  EXPECT_EQ(split.value(), 0xE3069283u);
  EXPECT_EQ(manifest_crc32c_hex(0xE3069283u), "839206e3");
}

TEST(TarReader, ReadsEntriesSplitAnywhere) {
  std::vector<std::uint8_t> tar;
  auto add = [&](TarEntry e, std::string body) {
    e.size = body.size();
    auto h = tar_header(e);
    tar.insert(tar.end(), h.begin(), h.end());
    tar.insert(tar.end(), body.begin(), body.end());
    tar.resize((tar.size() + 511) / 512 * 512, 0);
  };
  add({"global", "", 0, 0700, 0, TarEntry::Type::kDirectory}, "");
  add({"global/pg_control", "", 0, 0600, 0, TarEntry::Type::kFile}, std::string(700, 'x'));
  add({"PG_VERSION", "", 0, 0600, 0, TarEntry::Type::kFile}, "15\n");
  for (std::size_t piece : {1u, 7u, 512u, 100000u}) {
    std::vector<std::string> names;
    std::string content;
    TarReader r({[&](const TarEntry& e) { names.push_back(e.name); },
                 [&](Bytes b) { content += as_text(b); }, [] {}});
    for (std::size_t i = 0; i < tar.size(); i += piece)
      r.feed(Bytes(tar).subspan(i, std::min(piece, tar.size() - i)));
    r.finish();
    EXPECT_EQ(names, (std::vector<std::string>{"global", "global/pg_control", "PG_VERSION"}));
    EXPECT_EQ(content, std::string(700, 'x') + "15\n");
  }
  auto damaged = tar;
  damaged[10] ^= 1;
  TarReader r({[](const TarEntry&) {}, [](Bytes) {}, [] {}});
  EXPECT_THROW(r.feed(damaged), DecodeError);
  TarReader cut({[](const TarEntry&) {}, [](Bytes) {}, [] {}});
  cut.feed(Bytes(tar).first(600));
  EXPECT_THROW(cut.finish(), DecodeError);
}

namespace {

std::string with_checksum(const std::string& body) {
  archive::Sha256 sha;
  sha.update(as_bytes(body));
  return body + "\"Manifest-Checksum\": \"" + sha.hex() + "\"}\n";
}

}  // namespace

TEST(ServerManifest, ChecksItsOwnChecksum) {
  auto text = with_checksum(
      "{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [\n"
      "{ \"Path\": \"PG_VERSION\", \"Size\": 3, \"Last-Modified\": \"x\", "
      "\"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"aabbccdd\" }\n],\n"
      "\"WAL-Ranges\": [\n{ \"Timeline\": 1, \"Start-LSN\": \"0/2000028\", \"End-LSN\": "
      "\"0/2000100\" }\n],\n");
  auto m = parse_server_manifest(text);
  EXPECT_EQ(m.files.at("PG_VERSION").size, 3u);
  EXPECT_EQ(m.wal_ranges.at(0).end, 0x2000100u);
  auto tampered = text;
  tampered.replace(tampered.find("\"Size\": 3"), 9, "\"Size\": 4");
  EXPECT_THROW(parse_server_manifest(tampered), DecodeError);
  EXPECT_THROW(parse_server_manifest("{"), DecodeError);
}

TEST(BackupFileCheck, ComparesTarFilesWithTheManifest) {
  std::vector<std::uint8_t> tar;
  for (auto [name, body] : {std::pair<std::string, std::string>{"PG_VERSION", "15\n"},
                            {"PG_15_202209061/5/16384", std::string(1000, 'r')}}) {
    auto h = tar_header({name, "", body.size(), 0600, 0, TarEntry::Type::kFile});
    tar.insert(tar.end(), h.begin(), h.end());
    tar.insert(tar.end(), body.begin(), body.end());
    tar.resize((tar.size() + 511) / 512 * 512, 0);
  }
  EXPECT_EQ(manifest_prefix(""), "");
  EXPECT_EQ(manifest_prefix("16390"), "pg_tblspc/16390/");
  FileChecksums seen;
  TarChecksummer files(manifest_prefix("16390"), seen);
  for (std::size_t i = 0; i < tar.size(); i += 100)
    files.feed(Bytes(tar).subspan(i, std::min<std::size_t>(100, tar.size() - i)));
  files.finish();
  const auto data = "pg_tblspc/16390/PG_15_202209061/5/16384";
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen.at(data).size, 1000u);
  EXPECT_EQ(seen.at(data).crc32c, crc32c(as_bytes(std::string(1000, 'r'))));

  ServerManifest m;
  m.files[data] = {1000, "CRC32C", manifest_crc32c_hex(seen.at(data).crc32c)};
  m.files["pg_tblspc/16390/PG_VERSION"] = {3, "NONE", ""};
  EXPECT_TRUE(compare_with_manifest(m, seen).empty());
  m.files["global/pg_control"] = {8192, "NONE", ""};
  m.files[data].checksum = "00000000";
  auto problems = compare_with_manifest(m, seen);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0], "global/pg_control is missing, though the server's manifest lists it");
  EXPECT_EQ(problems[1], std::string(data) + " fails the CRC-32C in the server's manifest");
  m.files[data].size = 999;
  EXPECT_NE(compare_with_manifest(m, seen)[1].find("has 1000 bytes"), std::string::npos);
}

TEST(WalScanner, FindsCommitsAbortsAndRestorePointsAcrossPages) {
  WalBuilder w(1 << 20);
  w.add(0, 10, 0, std::vector<std::uint8_t>(9000, 7));  // a heap record spanning two pages
  auto commit = w.add(700, 1, 0x00, commit_body(1000));
  auto abort = w.add(701, 1, 0x20, commit_body(2000));
  std::vector<std::uint8_t> rp = commit_body(3000);
  std::string name = "before-delete";
  rp.insert(rp.end(), name.begin(), name.end());
  rp.resize(8 + 64, 0);
  auto point = w.add(0, 0, 0x70, rp);
  for (std::size_t piece : {3u, 8192u, 1u << 20}) {
    WalScanner s(1 << 20);
    std::vector<WalEvent> events;
    const auto& bytes = w.bytes();
    for (std::size_t i = 0; i < bytes.size(); i += piece)
      s.feed(i, Bytes(bytes).subspan(i, std::min(piece, bytes.size() - i)),
             [&](const WalEvent& e) { events.push_back(e); });
    ASSERT_EQ(events.size(), 3u) << piece;
    EXPECT_EQ(events[0].kind, WalEventKind::kCommit);
    EXPECT_EQ(events[0].xid, 700u);
    EXPECT_EQ(events[0].lsn, commit);
    EXPECT_EQ(events[0].time, 1000);
    EXPECT_EQ(events[1].kind, WalEventKind::kAbort);
    EXPECT_EQ(events[1].lsn, abort);
    EXPECT_EQ(events[2].name, "before-delete");
    EXPECT_EQ(events[2].lsn, point);
    EXPECT_EQ(s.records(), 4u);
    EXPECT_EQ(s.system_identifier(), 42u);
  }
}

// A record's headers end where the data they declared begins: a full-page image has no main
// data, and block data may hold any byte (here 255, the main-data header's id).
TEST(WalRecord, MainDataIsFoundFromTheDeclaredLengths) {
  auto record = [](bool with_main) {
    std::vector<std::uint8_t> r(24, 0);  // XLogRecord; only its length matters here
    r.insert(r.end(), {0, 0x30, 3, 0});  // block 0: has image and data, 3 bytes of data
    r.insert(r.end(), {5, 0, 0, 0, 0});  // image: 5 bytes, hole at 0, no flags
    r.resize(r.size() + 12 + 4, 1);      // relation and block number
    if (with_main) r.insert(r.end(), {255, 2});
    r.insert(r.end(), {9, 9, 9, 9, 9});  // the image
    r.insert(r.end(), {255, 7, 7});      // the block's data
    if (with_main) r.insert(r.end(), {42, 43});
    store_le(r.data(), r.size(), 4);
    return r;
  };
  auto fpi = record(false);
  EXPECT_TRUE(postgres::wal_record_main_data(fpi, 0xD110).empty());
  auto with_main = record(true);
  auto main = postgres::wal_record_main_data(with_main, 0xD110);
  EXPECT_EQ(std::vector<std::uint8_t>(main.begin(), main.end()),
            (std::vector<std::uint8_t>{42, 43}));
  with_main.push_back(0);  // a byte no header declared
  EXPECT_THROW(postgres::wal_record_main_data(with_main, 0xD110), DecodeError);
}

TEST(WalScanner, RejectsDamageAndStartsMidRecord) {
  WalBuilder w(1 << 20);
  w.add(0, 10, 0, std::vector<std::uint8_t>(9000, 7));
  w.add(700, 1, 0x00, commit_body(1000));
  auto damaged = w.bytes();
  damaged[100] ^= 0xFF;  // inside the first record
  WalScanner s(1 << 20);
  EXPECT_THROW(s.feed(0, damaged, [](const WalEvent&) {}), DecodeError);
  // From the second page on, the first record's continuation is skipped.
  WalScanner mid(1 << 20);
  std::vector<WalEvent> events;
  mid.feed(kWalPageSize, Bytes(w.bytes()).subspan(kWalPageSize),
           [&](const WalEvent& e) { events.push_back(e); });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].xid, 700u);
}

namespace {

// A heap-like page: header (LSN 0/5A0F1C8, pd_lower 40, pd_upper 7000), varied content,
// and its checksum as block `block`.
std::vector<std::uint8_t> checksummed_page(std::uint32_t block) {
  std::vector<std::uint8_t> page(kPageSize);
  for (std::size_t i = 24; i < page.size(); ++i) page[i] = static_cast<std::uint8_t>(i * 131 >> 3);
  const std::uint8_t header[] = {0, 0, 0, 0, 0xC8, 0xF1, 0xA0, 0x05, 0, 0, 0, 0, 40, 0, 0x58, 0x1B};
  std::copy(std::begin(header), std::end(header), page.begin());
  auto sum = page_checksum(page, block);
  page[8] = static_cast<std::uint8_t>(sum);
  page[9] = static_cast<std::uint8_t>(sum >> 8);
  return page;
}

}  // namespace

// Known answers: PostgreSQL 15's own pageinspect, `SELECT page_checksum(page, block)` for the
// page checksummed_page builds (its pd_checksum does not count), for three block numbers.
TEST(DataPage, ChecksumsAreThoseThePostgresServerComputes) {
  auto page = checksummed_page(0);
  EXPECT_EQ(page_checksum(page, 7), 30841);
  EXPECT_EQ(page_checksum(page, 131079), 30843);  // block 7 of the second 1 GiB segment
  EXPECT_EQ(page_checksum(page, 0), 30848);
}

TEST(DataPage, ReadsTheHeadersLsnAndChecksum) {
  auto page = checksummed_page(3);
  EXPECT_EQ(page_lsn(page), 0x5A0F1C8u);
  EXPECT_EQ(stored_checksum(page), page_checksum(page, 3));
  EXPECT_NE(stored_checksum(page), 0);
  // The stored checksum itself does not feed the checksum.
  auto other = page;
  other[8] ^= 0xFF;
  EXPECT_EQ(page_checksum(other, 3), page_checksum(page, 3));
}

TEST(DataPage, EveryFlippedByteAndAWrongBlockNumberFail) {
  auto page = checksummed_page(7);
  ASSERT_EQ(check_page(page, 7), PageCheck::kValid);
  // A 16-bit checksum: about one change in 65535 goes unseen.
  std::size_t unseen = 0;
  for (std::size_t i = 0; i < page.size(); ++i)
    for (std::uint8_t flip : {0x01, 0x10, 0x80}) {
      page[i] ^= flip;
      unseen += check_page(page, 7) != PageCheck::kMismatch;
      page[i] ^= flip;
    }
  EXPECT_LE(unseen, 5u);
  for (std::uint32_t other : {0u, 6u, 8u, 131072u + 7u})
    EXPECT_EQ(check_page(page, other), PageCheck::kMismatch) << other;
}

TEST(DataPage, NewPagesAreAllZeros) {
  std::vector<std::uint8_t> page(kPageSize);
  EXPECT_EQ(check_page(page, 0), PageCheck::kNew);
  page[5000] = 1;  // pd_upper 0 says new, yet it holds something
  EXPECT_EQ(check_page(page, 0), PageCheck::kMismatch);
  EXPECT_THROW(check_page(std::vector<std::uint8_t>(100), 0), std::invalid_argument);
}
