// The capture's sealer (capture/segment_sealer.hpp) stores objects on two workers, yet they
// become visible strictly in the order they were handed off, and nothing after a failed job
// is stored: recovery and readers rely on the sealed segments of a log having no holes.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "archive/index_frame.hpp"
#include "archive/record_catalog.hpp"
#include "archive/storage/local_directory_store.hpp"
#include "capture/segment_sealer.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr::capture {
namespace {

// A local store whose puts of `slow_key` take a while (or fail), and which records the order
// in which objects became visible.
class SlowStore : public storage::LocalDirectoryStore {
 public:
  using LocalDirectoryStore::LocalDirectoryStore;
  void put(const std::string& key, const storage::ByteSource& source,
           storage::PutMode mode) override {
    // As S3Store does before a multipart upload: an existing object is refused up front, so
    // the job learns it before it has written everything.
    if (mode == storage::PutMode::kIfAbsent && exists(key))
      throw storage::already_exists_error(key);
    if (key == slow_key) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      if (fail_slow_key) throw storage::StorageError(storage::StorageErrorKind::kPermanent, "boom");
    }
    LocalDirectoryStore::put(key, source, mode);
    if (!key.starts_with("objects/")) return;
    std::lock_guard lock(mutex);
    visible.push_back(key);
  }
  std::string slow_key;
  bool fail_slow_key = false;
  std::mutex mutex;
  std::vector<std::string> visible;
};

class SegmentSealerTest : public ::testing::Test {
 protected:
  SegmentSealerTest() : store(dir.path() / "store"), data(dir.path() / "data") {
    std::ofstream(data, std::ios::binary) << std::string(100000, 'x');
  }
  SegmentSealer::Job job(const std::string& key) {
    return [this, key](int level, const SegmentSealer::WaitTurn& wait_turn) {
      archive::File source(data, archive::File::Mode::kRead);
      return archive::write_indexed_object(
          store, key, source, 0, 100000, level,
          [](const std::string& sha) {
            return nlohmann::json{{"sha256", sha}};
          },
          wait_turn);
    };
  }
  test::TempDir dir;
  SlowStore store;
  archive::fs::path data;
};

TEST_F(SegmentSealerTest, ObjectsBecomeVisibleInTheOrderTheyWereHandedOff) {
  store.slow_key = "objects/0";
  SegmentSealer sealer(store, {1, 1}, "catalogs/test/");
  for (int i = 0; i < 6; ++i) sealer.submit(job("objects/" + std::to_string(i)));
  sealer.finish();
  std::vector<std::string> expected;
  for (int i = 0; i < 6; ++i) expected.push_back("objects/" + std::to_string(i));
  EXPECT_EQ(store.visible, expected);
  EXPECT_EQ(store.list("catalogs/test/").size(), 1u);
}

TEST_F(SegmentSealerTest, NothingAfterAFailedJobIsStored) {
  store.slow_key = "objects/1";
  store.fail_slow_key = true;
  {
    SegmentSealer sealer(store, {1, 1}, "catalogs/test/");
    sealer.submit(job("objects/0"));
    sealer.submit(job("objects/1"));
    sealer.submit(job("objects/2"));
    sealer.submit(job("objects/3"));
    EXPECT_THROW(sealer.drain(), storage::StorageError);
    EXPECT_THROW(sealer.submit(job("objects/4")), storage::StorageError);
  }  // the workers are joined: nothing they could still store is left out of the checks
  EXPECT_EQ(store.visible, std::vector<std::string>{"objects/0"});
  EXPECT_FALSE(store.exists("objects/2"));
  EXPECT_FALSE(store.exists("objects/3"));
}

TEST_F(SegmentSealerTest, AnObjectAlreadyStoredKeepsItsTurn) {
  job("objects/1")(1, [] {});  // what a killed run stored before the restart
  store.visible.clear();
  store.slow_key = "objects/0";
  SegmentSealer sealer(store, {1, 1}, "catalogs/test/");
  for (int i = 0; i < 3; ++i) sealer.submit(job("objects/" + std::to_string(i)));
  sealer.finish();
  EXPECT_EQ(store.visible, (std::vector<std::string>{"objects/0", "objects/2"}));
  auto catalogs = store.list("catalogs/test/");
  ASSERT_EQ(catalogs.size(), 1u);
  auto records = archive::read_records(store, store.list("objects/"), "catalogs/test/");
  EXPECT_TRUE(records.uncatalogued.empty());
}

// A job that records the level it was given, and the first two wait for a gate so that the
// rest queue up behind them.
TEST_F(SegmentSealerTest, AJobOthersWaitBehindIsSealedAtTheCatchUpLevel) {
  std::mutex mutex;
  std::condition_variable changed;
  int started = 0;
  bool open = false;
  std::vector<std::pair<int, int>> levels;  // job number, level
  auto recording = [&](int number) {
    return [&, number](int level, const SegmentSealer::WaitTurn& wait_turn) {
      std::unique_lock lock(mutex);
      levels.emplace_back(number, level);
      ++started;
      changed.notify_all();
      changed.wait(lock, [&] { return open || number > 1; });
      lock.unlock();
      wait_turn();
      return archive::IndexedObject{};
    };
  };
  SegmentSealer sealer(store, {7, -3}, "catalogs/test/");
  for (int number = 0; number < 2; ++number) {  // each worker busy with one, nothing queued
    sealer.submit(recording(number));
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return started == number + 1; });
  }
  for (int number = 2; number < 5; ++number) sealer.submit(recording(number));
  {
    std::lock_guard lock(mutex);
    open = true;
  }
  changed.notify_all();
  sealer.drain();
  std::sort(levels.begin(), levels.end());
  // 2 and 3 started with others queued behind them; 4, the last, with none.
  EXPECT_EQ(levels, (std::vector<std::pair<int, int>>{{0, 7}, {1, 7}, {2, -3}, {3, -3}, {4, 7}}));
}

// The workers keep pace with the receiver by taking its CPU, so nothing queues: the writer
// says the server holds more, and the job gets the catch-up level anyway.
TEST_F(SegmentSealerTest, AJobSubmittedBehindTheServerIsSealedAtTheCatchUpLevel) {
  std::vector<int> levels;
  auto recording = [&](int level, const SegmentSealer::WaitTurn&) {
    levels.push_back(level);
    return archive::IndexedObject{};
  };
  SegmentSealer sealer(store, {7, -3}, "catalogs/test/");
  sealer.submit(recording, true);
  sealer.drain();
  sealer.submit(recording, false);
  sealer.drain();
  EXPECT_EQ(levels, (std::vector<int>{-3, 7}));
}

}  // namespace
}  // namespace pitr::capture
