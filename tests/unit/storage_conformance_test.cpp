// One conformance suite for every storage backend (archive/storage/object_store.hpp): what
// the archive relies on, checked the same way against each. Backends are listed in
// `backends()`; each test gets a fresh, empty store.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "archive/storage/local_directory_store.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr::storage {
namespace {

struct Backend {
  std::string name;
  std::function<std::unique_ptr<ObjectStore>(const std::filesystem::path& scratch)> open;
};

std::vector<Backend> backends() {
  return {{"LocalDirectory", [](const std::filesystem::path& scratch) {
             return std::make_unique<LocalDirectoryStore>(scratch / "store");
           }}};
}

std::vector<std::uint8_t> pattern(std::size_t size, std::uint8_t seed) {
  std::vector<std::uint8_t> out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(i * 31 + seed);
  return out;
}

std::vector<std::string> keys_of(const std::vector<ObjectInfo>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o.key);
  return out;
}

StorageErrorKind error_kind(const std::function<void()>& f) {
  try {
    f();
  } catch (const StorageError& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no StorageError thrown";
  return StorageErrorKind::kPermanent;
}

class StorageConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { store = GetParam().open(scratch.path()); }
  test::TempDir scratch;
  std::unique_ptr<ObjectStore> store;
};

TEST_P(StorageConformance, PutGetRoundTripAndStat) {
  auto data = pattern(3 << 20, 7);  // several of any backend's chunks
  store->put_bytes("binlog/src/binlog.000001/0000000000000000.seg.zst", data, PutMode::kIfAbsent);
  EXPECT_TRUE(store->get_bytes("binlog/src/binlog.000001/0000000000000000.seg.zst") == data);
  auto info = store->stat("binlog/src/binlog.000001/0000000000000000.seg.zst");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, data.size());
  EXPECT_GT(info->modified_unix, 1'600'000'000);
  store->put_bytes("empty", {}, PutMode::kIfAbsent);
  EXPECT_TRUE(store->get_bytes("empty").empty());
  EXPECT_EQ(store->stat("empty")->size, 0u);
}

TEST_P(StorageConformance, MissingObjectsAreNotFound) {
  EXPECT_FALSE(store->exists("nothing/here"));
  EXPECT_FALSE(store->stat("nothing"));
  EXPECT_EQ(error_kind([&] { store->get_bytes("nothing/here"); }), StorageErrorKind::kNotFound);
  store->remove("nothing/here");  // idempotent
}

