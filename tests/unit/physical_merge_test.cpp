// An incremental MariaDB backup made complete (capture/mysql/physical_merge.hpp): pages put
// into the parent's files, tablespaces replaced, renamed and dropped by space id, every other
// file taken from the incremental.
#include "capture/mysql/physical_merge.hpp"

#include <gtest/gtest.h>

#include "archive/storage/local_directory_store.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr::capture {
namespace {

constexpr std::size_t kBlock = 1024;

class PhysicalMergeTest : public ::testing::Test {
 protected:
  archive::StoredTarMember file(const std::string& name, const std::string& content) {
    archive::StoredTarMember m;
    m.entry.name = name;
    m.entry.type = TarEntry::Type::kFile;
    m.entry.size = content.size();
    std::vector<archive::BlockId> ids;
    for (std::size_t at = 0; at < content.size(); at += kBlock)
      ids.push_back(writer_->put(as_bytes(content.substr(at, kBlock))));
    m.lists = archive::store_id_lists(*writer_, ids);
    return m;
  }
  std::string content_of(const archive::StoredTarMember& m) {
    writer_->finish();
    auto index = archive::BlockIndex::load(store_);
    archive::BlockReader reader(store_, index);
    auto ids = archive::data_block_ids(reader, {&m}).at(0);
    std::vector<std::string> parts(ids.size());
    reader.read_all(ids, [&](std::size_t i, Bytes b) { parts[i] = std::string(as_text(b)); });
    std::string out;
    for (const auto& p : parts) out += p;
    EXPECT_EQ(out.size(), m.entry.size) << m.entry.name;
    return out;
  }
  PhysicalFileMap merge(PhysicalFileMap parent, IncrementalParts parts) {
    writer_->drain();
    writer_->finish();  // the parent's blocks are stored before the merge reads them
    index_ = archive::BlockIndex::load(store_);
    writer_ = std::make_unique<archive::BlockWriter>(store_, index_);
    auto reading = archive::BlockIndex::load(store_);
    archive::BlockReader reader(store_, reading);
    return merge_incremental(std::move(parent), std::move(parts), "checkpoints",
                             {*writer_, reader, kBlock});
  }
  static DeltaPages delta(std::uint32_t page_size, std::uint32_t space_id) {
    DeltaPages d;
    d.meta = mariadb::DeltaMeta{page_size, 0, space_id};
    return d;
  }

