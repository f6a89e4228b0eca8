// PostgreSQL 17's incremental BASE_BACKUP, in the parts pitr builds: the incremental files the
// server sends (formats/postgres/incremental_file.hpp), their rebuilding into complete files
// against a parent backup in the block store (archive/pg_incremental_tar.hpp), and the
// backup_manifest of the parent pitr uploads (formats/postgres/server_manifest.hpp). No
// PostgreSQL 17 server runs here; the manifest is also read by PostgreSQL 15's
// pg_verifybackup, the server's own manifest parser.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include "archive/block_store/stored_tar.hpp"
#include "archive/pg_incremental_tar.hpp"
#include "archive/storage/local_directory_store.hpp"
#include "capture/postgres/pg_server_incremental.hpp"
#include "formats/hex.hpp"
#include "formats/postgres/incremental_file.hpp"
#include "formats/postgres/server_manifest.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr {
namespace {

constexpr std::uint32_t kPage = 64;  // small pages: the header's padding still shows
constexpr std::uint32_t kSegmentBlocks = 32;

std::string page(char seed) {
  std::mt19937 random(static_cast<std::uint32_t>(seed));
  std::string out(kPage, 0);
  for (auto& c : out) c = static_cast<char>(random());
  return out;
}

void put_word(std::string& out, std::uint32_t v, bool big_endian) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>(v >> (big_endian ? 24 - 8 * i : 8 * i)));
}

// An incremental file as the server writes it: the pages are the given blocks' contents.
std::string incremental_file(std::uint32_t truncation, const std::vector<std::uint32_t>& blocks,
                             const std::vector<std::string>& pages, bool big_endian = false) {
  std::string out;
  put_word(out, postgres::kIncrementalMagic, big_endian);
  put_word(out, static_cast<std::uint32_t>(blocks.size()), big_endian);
  put_word(out, truncation, big_endian);
  for (auto b : blocks) put_word(out, b, big_endian);
  if (!blocks.empty()) out.resize((out.size() + kPage - 1) / kPage * kPage, 0);
  for (const auto& p : pages) out += p;
  return out;
}

struct Read {
  postgres::IncrementalHeader header;
  std::vector<std::string> pages;
};

Read read_in_pieces(const std::string& file, std::size_t piece) {
  Read out;
  postgres::IncrementalFileReader reader("base/5/INCREMENTAL.16384", kPage, kSegmentBlocks,
                                         [&](std::size_t i, Bytes p) {
                                           EXPECT_EQ(i, out.pages.size());
                                           out.pages.emplace_back(as_text(p));
                                         });
  for (std::size_t at = 0; at < file.size(); at += piece)
    reader.feed(as_bytes(std::string_view(file).substr(at, piece)));
  out.header = reader.finish();
  return out;
}

TEST(IncrementalFile, NamesTheFileItStandsFor) {
  EXPECT_EQ(postgres::incremental_file_target("base/5/INCREMENTAL.16384"), "base/5/16384");
  EXPECT_EQ(postgres::incremental_file_target("base/5/INCREMENTAL.16384.2"), "base/5/16384.2");
  EXPECT_EQ(postgres::incremental_file_target("global/INCREMENTAL.1262_vm"), "global/1262_vm");
  EXPECT_EQ(postgres::incremental_file_target("PG_17_1/5/INCREMENTAL.7"), "PG_17_1/5/7");
  EXPECT_FALSE(postgres::incremental_file_target("INCREMENTAL.1_vm"));
  EXPECT_FALSE(postgres::incremental_file_target("pg_notes/INCREMENTAL.txt"));
  EXPECT_FALSE(postgres::incremental_file_target("base/5/x/INCREMENTAL.1"));
  EXPECT_FALSE(postgres::incremental_file_target("base/5/16384"));
  EXPECT_FALSE(postgres::incremental_file_target("INCREMENTAL.x/16384"));
  EXPECT_FALSE(postgres::incremental_file_target("base/5/INCREMENTAL."));
}

TEST(IncrementalFile, ReadsHeaderAndPagesInAnyPieces) {
  auto file = incremental_file(20, {1, 7, 25}, {page('a'), page('b'), page('c')});
  ASSERT_EQ(file.size(), kPage + 3 * kPage);  // 24 header bytes padded to a page
  for (std::size_t piece : {1u, 5u, 63u, 64u, 1000u}) {
    auto read = read_in_pieces(file, piece);
    EXPECT_EQ(read.header.truncation_block_length, 20u);
    EXPECT_EQ(read.header.blocks, (std::vector<std::uint32_t>{1, 7, 25}));
    EXPECT_EQ(read.pages, (std::vector<std::string>{page('a'), page('b'), page('c')}));
  }
  // A server of the other byte order, and a file with no blocks (no padding).
  EXPECT_EQ(read_in_pieces(incremental_file(3, {2}, {page('d')}, true), 7).header.blocks,
            (std::vector<std::uint32_t>{2}));
  // A truncation length past a segment (17 before a 2025 fix) is cut to the segment.
  EXPECT_EQ(read_in_pieces(incremental_file(kSegmentBlocks + 5, {}, {}), 4)
                .header.truncation_block_length,
            kSegmentBlocks);
  auto none = incremental_file(9, {}, {});
  EXPECT_EQ(none.size(), 12u);
  EXPECT_EQ(read_in_pieces(none, 5).header.truncation_block_length, 9u);
  EXPECT_TRUE(read_in_pieces(none, 12).pages.empty());
}