TEST_P(StorageConformance, RangedReads) {
  auto data = pattern(100'000, 3);
  store->put_bytes("r", data, PutMode::kOverwrite);
  auto middle = store->get_bytes("r", {1000, 5000});
  EXPECT_TRUE(middle == std::vector<std::uint8_t>(data.begin() + 1000, data.begin() + 6000));
  auto tail = store->get_bytes("r", {99'000, std::nullopt});
  EXPECT_TRUE(tail == std::vector<std::uint8_t>(data.begin() + 99'000, data.end()));
  auto cut = store->get_bytes("r", {99'990, 1000});  // ends past the end: cut there
  EXPECT_EQ(cut.size(), 10u);
  EXPECT_EQ(error_kind([&] { store->get_bytes("r", {100'001, 1}); }), StorageErrorKind::kPermanent);
}

TEST_P(StorageConformance, IfAbsentNeverOverwrites) {
  auto first = pattern(1000, 1), second = pattern(2000, 2);
  store->put_bytes("k", first, PutMode::kIfAbsent);
  EXPECT_EQ(error_kind([&] { store->put_bytes("k", second, PutMode::kIfAbsent); }),
            StorageErrorKind::kAlreadyExists);
  EXPECT_TRUE(store->get_bytes("k") == first);
  store->put_bytes("k", second, PutMode::kOverwrite);
  EXPECT_TRUE(store->get_bytes("k") == second);
  EXPECT_EQ(keys_of(store->list("")), std::vector<std::string>{"k"});
}

TEST_P(StorageConformance, ConcurrentIfAbsentHasExactlyOneWinner) {
  if (!store->capabilities().atomic_if_absent) GTEST_SKIP() << "no atomic create";
  std::atomic<int> winners{0}, refused{0};
  std::vector<std::thread> threads;
  for (std::uint8_t t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      try {
        store->put_bytes("lease", pattern(4096, t), PutMode::kIfAbsent);
        ++winners;
      } catch (const StorageError& e) {
        if (e.kind() == StorageErrorKind::kAlreadyExists) ++refused;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(refused.load(), 7);
}

TEST_P(StorageConformance, FailedPutLeavesNothing) {
  int calls = 0;  // the source fails after two full buffers
  auto failing = [&calls](std::span<std::uint8_t> out) -> std::size_t {
    if (++calls % 3 == 0) throw std::runtime_error("source failed");
    std::fill(out.begin(), out.end(), 1);
    return out.size();
  };
  EXPECT_THROW(store->put("dropped", failing, PutMode::kIfAbsent), std::runtime_error);
  EXPECT_FALSE(store->exists("dropped"));
  store->put_bytes("kept", pattern(10, 1), PutMode::kOverwrite);
  EXPECT_THROW(store->put("kept", failing, PutMode::kOverwrite), std::runtime_error);
  EXPECT_TRUE(store->get_bytes("kept") == pattern(10, 1));
  EXPECT_EQ(keys_of(store->list("")), std::vector<std::string>{"kept"});
}

TEST_P(StorageConformance, ListsByPrefixInKeyOrderAcrossPages) {
  for (int i = 1099; i >= 0; --i)  // more than one page of 1000, written out of order
    store->put_bytes(fmt::format("wal/seg-{:05d}", i), pattern(1, 0), PutMode::kIfAbsent);
  store->put_bytes("wal-other", pattern(1, 0), PutMode::kIfAbsent);
  store->put_bytes("binlog/x", pattern(1, 0), PutMode::kIfAbsent);
  auto all = store->list("wal/");
  ASSERT_EQ(all.size(), 1100u);
  for (std::size_t i = 0; i < all.size(); ++i)
    EXPECT_EQ(all[i].key, fmt::format("wal/seg-{:05d}", i));
  auto page = store->list_page("wal/", std::nullopt, 1000);
  EXPECT_EQ(page.objects.size(), 1000u);
  ASSERT_TRUE(page.resume);
  auto rest = store->list_page("wal/", page.resume, 1000);
  EXPECT_EQ(rest.objects.size(), 100u);
  EXPECT_FALSE(rest.resume);
  // A prefix is a string, not a folder: "wal" matches "wal/..." and "wal-other".
  EXPECT_EQ(store->list("wal").size(), 1101u);
  EXPECT_EQ(
      keys_of(store->list("wal/seg-0109")),
      (std::vector<std::string>{"wal/seg-01090", "wal/seg-01091", "wal/seg-01092", "wal/seg-01093",
                                "wal/seg-01094", "wal/seg-01095", "wal/seg-01096", "wal/seg-01097",
                                "wal/seg-01098", "wal/seg-01099"}));
  EXPECT_TRUE(store->list("nothing/").empty());
}

TEST_P(StorageConformance, RemoveDeletes) {
  store->put_bytes("a/b", pattern(5, 0), PutMode::kIfAbsent);
  store->remove("a/b");
  EXPECT_FALSE(store->exists("a/b"));
  EXPECT_TRUE(store->list("a/").empty());
  store->put_bytes("a/b", pattern(6, 0), PutMode::kIfAbsent);  // the key is free again
  EXPECT_EQ(store->stat("a/b")->size, 6u);
}

TEST_P(StorageConformance, KeysWithSpacesPlusAndNonAscii) {
  const std::vector<std::string> keys = {"with space/a b", "plus+sign/c+d", "utf8/zürich-東京",
                                         "percent%25/x?y=z&w"};
  for (std::size_t i = 0; i < keys.size(); ++i)
    store->put_bytes(keys[i], pattern(100 + i, static_cast<std::uint8_t>(i)), PutMode::kIfAbsent);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_TRUE(store->get_bytes(keys[i]) == pattern(100 + i, static_cast<std::uint8_t>(i)))
        << keys[i];
    EXPECT_EQ(keys_of(store->list(keys[i])), std::vector<std::string>{keys[i]});
  }
}

TEST_P(StorageConformance, InvalidKeysAreRefused) {
  for (const std::string key : {"", "/abs", "a//b", "a/", "../up", "a/./b", ".hidden"})
    EXPECT_EQ(error_kind([&] { store->put_bytes(key, pattern(1, 0), PutMode::kIfAbsent); }),
              StorageErrorKind::kPermanent)
        << "'" << key << "'";
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageConformance, ::testing::ValuesIn(backends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace pitr::storage
