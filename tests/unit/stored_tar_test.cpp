// A tar stream kept in the block store (archive/block_store/stored_tar.hpp): written back with
// the same entries and content, shared blocks stored once, damage named by file.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "archive/archive_layout.hpp"
#include "archive/block_store/stored_files.hpp"
#include "archive/block_store/stored_tar.hpp"
#include "archive/compressed_object_writer.hpp"
#include "archive/pg_backup_tars.hpp"
#include "archive/storage/local_directory_store.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr::archive {
namespace {

struct Entry {
  TarEntry header;
  std::string content;
};

std::string content(std::size_t size, char seed) {
  std::mt19937 random(static_cast<std::uint32_t>(seed));  // every block different
  std::string out(size, 0);
  for (auto& c : out) c = static_cast<char>(random());
  return out;
}

std::vector<std::uint8_t> tar_of(const std::vector<Entry>& entries) {
  std::vector<std::uint8_t> out;
  for (const auto& e : entries) {
    auto h = tar_header(e.header);
    out.insert(out.end(), h.begin(), h.end());
    out.insert(out.end(), e.content.begin(), e.content.end());
    out.resize((out.size() + 511) / 512 * 512, 0);
  }
  return out;  // without the end-of-archive blocks, as PostgreSQL sends it
}

std::vector<Entry> entries_of(Bytes tar) {
  std::vector<Entry> out;
  TarReader reader({[&](const TarEntry& e) {
                      out.push_back({e, ""});
                    },
                    [&](Bytes b) { out.back().content.append(as_text(b)); }, [] {}});
  reader.feed(tar);
  reader.finish();
  return out;
}

constexpr std::size_t kBlock = 16;  // small blocks: a file crosses a list block quickly

std::vector<Entry> sample() {
  using T = TarEntry::Type;
  return {
      {{"base", "", 0, 0700, 100, T::kDirectory}, ""},
      {{"base/1/1259", "", 0, 0600, 101, T::kFile}, content(kBlock * 3 + 5, 'a')},
      {{"base/1/empty", "", 0, 0600, 102, T::kFile}, ""},
      {{"PG_VERSION", "", 0, 0600, 103, T::kFile}, "15\n"},
      {{"pg_wal", "/srv/wal", 0, 0777, 104, T::kSymlink}, ""},
      // More blocks than a list block holds, and the same content under another name.
      {{"base/1/big", "", 0, 0600, 105, T::kFile}, content(kBlock * (kIdsPerList + 3), 'x')},
      {{"base/1/big_copy", "", 0, 0600, 106, T::kFile}, content(kBlock * (kIdsPerList + 3), 'x')},
      {{std::string(90, 'd') + "/" + std::string(60, 'f'), "", 0, 0600, 107, T::kFile}, "long"}};
}

class StoredTarTest : public ::testing::Test {
 protected:
  std::vector<StoredTarMember> store(const std::vector<Entry>& entries, BlockWriterStats* stats) {
    auto fixed = entries;
    for (auto& e : fixed) e.header.size = e.content.size();
    auto index = BlockIndex::load(store_);
    BlockWriter blocks(store_, index, {.level = 1, .pack_bytes = 4096});
    StoredTarWriter writer(blocks, kBlock);
    auto tar = tar_of(fixed);
    // In uneven pieces, as a stream arrives.
    for (std::size_t at = 0; at < tar.size(); at += 777)
      writer.feed(Bytes(tar).subspan(at, std::min<std::size_t>(777, tar.size() - at)));
    auto members = writer.finish();
    blocks.finish();
    if (stats) *stats = blocks.stats();
    return members;
  }
  std::vector<std::uint8_t> read_back(const std::vector<StoredTarMember>& members) {
    auto index = BlockIndex::load(store_);
    std::vector<std::uint8_t> out;
    read_stored_tar(BlockReader(store_, index), members,
                    [&](Bytes b) { out.insert(out.end(), b.begin(), b.end()); });
    return out;
  }

  test::TempDir dir_;
  storage::LocalDirectoryStore store_{dir_.path() / "store"};
};

TEST_F(StoredTarTest, WritesBackTheSameEntriesAndContent) {
  BlockWriterStats stats;
  auto members = store(sample(), &stats);
  // Data, then the ids in list blocks (1259: 4, PG_VERSION: 1, big: 1024 + 3, the long name: 1);
  // big_copy shares every block and list with big.
  EXPECT_EQ(stats.new_bytes, (3 * kBlock + 5) + 3 + kBlock * (kIdsPerList + 3) + 4 +
                                 (4 + 1 + (kIdsPerList + 3) + 1) * BlockId::kSize);
  ASSERT_EQ(members[5].lists.size(), 2u);
  EXPECT_EQ(members[5].lists, members[6].lists);
  EXPECT_TRUE(members[2].lists.empty());

  auto tar = read_back(members);
  EXPECT_EQ(tar.size(), stored_tar_length(members));
  auto back = entries_of(tar);
  auto expected = sample();
  ASSERT_EQ(back.size(), expected.size());
  for (std::size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].header.name, expected[i].header.name);
    EXPECT_EQ(back[i].header.type, expected[i].header.type);
    EXPECT_EQ(back[i].header.mode, expected[i].header.mode);
    EXPECT_EQ(back[i].header.mtime, expected[i].header.mtime);
    EXPECT_EQ(back[i].header.link_target, expected[i].header.link_target);
    EXPECT_EQ(back[i].content, expected[i].content) << back[i].header.name;
  }
  // The member list survives its JSON form.
  auto json = nlohmann::json::parse(stored_tar_json(members).dump());
  EXPECT_EQ(read_back(stored_tar_from_json(json, "list")), tar);
}