  test::TempDir dir_;
  storage::LocalDirectoryStore store_{dir_.path() / "store"};
  archive::BlockIndex index_ = archive::BlockIndex::load(store_);
  std::unique_ptr<archive::BlockWriter> writer_ =
      std::make_unique<archive::BlockWriter>(store_, index_);
};

std::string pages(const std::string& letters) {
  std::string out;
  for (char c : letters) out += std::string(kBlock, c);
  return out;
}

TEST_F(PhysicalMergeTest, PagesGoIntoTheRightFilesAndEverythingElseComesFromTheIncremental) {
  PhysicalFileMap parent;
  for (auto [name, content] : {std::pair{"db/a.ibd", pages("abc")},
                               {"db/b.ibd", pages("bb")},
                               {"db/old.ibd", pages("oo")},
                               {"db/gone.ibd", pages("g")},
                               {"db/same.ibd", pages("ss")},
                               {"ibdata1", pages("iii")},
                               {"db/a.frm", std::string("old frm")},
                               {"aria_log.00000001", std::string("old log")}})
    parent.files[name] = file(name, content);
  parent.space_ids = {
      {"db/a.ibd", 5}, {"db/b.ibd", 6}, {"db/old.ibd", 7}, {"db/gone.ibd", 8}, {"db/same.ibd", 9}};
  auto unchanged_lists = parent.files["db/same.ibd"].lists;

  IncrementalParts parts;
  auto& a = parts.deltas["db/a.ibd"] = delta(kBlock, 5);  // page 1 changed, page 4 added
  a.blocks = {{1, writer_->put(as_bytes(pages("X")))}, {4, writer_->put(as_bytes(pages("Y")))}};
  auto& b = parts.deltas["db/b.ibd"] = delta(kBlock, 16);  // rebuilt: a new space id
  b.blocks = {{0, writer_->put(as_bytes(pages("N")))}};
  b.tablespace_pages = 2;
  auto& r = parts.deltas["db/renamed.ibd"] = delta(kBlock, 7);  // db/old.ibd renamed
  r.blocks = {{0, writer_->put(as_bytes(pages("R")))}};
  parts.deltas["db/same.ibd"] = delta(kBlock, 9);  // nothing changed
  parts.deltas["ibdata1"] = delta(kBlock, 0);
  parts.deltas["ibdata1"].blocks = {{2, writer_->put(as_bytes(pages("S")))}};
  for (auto [name, content] : {std::pair{"db/a.frm", std::string("new frm")},
                               {"aria_log.00000002", std::string("new log")},
                               {"db/c.new", pages("cc")}})
    parts.whole.files[name] = file(name, content);
  parts.whole.space_ids["db/c.new"] = 17;

  auto merged = merge(std::move(parent), std::move(parts));
  std::vector<std::string> names;
  for (const auto& [name, m] : merged.files) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"aria_log.00000002", "db/a.frm", "db/a.ibd",
                                             "db/b.ibd", "db/c.ibd", "db/renamed.ibd",
                                             "db/same.ibd", "ibdata1", "xtrabackup_checkpoints"}));
  EXPECT_EQ(content_of(merged.files["db/a.ibd"]),
            pages("aXc") + std::string(kBlock, 0) + pages("Y"));
  EXPECT_EQ(content_of(merged.files["db/b.ibd"]), pages("N") + std::string(kBlock, 0));
  EXPECT_EQ(content_of(merged.files["db/renamed.ibd"]), pages("Ro"));
  EXPECT_EQ(content_of(merged.files["db/c.ibd"]), pages("cc"));
  EXPECT_EQ(content_of(merged.files["ibdata1"]), pages("iiS"));
  EXPECT_EQ(content_of(merged.files["db/a.frm"]), "new frm");
  EXPECT_EQ(content_of(merged.files["xtrabackup_checkpoints"]), "checkpoints");
  EXPECT_EQ(merged.files["db/same.ibd"].lists, unchanged_lists);  // shared, not rewritten
  EXPECT_EQ(merged.space_ids, (std::map<std::string, std::uint32_t>{{"db/a.ibd", 5},
                                                                    {"db/b.ibd", 16},
                                                                    {"db/c.ibd", 17},
                                                                    {"db/renamed.ibd", 7},
                                                                    {"db/same.ibd", 9}}));
}

TEST_F(PhysicalMergeTest, ANameReusedByAnotherTablespaceKeepsTheRenamedOne) {
  // Between the backups: RENAME TABLE t TO t_old; CREATE TABLE t. The new t's delta sorts
  // first and must not take away the file t_old's delta needs.
  PhysicalFileMap parent;
  parent.files["db/t.ibd"] = file("db/t.ibd", pages("abc"));
  parent.space_ids["db/t.ibd"] = 5;
  IncrementalParts parts;
  auto& t = parts.deltas["db/t.ibd"] = delta(kBlock, 9);
  t.blocks = {{0, writer_->put(as_bytes(pages("N")))}};
  auto& old = parts.deltas["db/t_old.ibd"] = delta(kBlock, 5);
  old.blocks = {{2, writer_->put(as_bytes(pages("Z")))}};
  auto merged = merge(std::move(parent), std::move(parts));
  EXPECT_EQ(content_of(merged.files["db/t.ibd"]), pages("N"));
  EXPECT_EQ(content_of(merged.files["db/t_old.ibd"]), pages("abZ"));
}