TEST(IncrementalFile, RefusesDamage) {
  auto expect_refused = [](const std::string& file, const std::string& says) {
    try {
      read_in_pieces(file, 10);
      ADD_FAILURE() << "accepted: " << says;
    } catch (const DecodeError& e) {
      EXPECT_NE(std::string(e.what()).find("INCREMENTAL.16384"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    }
  };
  auto good = incremental_file(4, {1, 2}, {page('a'), page('b')});
  auto bad_magic = good;
  bad_magic[0] ^= 1;
  expect_refused(bad_magic, "magic");
  expect_refused(incremental_file(4, std::vector<std::uint32_t>(kSegmentBlocks + 1, 0), {}),
                 "more than a segment");
  expect_refused(incremental_file(4, {kSegmentBlocks}, {page('a')}), "past the end");
  expect_refused(incremental_file(4, {2, 1}, {page('a'), page('b')}), "ascending");
  expect_refused(good.substr(0, 10), "inside its header");
  expect_refused(good.substr(0, good.size() - 1), "ends after 1 of its 2 blocks");
  expect_refused(good + "x", "more bytes");
}

TEST(IncrementalFile, PlansTheRebuiltSegmentAsPgCombinebackupDoes) {
  using K = postgres::BlockSource::Kind;
  // Truncation 6 over a parent of 3 blocks; blocks 1 and 8 sent: 0 and 2 from the parent,
  // 3 to 5 zeros (extended without WAL), 6 and 7 zeros (past the truncation, not sent).
  auto plan = postgres::reconstruction_plan({6, {1, 8}}, 3);
  std::vector<std::pair<K, std::uint32_t>> got;
  for (const auto& s : plan) got.emplace_back(s.kind, s.index);
  std::vector<std::pair<K, std::uint32_t>> expected = {
      {K::kPrior, 0}, {K::kIncremental, 0}, {K::kPrior, 2}, {K::kZero, 0},       {K::kZero, 0},
      {K::kZero, 0},  {K::kZero, 0},        {K::kZero, 0},  {K::kIncremental, 1}};
  EXPECT_EQ(got, expected);
  // Truncated since the parent: only the first blocks remain.
  EXPECT_EQ(postgres::reconstruction_plan({2, {}}, 10).size(), 2u);
  EXPECT_TRUE(postgres::reconstruction_plan({0, {}}, 10).empty());
}

TEST(IncrementalFile, TheCompleteBackupLabelLosesTheIncrementalLines) {
  std::string label =
      "START WAL LOCATION: 0/4000028 (file 000000010000000000000004)\n"
      "CHECKPOINT LOCATION: 0/4000080\n"
      "INCREMENTAL FROM LSN: 0/2000028\n"
      "INCREMENTAL FROM TLI: 1\n"
      "START TIMELINE: 1\n";
  EXPECT_EQ(postgres::complete_backup_label(label),
            "START WAL LOCATION: 0/4000028 (file 000000010000000000000004)\n"
            "CHECKPOINT LOCATION: 0/4000080\n"
            "START TIMELINE: 1\n");
}

// --- the rebuilt archive -------------------------------------------------------------------

struct Entry {
  std::string name, content;
  TarEntry::Type type = TarEntry::Type::kFile;
};

std::vector<std::uint8_t> tar_of(const std::vector<Entry>& entries) {
  std::vector<std::uint8_t> out;
  for (const auto& e : entries) {
    auto h = tar_header({e.name, "", e.content.size(), 0600, 1700000000, e.type});
    out.insert(out.end(), h.begin(), h.end());
    out.insert(out.end(), e.content.begin(), e.content.end());
    out.resize((out.size() + 511) / 512 * 512, 0);
  }
  return out;
}

std::vector<Entry> entries_of(Bytes tar) {
  std::vector<Entry> out;
  TarReader reader({[&](const TarEntry& e) {
                      out.push_back({e.name, "", e.type});
                    },
                    [&](Bytes b) { out.back().content.append(as_text(b)); }, [] {}});
  reader.feed(tar);
  reader.finish();
  return out;
}

std::string pages(std::initializer_list<char> seeds) {
  std::string out;
  for (auto s : seeds) out += s == 0 ? std::string(kPage, 0) : page(s);
  return out;
}

class PgIncrementalTarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto index = archive::BlockIndex::load(store_);
    archive::BlockWriter blocks(store_, index, {.level = 1, .pack_bytes = 4096});
    archive::StoredTarWriter writer(blocks, kPage);
    writer.feed(tar_of(parent_));
    parent_members_ = writer.finish();
    blocks.finish();
  }

  std::vector<archive::StoredTarMember> store(const std::vector<Entry>& sent,
                                              archive::PgIncrementalTarStats* stats = nullptr) {
    auto index = archive::BlockIndex::load(store_);
    archive::BlockWriter blocks(store_, index, {.level = 1, .pack_bytes = 4096});
    archive::PgIncrementalTarWriter writer(
        blocks, kPage, kSegmentBlocks, parent_members_,
        [&](const std::vector<const archive::StoredTarMember*>& members) {
          blocks.drain();
          return archive::data_block_ids(archive::BlockReader(store_, index), members);
        });
    auto tar = tar_of(sent);
    for (std::size_t at = 0; at < tar.size(); at += 333)
      writer.feed(Bytes(tar).subspan(at, std::min<std::size_t>(333, tar.size() - at)));
    auto members = writer.finish();
    blocks.finish();
    if (stats) *stats = writer.stats();
    return members;
  }

  std::vector<Entry> read_back(const std::vector<archive::StoredTarMember>& members) {
    auto index = archive::BlockIndex::load(store_);
    std::vector<std::uint8_t> tar;
    archive::read_stored_tar(archive::BlockReader(store_, index), members,
                             [&](Bytes b) { tar.insert(tar.end(), b.begin(), b.end()); });
    return entries_of(tar);
  }

  test::TempDir dir_;
  storage::LocalDirectoryStore store_{dir_.path() / "store"};
  std::vector<Entry> parent_ = {
      {"backup_label", "START WAL LOCATION: 0/2000028\nSTART TIMELINE: 1\n"},
      {"base", "", TarEntry::Type::kDirectory},
      {"base/5/16384", pages({'a', 'b', 'c', 'd', 'e', 'f'})},
      {"base/5/16385", pages({'g', 'h', 'i'})},
      {"base/5/16386", pages({'j', 'k'})},
      {"global/pg_control", "control, version 1"}};
  std::vector<archive::StoredTarMember> parent_members_;
};

