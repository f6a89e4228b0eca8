// The push-style writer over a store's pull-style put: the object appears whole at commit,
// not at all when abandoned, and the store's refusal reaches the writer.
#include "archive/storage/object_writer.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "archive/compressed_object_reader.hpp"
#include "archive/compressed_object_writer.hpp"
#include "archive/file_io.hpp"
#include "archive/storage/local_directory_store.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr {
namespace {

std::vector<std::uint8_t> counting_bytes(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  std::iota(v.begin(), v.end(), std::uint8_t{0});
  return v;
}

TEST(ObjectWriter, ManyPiecesBecomeOneObjectAtCommit) {
  test::TempDir dir;
  storage::LocalDirectoryStore store(dir.path());
  auto data = counting_bytes(20u << 20);  // more than the writer buffers
  storage::ObjectWriter w(store, "a/b", storage::PutMode::kIfAbsent);
  for (std::size_t at = 0; at < data.size(); at += 100'003)
    w.write(Bytes(data).subspan(at, std::min<std::size_t>(100'003, data.size() - at)));
  w.commit();
  EXPECT_EQ(w.bytes(), data.size());
  EXPECT_TRUE(store.get_bytes("a/b") == data);
}

TEST(ObjectWriter, AnAbandonedWriterLeavesNoObject) {
  test::TempDir dir;
  storage::LocalDirectoryStore store(dir.path());
  {
    storage::ObjectWriter w(store, "x", storage::PutMode::kIfAbsent);
    w.write(Bytes(counting_bytes(1 << 20)));
  }
  EXPECT_FALSE(store.exists("x"));
  EXPECT_TRUE(store.list("").empty());
}

TEST(ObjectWriter, TheStoresRefusalReachesTheWriter) {
  test::TempDir dir;
  storage::LocalDirectoryStore store(dir.path());
  store.put_bytes("taken", Bytes(counting_bytes(10)), storage::PutMode::kIfAbsent);
  storage::ObjectWriter w(store, "taken", storage::PutMode::kIfAbsent);
  w.write(Bytes(counting_bytes(1000)));
  try {
    w.commit();
    FAIL() << "an if-absent write over an existing object succeeded";
  } catch (const storage::StorageError& e) {
    EXPECT_EQ(e.kind(), storage::StorageErrorKind::kAlreadyExists);
  }
  EXPECT_TRUE(store.get_bytes("taken") == counting_bytes(10));
}

TEST(CompressedObject, RoundTripAndTruncationIsDetected) {
  test::TempDir dir;
  storage::LocalDirectoryStore store(dir.path());
  auto data = counting_bytes(3u << 20);
  archive::CompressedObjectWriter w(store, "c.zst", {.level = 3});
  w.write(Bytes(data));
  auto written = w.finish();
  std::vector<std::uint8_t> back;
  auto read = archive::read_zstd_object(
      store, "c.zst", [&](Bytes b) { back.insert(back.end(), b.begin(), b.end()); });
  EXPECT_TRUE(back == data);
  EXPECT_EQ(read.sha256, written.sha256);
  auto stored = store.get_bytes("c.zst");
  store.put_bytes("cut.zst", Bytes(stored).first(stored.size() - 5), storage::PutMode::kIfAbsent);
  EXPECT_THROW(archive::read_zstd_object(store, "cut.zst", [](Bytes) {}), archive::IoError);
  store.put_bytes("empty.zst", {}, storage::PutMode::kIfAbsent);
  EXPECT_THROW(archive::read_zstd_object(store, "empty.zst", [](Bytes) {}), archive::IoError);
}

}  // namespace
}  // namespace pitr