TEST_F(PhysicalMergeTest, MarkersOfTheIncrementalApplyInMariabackupsOrder) {
  // During the incremental: RENAME TABLE t TO t_old; CREATE TABLE t (t.ren, then t.new), and
  // DROP TABLE b; RENAME TABLE a TO b (b.del, a.ren).
  PhysicalFileMap parent;
  for (auto [name, content] :
       {std::pair{"db/t.ibd", pages("tt")}, {"db/a.ibd", pages("aa")}, {"db/b.ibd", pages("bb")}})
    parent.files[name] = file(name, content);
  parent.space_ids = {{"db/t.ibd", 5}, {"db/a.ibd", 6}, {"db/b.ibd", 7}};
  IncrementalParts parts;
  auto& t = parts.deltas["db/t.ibd"] = delta(kBlock, 5);  // copied before the rename
  t.blocks = {{1, writer_->put(as_bytes(pages("T")))}};
  auto& a = parts.deltas["db/a.ibd"] = delta(kBlock, 6);
  a.blocks = {{0, writer_->put(as_bytes(pages("A")))}};
  parts.deltas["db/b.ibd"] = delta(kBlock, 7);
  for (auto [name, content] : {std::pair{"db/t.ren", std::string("db/t_old")},
                               {"db/t.new", pages("n")},
                               {"db/b.del", std::string()},
                               {"db/a.ren", std::string("db/b")}})
    parts.whole.files[name] = file(name, content);
  parts.renames = {{"db/t.ren", "db/t_old"}, {"db/a.ren", "db/b"}};
  auto merged = merge(std::move(parent), std::move(parts));
  std::vector<std::string> names;
  for (const auto& [name, m] : merged.files) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"db/b.ibd", "db/t.ibd", "db/t_old.ibd",
                                             "xtrabackup_checkpoints"}));
  EXPECT_EQ(content_of(merged.files["db/t_old.ibd"]), pages("tT"));
  EXPECT_EQ(content_of(merged.files["db/t.ibd"]), pages("n"));
  EXPECT_EQ(content_of(merged.files["db/b.ibd"]), pages("Aa"));
}

TEST_F(PhysicalMergeTest, SmallerPagesArePutIntoTheBlocksThatHoldThem) {
  PhysicalFileMap parent;
  parent.files["db/z.ibd"] = file("db/z.ibd", pages("ab"));
  parent.space_ids["db/z.ibd"] = 3;
  IncrementalParts parts;
  auto& z = parts.deltas["db/z.ibd"] = delta(kBlock / 2, 3);  // compressed: half-size pages
  z.held[1] = std::vector<std::uint8_t>(kBlock / 2, 'Q');
  z.held[4] = std::vector<std::uint8_t>(kBlock / 2, 'T');
  auto merged = merge(std::move(parent), std::move(parts));
  EXPECT_EQ(content_of(merged.files["db/z.ibd"]), std::string(kBlock / 2, 'a') +
                                                      std::string(kBlock / 2, 'Q') + pages("b") +
                                                      std::string(kBlock / 2, 'T'));
}

TEST_F(PhysicalMergeTest, MarkersOfDdlDuringABackupAreApplied) {
  PhysicalFileMap map;
  for (auto [name, content] : {std::pair{"db/t.ibd", pages("t")},
                               {"db/t.del", std::string()},
                               {"db/u.ibd", pages("u")},
                               {"db/u.ren", std::string("db/v")},
                               {"db/w.ibd", pages("w")},
                               {"db/w.new", pages("W")}})
    map.files[name] = file(name, content);
  apply_ddl_markers(map, [](const std::string& path) {
    EXPECT_EQ(path, "db/u.ren");
    return std::string("db/v");
  });
  std::vector<std::string> names;
  for (const auto& [name, m] : map.files) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"db/v.ibd", "db/w.ibd"}));
  EXPECT_EQ(content_of(map.files["db/w.ibd"]), pages("W"));
}

}  // namespace
}  // namespace pitr::capture