TEST_F(PgIncrementalTarTest, RebuildsCompleteFilesFromSentBlocksAndTheParents) {
  std::vector<Entry> sent = {
      {"backup_label",
       "START WAL LOCATION: 0/4000028\nINCREMENTAL FROM LSN: 0/2000028\n"
       "INCREMENTAL FROM TLI: 1\nSTART TIMELINE: 1\n"},
      {"base", "", TarEntry::Type::kDirectory},
      // Blocks 1 and 9 changed, the relation is 8 blocks at least: 6 and 7 were extended
      // into without WAL (zeros), 8 is a hole below the sent block 9.
      {"base/5/INCREMENTAL.16384", incremental_file(8, {1, 9}, {page('B'), page('J')})},
      {"base/5/INCREMENTAL.16385", incremental_file(2, {}, {})},  // truncated to 2 blocks
      {"base/5/16386", pages({'x', 'y', 'z'})},                   // sent whole
      {"global/pg_control", "control, version 2"}};
  archive::PgIncrementalTarStats stats;
  auto back = read_back(store(sent, &stats));
  std::vector<Entry> expected = {
      {"backup_label", "START WAL LOCATION: 0/4000028\nSTART TIMELINE: 1\n"},
      {"base", "", TarEntry::Type::kDirectory},
      {"base/5/16384", pages({'a', 'B', 'c', 'd', 'e', 'f', 0, 0, 0, 'J'})},
      {"base/5/16385", pages({'g', 'h'})},
      {"base/5/16386", pages({'x', 'y', 'z'})},
      {"global/pg_control", "control, version 2"}};
  ASSERT_EQ(back.size(), expected.size());
  for (std::size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].name, expected[i].name);
    EXPECT_EQ(back[i].type, expected[i].type);
    EXPECT_EQ(back[i].content, expected[i].content) << back[i].name;
  }
  EXPECT_EQ(stats.incremental_files, 2u);
  EXPECT_EQ(stats.blocks_sent, 2u);
  EXPECT_EQ(stats.blocks_from_parent, 5u + 2u);
  EXPECT_EQ(stats.zero_blocks, 3u);
}