TEST_F(StoredTarTest, ASecondBackupOfChangedFilesStoresOnlyTheChangedBlocks) {
  store(sample(), nullptr);
  auto changed = sample();
  changed[5].content[kBlock * 2] ^= 1;  // one block of big, in its first list
  BlockWriterStats stats;
  auto members = store(changed, &stats);
  EXPECT_EQ(stats.new_blocks, 2u);  // the block and the list naming it
  EXPECT_EQ(stats.new_bytes, kBlock + kIdsPerList * BlockId::kSize);
  EXPECT_EQ(entries_of(read_back(members))[5].content, changed[5].content);
}

TEST_F(StoredTarTest, FilesArrivingInterleavedAreStoredAsIfOneAfterTheOther) {
  auto index = BlockIndex::load(store_);
  BlockWriter blocks(store_, index, {.level = 1, .pack_bytes = 4096});
  StoredFilesWriter files(blocks, kBlock);
  auto a = content(kBlock * 3 + 2, 'a'), b = content(kBlock * 2, 'b');
  using T = TarEntry::Type;
  files.begin({"a", "", 0, 0640, 1, T::kFile});
  files.begin({"b", "", 0, 0640, 1, T::kFile});
  EXPECT_THROW(files.begin({"a", "", 0, 0640, 1, T::kFile}), DecodeError);
  // Pieces that do not line up with blocks, alternating between the files.
  for (std::size_t at = 0; at < a.size(); at += 5) {
    files.append("a", as_bytes(a.substr(at, 5)));
    if (at < b.size()) files.append("b", as_bytes(b.substr(at, 5)));
  }
  files.close("b");
  EXPECT_THROW(files.finish(), DecodeError);  // "a" is still open
  files.close("a");
  EXPECT_THROW(files.append("a", as_bytes(std::string("x"))), DecodeError);
  auto members = files.finish();
  blocks.finish();
  auto back = entries_of(read_back(members));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].content, a);
  EXPECT_EQ(back[0].header.size, a.size());
  EXPECT_EQ(back[1].content, b);
  // The same files stored one after the other give the same lists: blocks are shared.
  auto sequential =
      store({{{"a", "", 0, 0640, 1, T::kFile}, a}, {{"b", "", 0, 0640, 1, T::kFile}, b}}, nullptr);
  EXPECT_EQ(sequential[0].lists, members[0].lists);
  EXPECT_EQ(sequential[1].lists, members[1].lists);
}

TEST_F(StoredTarTest, BytesOfTheFirstBlockCanBeWrittenAgainUntilTheFileCloses) {
  using T = TarEntry::Type;
  auto big = content(kBlock * (kIdsPerList + 3), 'x');  // the first list fills before close
  auto index = BlockIndex::load(store_);
  BlockWriter blocks(store_, index, {.level = 1, .pack_bytes = 4096});
  StoredFilesWriter files(blocks, kBlock);
  files.begin({"big", "", 0, 0640, 1, T::kFile});
  files.begin({"small", "", 0, 0640, 1, T::kFile});
  files.begin({"gone", "", 0, 0640, 1, T::kFile});
  files.append("big", as_bytes(big));
  files.append("small", as_bytes(std::string("abc")));
  files.overwrite("big", 2, as_bytes(std::string("XY")));
  files.overwrite("small", 1, as_bytes(std::string("B")));
  EXPECT_THROW(files.overwrite("big", kBlock, as_bytes(std::string("Z"))), DecodeError);
  files.close("big");
  files.close("small");
  files.close("gone");
  files.begin({"open", "", 0, 0640, 1, T::kFile});
  EXPECT_THROW(files.rename_closed("small", "open"), DecodeError);
  files.close("open");
  EXPECT_EQ(files.remove_closed([](const std::string& n) { return n == "open"; }), 1u);
  EXPECT_TRUE(files.rename_closed("small", "renamed"));
  EXPECT_FALSE(files.rename_closed("small", "again"));
  EXPECT_EQ(files.remove_closed([](const std::string& n) { return n == "gone"; }), 1u);
  auto members = files.finish();
  blocks.finish();
  big.replace(2, 2, "XY");
  auto back = entries_of(read_back(members));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].content, big);
  EXPECT_EQ(back[1].header.name, "renamed");
  EXPECT_EQ(back[1].content, "aBc");
  // The same lists as the final content stored in one go: nothing of the first version stays.
  auto direct = store({{{"big", "", 0, 0640, 1, T::kFile}, big}}, nullptr);
  EXPECT_EQ(direct[0].lists, members[0].lists);
}

