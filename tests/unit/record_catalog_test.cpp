// Record catalogs (archive/record_catalog.hpp): readers take a sealed object's record from a
// catalog while the listing shows the object with the catalogued size, read it from the
// object otherwise, and survive a damaged catalog; the writer batches.
#include <gtest/gtest.h>

#include <fstream>

#include "archive/index_frame.hpp"
#include "archive/record_catalog.hpp"
#include "tests/unit/counting_store.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr::archive {
namespace {

constexpr const char* kCatalogs = "catalogs/test/";

class RecordCatalogTest : public ::testing::Test {
 protected:
  RecordCatalogTest() : store(dir.path() / "store") {
    auto data = dir.path() / "data";
    std::ofstream(data, std::ios::binary) << std::string(5000, 'x');
    File source(data, File::Mode::kRead);
    for (int i = 0; i < 4; ++i)
      sealed.push_back(write_indexed_object(store, "objects/" + std::to_string(i), source, 0,
                                            1000 + i, 1, [&](const std::string& sha) {
                                              return nlohmann::json{{"n", i}, {"sha256", sha}};
                                            }));
  }
  std::vector<storage::ObjectInfo> listing() const { return store.list("objects/"); }
  int record_reads() const {
    int n = 0;
    for (const auto& o : sealed) n += store.gets_of(o.key);
    return n;
  }

  test::TempDir dir;
  test::CountingStore store;
  std::vector<IndexedObject> sealed;
};

TEST_F(RecordCatalogTest, CataloguedRecordsComeFromTheCatalogAlone) {
  write_record_catalog(store, kCatalogs, {sealed[0], sealed[1]});
  write_record_catalog(store, kCatalogs, {sealed[2]});
  store.forget();
  auto got = read_records(store, listing(), kCatalogs);
  ASSERT_EQ(got.records.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got.records[i].at("n"), i);
  EXPECT_EQ(store.gets_of("objects/0") + store.gets_of("objects/1") + store.gets_of("objects/2"),
            0);
  EXPECT_GT(store.gets_of("objects/3"), 0);
  ASSERT_EQ(got.uncatalogued.size(), 1u);
  EXPECT_EQ(got.uncatalogued[0].key, "objects/3");
  EXPECT_EQ(got.uncatalogued[0].size, sealed[3].size);
  EXPECT_TRUE(got.damaged_catalogs.empty());
}

TEST_F(RecordCatalogTest, AnEntryWhoseSizeDiffersFromTheListingIsNotUsed) {
  auto stale = sealed[0];
  stale.size += 1;
  stale.record = {{"n", 99}};
  write_record_catalog(store, kCatalogs, {stale});
  auto got = read_records(store, listing(), kCatalogs);
  EXPECT_EQ(got.records[0].at("n"), 0);
  EXPECT_EQ(got.uncatalogued.size(), 4u);
}

TEST_F(RecordCatalogTest, ADamagedCatalogIsReportedAndItsObjectsReadThemselves) {
  write_record_catalog(store, kCatalogs, {sealed[0], sealed[1]});
  auto catalog = store.list(kCatalogs).at(0).key;
  store.put_bytes(catalog, as_bytes(std::string_view("not zstd")), storage::PutMode::kOverwrite);
  auto got = read_records(store, listing(), kCatalogs);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got.records[i].at("n"), i);
  ASSERT_EQ(got.damaged_catalogs.size(), 1u);
  EXPECT_NE(got.damaged_catalogs[0].find(catalog), std::string::npos) << got.damaged_catalogs[0];
  EXPECT_EQ(got.uncatalogued.size(), 4u);
}

TEST_F(RecordCatalogTest, TheWriterStoresACatalogPerBatchAndTheRestOnFlush) {
  RecordCatalogWriter writer(store, kCatalogs, 3);
  for (const auto& o : sealed) writer.add(o);
  EXPECT_EQ(store.list(kCatalogs).size(), 1u);
  writer.flush();
  EXPECT_EQ(store.list(kCatalogs).size(), 2u);
  writer.flush();  // nothing gathered: no empty catalog
  EXPECT_EQ(store.list(kCatalogs).size(), 2u);
  store.forget();
  EXPECT_TRUE(read_records(store, listing(), kCatalogs).uncatalogued.empty());
  EXPECT_EQ(record_reads(), 0);
}

TEST_F(RecordCatalogTest, WritingTheSameEntriesTwiceKeepsOneCatalog) {
  write_record_catalog(store, kCatalogs, {sealed[0]});
  write_record_catalog(store, kCatalogs, {sealed[0]});
  EXPECT_EQ(store.list(kCatalogs).size(), 1u);
}

TEST_F(RecordCatalogTest, WrittenObjectsReportTheSizeTheListingShows) {
  auto listed = listing();
  for (std::size_t i = 0; i < sealed.size(); ++i) EXPECT_EQ(sealed[i].size, listed[i].size);
}

}  // namespace
}  // namespace pitr::archive