TEST_F(PgIncrementalTarTest, RefusesAnIncrementalFileTheParentDoesNotHave) {
  std::vector<Entry> sent = {{"base/5/INCREMENTAL.99999", incremental_file(1, {}, {})}};
  try {
    store(sent);
    FAIL() << "rebuilt a file without its parent";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("base/5/99999"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--type full"), std::string::npos) << e.what();
  }
  std::vector<Entry> cut = {
      {"base/5/INCREMENTAL.16384", incremental_file(8, {1}, {page('B')}).substr(0, kPage + 5)}};
  EXPECT_THROW(store(cut), DecodeError);
}

// --- the parent's manifest -----------------------------------------------------------------

std::string sha256_hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return to_hex(Bytes(digest, sizeof digest));
}

TEST(ParentManifest, ListsEveryFileWithTheWalRangeAndAChecksumTheServerAccepts) {
  archive::PgBackupManifest parent;
  parent.system_identifier = 7390000000000000123ull;
  parent.timeline = 2;
  parent.start_lsn = 0x2000028;
  parent.end_lsn = 0x2000138;
  parent.archives.resize(2);
  parent.archives[0].name = "base.tar";
  parent.archives[1].name = "16400.tar";
  parent.archives[1].tablespace_oid = "16400";
  using T = TarEntry::Type;
  std::map<std::string, std::vector<archive::StoredTarMember>> members;
  members["base.tar"] = {{{"base", "", 0, 0700, 1, T::kDirectory}, {}},
                         {{"base/5/16384", "", 8192, 0600, 1700000000, T::kFile}, {}},
                         {{"odd \"name\"\\", "", 3, 0600, 1700000000, T::kFile}, {}}};
  members["16400.tar"] = {{{"PG_17_202406281/5/16500", "", 16384, 0600, 1, T::kFile}, {}}};
  auto text = capture::parent_manifest(parent, members);

  auto m = postgres::parse_server_manifest(text);  // checks the Manifest-Checksum too
  EXPECT_EQ(m.system_identifier, parent.system_identifier);
  ASSERT_EQ(m.files.size(), 3u);
  EXPECT_EQ(m.files.at("base/5/16384").size, 8192u);
  EXPECT_EQ(m.files.at("odd \"name\"\\").size, 3u);
  EXPECT_EQ(m.files.at("pg_tblspc/16400/PG_17_202406281/5/16500").size, 16384u);
  ASSERT_EQ(m.wal_ranges.size(), 1u);
  EXPECT_EQ(m.wal_ranges[0].timeline, 2u);
  EXPECT_EQ(m.wal_ranges[0].start, parent.start_lsn);
  EXPECT_EQ(m.wal_ranges[0].end, parent.end_lsn);
  EXPECT_NE(text.find("\"PostgreSQL-Backup-Manifest-Version\": 2"), std::string::npos);
  // The checksum, computed here: SHA-256 of every line before the last.
  auto last_line = text.rfind('\n', text.size() - 2) + 1;
  EXPECT_EQ(text.substr(last_line),
            "\"Manifest-Checksum\": \"" + sha256_hex(text.substr(0, last_line)) + "\"}\n");
}

// PostgreSQL 15's pg_verifybackup reads a version-1 manifest pitr writes for a directory:
// every file listed with its size, none missing, none extra, the checksum right.
TEST(ParentManifest, PgVerifybackupAcceptsTheManifestForTheFilesItLists) {
  std::string tool = "/usr/lib/postgresql/15/bin/pg_verifybackup";
  if (!std::filesystem::exists(tool)) GTEST_SKIP() << tool << " is not installed";
  test::TempDir dir;
  std::vector<postgres::ListedFile> files = {
      {"PG_VERSION", 3, 1700000000}, {"base/1/1259", 2 * 8192, 1700000001}, {"a b", 1, 0}};
  for (const auto& f : files) {
    std::filesystem::create_directories((dir.path() / f.path).parent_path());
    std::ofstream(dir.path() / f.path) << std::string(f.size, 'x');
  }
  auto write = [&](const std::vector<postgres::ListedFile>& listed) {
    std::ofstream(dir.path() / "backup_manifest")
        << postgres::write_server_manifest(1, 0, listed, {{1, 0x2000028, 0x2000100}});
  };
  auto verify = [&] {
    auto command = tool + " --no-parse-wal --quiet '" + dir.path().string() + "' 2>/dev/null";
    return std::system(command.c_str());
  };
  write(files);
  EXPECT_EQ(verify(), 0);
  // It would fail: a file listed with another size, or one left out.
  auto wrong = files;
  wrong[1].size += 1;
  write(wrong);
  EXPECT_NE(verify(), 0);
  write({files[0], files[1]});
  EXPECT_NE(verify(), 0);
}

}  // namespace
}  // namespace pitr