TEST_F(StoredTarTest, ADamagedBlockNamesItsFile) {
  auto members = store(sample(), nullptr);
  auto index = BlockIndex::load(store_);
  auto id = BlockId::of(as_bytes(sample()[3].content));  // PG_VERSION's one block
  auto at = *index.find(id);
  auto key = layout::block_pack(index.pack_name(at.pack));
  auto bytes = store_.get_bytes(key);
  bytes[at.offset + at.stored - 1] ^= 0x10;
  store_.put_bytes(key, bytes, storage::PutMode::kOverwrite);
  try {
    read_back(members);
    FAIL() << "a damaged block was written back";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("file PG_VERSION"), std::string::npos) << e.what();
  }
}

TEST_F(StoredTarTest, AMemberListThatIsNotOneIsRefused) {
  EXPECT_THROW(stored_tar_from_json(nlohmann::json::object(), "x"), DecodeError);
  EXPECT_THROW(
      stored_tar_from_json(
          nlohmann::json::parse(R"([{"name":"a","type":"fifo","mode":0,"mtime":0}])"), "x"),
      DecodeError);
  EXPECT_THROW(
      stored_tar_from_json(
          nlohmann::json::parse(
              R"([{"name":"a","type":"file","mode":0,"mtime":0,"size":1,"lists":["zz"]}])"),
          "x"),
      DecodeError);
}

// Backups written before the block store (manifest version 1, the tar stored whole) read as
// they always did, beside one stored as blocks.
TEST(PgBackupTars, ReadsTarsStoredWholeAndAsBlocks) {
  test::TempDir dir;
  auto archive = Archive::local(dir.path() / "archive");
  archive.create_or_check();
  auto entries = sample();
  for (auto& e : entries) e.header.size = e.content.size();
  auto tar = tar_of(entries);

  PgBackupManifest old;
  old.id = "20250101T000000Z";
  old.source_id = "pg-1";
  PgBackupArchive base;
  base.name = "base.tar";
  base.storage = PgArchiveStorage::kTar;
  base.file = "base.tar.zst";
  base.bytes = tar.size();
  old.archives.push_back(base);
  {
    CompressedObjectWriter w(archive.store(), layout::backup_file(old.id, "base.tar.zst"), {});
    w.write(tar);
    w.finish();
  }
  auto json = nlohmann::json::parse(pg_manifest_json(old));
  EXPECT_EQ(json["version"], 1);
  json["archives"][0].erase("storage");  // as version 1 wrote it
  archive.write_text(layout::backup_file(old.id, layout::kManifestName), json.dump());

  PgBackupManifest now = old;
  now.id = "20250102T000000Z";
  now.archives[0].storage = PgArchiveStorage::kBlocks;
  now.archives[0].file = stored_tar_file_name("base.tar");
  {
    auto index = BlockIndex::load(archive.store());
    BlockWriter blocks(archive.store(), index);
    StoredTarWriter writer(blocks, 8192);
    writer.feed(tar);
    auto members = writer.finish();
    blocks.finish();
    now.archives[0].bytes = stored_tar_length(members);
    CompressedObjectWriter w(archive.store(), layout::backup_file(now.id, now.archives[0].file),
                             {});
    w.write(stored_tar_json(members).dump());
    w.finish();
  }
  archive.write_text(layout::backup_file(now.id, layout::kManifestName), pg_manifest_json(now));

  PgBackupTars tars(archive);
  auto read = [&](const std::string& id) {
    auto m = read_pg_manifest(archive, id);
    std::vector<std::uint8_t> out;
    auto r =
        tars.read(m, m.archives.at(0), [&](Bytes b) { out.insert(out.end(), b.begin(), b.end()); });
    EXPECT_EQ(r.bytes, m.archives[0].bytes);
    return std::pair{m, out};
  };
  auto [m1, tar1] = read(old.id);
  EXPECT_EQ(m1.archives[0].storage, PgArchiveStorage::kTar);
  EXPECT_EQ(tar1, tar);
  auto [m2, tar2] = read(now.id);
  EXPECT_EQ(m2.archives[0].storage, PgArchiveStorage::kBlocks);
  auto a = entries_of(tar1), b = entries_of(tar2);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].content, b[i].content);
}

}  // namespace
}  // namespace pitr::archive
