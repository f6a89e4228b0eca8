// ReadAheadStore (archive/storage/read_ahead_store.hpp): objects named ahead are fetched
// once each, by several workers, no further than the window ahead of the reader, and every
// read of them (whole or ranged, in a second pass too) comes from the kept copy.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>

#include "archive/storage/local_directory_store.hpp"
#include "archive/storage/read_ahead_store.hpp"
#include "tests/unit/counting_store.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr::storage {
namespace {

using test::CountingStore;

std::vector<std::uint8_t> content(int i) {
  std::vector<std::uint8_t> out(1000 + 37 * i);
  for (std::size_t k = 0; k < out.size(); ++k) out[k] = static_cast<std::uint8_t>(k * i + 3);
  return out;
}

class ReadAheadStoreTest : public ::testing::Test {
 protected:
  ReadAheadStoreTest() : inner(std::make_shared<CountingStore>(dir.path() / "store")) {
    for (int i = 0; i < 40; ++i) {
      keys.push_back(fmt_key(i));
      inner->put_bytes(keys.back(), content(i), PutMode::kIfAbsent);
    }
  }
  static std::string fmt_key(int i) { return "binlog/s/f/" + std::to_string(1000 + i) + ".seg"; }

  test::TempDir dir;
  std::shared_ptr<CountingStore> inner;
  std::vector<std::string> keys;
};

TEST_F(ReadAheadStoreTest, TwoPassesFetchEachObjectOnce) {
  ReadAheadStore store(inner, {.workers = 4, .window = 8});
  for (int pass = 0; pass < 2; ++pass) {
    store.will_read(keys);
    for (int i = 0; i < 40; ++i) EXPECT_EQ(store.get_bytes(keys[i]), content(i)) << i;
  }
  auto seventh = content(7);
  EXPECT_EQ(store.get_bytes(keys[7], {900, std::nullopt}),
            std::vector<std::uint8_t>(seventh.begin() + 900, seventh.end()));
  EXPECT_EQ(store.get_bytes(keys[7], {10, 5}),
            std::vector<std::uint8_t>(seventh.begin() + 10, seventh.begin() + 15));
  for (const auto& key : keys) EXPECT_EQ(inner->gets_of(key), 1) << key;
  EXPECT_EQ(store.fetched(), 40u);
}

TEST_F(ReadAheadStoreTest, FetchesNoFurtherThanTheWindowAheadOfTheReader) {
  ReadAheadStore store(inner, {.workers = 4, .window = 8});
  store.will_read(keys);
  EXPECT_EQ(store.get_bytes(keys[0]), content(0));
  // Give the workers time to run as far as they may: the window past key 0.
  for (int i = 0; i < 200 && store.fetched() < 9; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(store.fetched(), 9u);
  EXPECT_EQ(inner->keys_fetched(), 9u);
}

TEST_F(ReadAheadStoreTest, KeysNotAnnouncedAndFailedFetchesGoToTheStore) {
  ReadAheadStore store(inner, {.workers = 2, .window = 4});
  store.will_read({"binlog/s/f/missing.seg", keys[0]});
  try {
    store.get_bytes("binlog/s/f/missing.seg");
    ADD_FAILURE() << "a missing object was read";
  } catch (const StorageError& e) {
    EXPECT_EQ(e.kind(), StorageErrorKind::kNotFound);  // the store's own error
  }
  EXPECT_EQ(store.get_bytes(keys[5]), content(5));
  EXPECT_EQ(inner->gets_of(keys[5]), 1);
}

TEST_F(ReadAheadStoreTest, AnOverwrittenOrRemovedObjectIsNotServedFromItsOldCopy) {
  ReadAheadStore store(inner, {.workers = 2, .window = 4});
  store.will_read({keys[0], keys[1]});
  EXPECT_EQ(store.get_bytes(keys[0]), content(0));
  store.put_bytes(keys[0], content(9), PutMode::kOverwrite);
  EXPECT_EQ(store.get_bytes(keys[0]), content(9));
  EXPECT_EQ(store.get_bytes(keys[1]), content(1));
  store.remove(keys[1]);
  EXPECT_FALSE(store.exists(keys[1]));
  EXPECT_THROW(store.get_bytes(keys[1]), StorageError);
}

TEST_F(ReadAheadStoreTest, CopiesLeaveNoFileBehindAndAFullDiskFallsBackToTheStore) {
  std::filesystem::path tmp = dir.path() / "tmp";
  std::filesystem::create_directories(tmp);
  setenv("TMPDIR", tmp.c_str(), 1);
  {
    ReadAheadStore store(inner, {.workers = 2, .window = 4});
    store.will_read(keys);
    EXPECT_EQ(store.get_bytes(keys[3]), content(3));
    for (int i = 0; i < 200 && store.fetched() < 8; ++i)  // the window past key 3, all kept
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(store.fetched(), 8u);
    EXPECT_TRUE(std::filesystem::is_empty(tmp));  // unlinked at once: kill -9 leaves nothing
  }
  setenv("TMPDIR", (dir.path() / "no-such-directory").c_str(), 1);
  {
    ReadAheadStore store(inner, {.workers = 2, .window = 4});
    store.will_read(keys);
    EXPECT_EQ(store.get_bytes(keys[20]), content(20));  // no copy could be made: read directly
  }
  unsetenv("TMPDIR");
}

TEST_F(ReadAheadStoreTest, CopiesAlreadyReadAreDroppedBeyondTheLimit) {
  ReadAheadStore store(inner, {.workers = 2, .window = 4, .max_kept_bytes = 30000});
  for (int pass = 0; pass < 2; ++pass) {
    store.will_read(keys);
    for (int i = 0; i < 40; ++i) EXPECT_EQ(store.get_bytes(keys[i]), content(i)) << i;
  }
  // The first copies stayed for the second pass; later ones made way, and were fetched again.
  EXPECT_EQ(inner->gets_of(keys[0]), 1);
  int gets = 0;
  for (const auto& key : keys) gets += inner->gets_of(key);
  EXPECT_GT(gets, 50);  // the copies (69 KB in all) never all fit in 30 KB
}

}  // namespace
}  // namespace pitr::storage
