// Retention's mark and sweep over the block store (archive/block_store/block_sweep.hpp): unused
// packs go, used ones stay, and a backup in progress never loses a block it counts on.
#include <gtest/gtest.h>

#include <random>

#include "archive/archive_layout.hpp"
#include "archive/block_store/block_sweep.hpp"
#include "archive/block_store/block_writer.hpp"
#include "archive/storage/local_directory_store.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr::archive {
namespace {

std::vector<std::uint8_t> block(std::uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<std::uint8_t> out(4096);
  for (auto& b : out) b = static_cast<std::uint8_t>(random());
  return out;
}

class BlockSweepTest : public ::testing::Test {
 protected:
  // A "backup": blocks seed..seed+count-1 through a writer of its own (packs of its own).
  std::vector<BlockId> backup(std::uint32_t seed, std::uint32_t count) {
    auto index = BlockIndex::load(store_);
    // One worker: blocks land in packs in the order put, so the tests know which share a pack.
    BlockWriter writer(store_, index, {.level = 1, .pack_bytes = 16 << 10, .workers = 1});
    std::vector<BlockId> ids;
    for (auto i = seed; i < seed + count; ++i) ids.push_back(writer.put(block(i)));
    writer.finish();
    new_blocks_ = writer.stats().new_blocks;
    return ids;
  }
  // Hooks whose complete backups are `backups` (a second mark sees `later` too).
  SweepHooks hooks(const std::map<std::string, std::vector<BlockId>>& backups,
                   bool in_progress = false,
                   std::map<std::string, std::vector<BlockId>> later = {}) {
    SweepHooks h;
    auto calls = std::make_shared<int>(0);
    h.mark = [=](const BlockReader&, const std::set<std::string>& skip, std::set<std::string>& seen,
                 LiveBlocks& live) {
      auto all = backups;
      if ((*calls)++ > 0) all.insert(later.begin(), later.end());
      for (const auto& [id, blocks] : all) {
        if (skip.contains(id)) continue;
        seen.insert(id);
        live.insert(blocks.begin(), blocks.end());
      }
    };
    h.backups_in_progress = [in_progress] {
      return in_progress ? std::vector<std::string>{"20250101T000000Z"}
                         : std::vector<std::string>{};
    };
    return h;
  }
  std::size_t count(const std::string& prefix) { return store_.list(prefix).size(); }
  bool readable(const std::vector<BlockId>& ids) {
    auto index = BlockIndex::load(store_);
    BlockReader reader(store_, index);
    try {
      for (const auto& id : ids) reader.read(id);
      return true;
    } catch (const BlockError&) {
      return false;
    }
  }

  test::TempDir dir_;
  storage::LocalDirectoryStore store_{dir_.path() / "store"};
  std::uint64_t new_blocks_ = 0;
};

TEST_F(BlockSweepTest, DeletesPacksNoBackupUsesAndKeepsTheRest) {
  auto a = backup(1, 20);
  auto packs_of_a = count(layout::block_packs_prefix());
  auto b = backup(100, 20);
  auto dry = sweep_blocks(store_, hooks({{"a", a}}), {.dry_run = true});
  EXPECT_EQ(dry.doomed.size(), count(layout::block_packs_prefix()) - packs_of_a);
  EXPECT_EQ(count(layout::block_condemned_prefix()), 0u);

  auto report = sweep_blocks(store_, hooks({{"a", a}}), {});
  EXPECT_FALSE(report.deferred());
  EXPECT_EQ(report.doomed, dry.doomed);
  EXPECT_GT(report.doomed_bytes, 20u * 1024);
  EXPECT_EQ(count(layout::block_packs_prefix()), packs_of_a);
  EXPECT_EQ(count(layout::block_indexes_prefix()), packs_of_a);
  EXPECT_EQ(count(layout::block_condemned_prefix()), 0u);
  EXPECT_TRUE(readable(a));
  EXPECT_FALSE(readable({b[0]}));
}

TEST_F(BlockSweepTest, ABackupInProgressDefersDeletionAndNeverSeesCondemnedBlocks) {
  auto a = backup(1, 10);
  auto b = backup(100, 10);
  auto report = sweep_blocks(store_, hooks({{"a", a}}, /*in_progress=*/true), {});
  EXPECT_TRUE(report.deferred());
  EXPECT_EQ(report.deferred_by, std::vector<std::string>{"20250101T000000Z"});
  EXPECT_FALSE(report.doomed.empty());
  EXPECT_EQ(count(layout::block_condemned_prefix()), report.doomed.size());
  // A backup loading the index now stores b's blocks again rather than count on them.
  backup(100, 10);
  EXPECT_EQ(new_blocks_, 10u);
  // Once nothing is in progress, the condemned packs go; the new copies stay.
  report = sweep_blocks(store_, hooks({{"a", a}, {"c", b}}), {});
  EXPECT_FALSE(report.deferred());
  EXPECT_EQ(count(layout::block_condemned_prefix()), 0u);
  EXPECT_TRUE(readable(a));
  EXPECT_TRUE(readable(b));
}

TEST_F(BlockSweepTest, ABackupCompletedDuringTheSweepRevivesWhatItUses) {
  auto a = backup(1, 10);
  auto b = backup(100, 10);
  // "late" finished after the first mark but before the check for backups in progress.
  auto report = sweep_blocks(store_, hooks({{"a", a}}, false, {{"late", b}}), {});
  EXPECT_TRUE(report.doomed.empty());
  EXPECT_GT(report.revived, 0u);
  EXPECT_EQ(count(layout::block_condemned_prefix()), 0u);
  EXPECT_TRUE(readable(b));
}

TEST_F(BlockSweepTest, APackCondemnedEarlierIsRevivedWhenABackupUsesIt) {
  auto a = backup(1, 10);
  auto b = backup(100, 10);
  sweep_blocks(store_, hooks({{"a", a}}, /*in_progress=*/true), {});
  ASSERT_GT(count(layout::block_condemned_prefix()), 0u);
  // Meanwhile readers (restore, verify) still find b's blocks in the condemned packs.
  auto readers =
      BlockIndex::load(store_, {.condemned = true, .pack_contents = false, .leave_out = {}});
  BlockReader reader(store_, readers);
  EXPECT_EQ(reader.read(b[3]), block(103));
  // The backup that was in progress completed, using b's blocks.
  auto report = sweep_blocks(store_, hooks({{"a", a}, {"b", b}}), {});
  EXPECT_TRUE(report.doomed.empty());
  EXPECT_EQ(count(layout::block_condemned_prefix()), 0u);
  EXPECT_TRUE(readable(b));
}

TEST_F(BlockSweepTest, PacksMostlyUnusedAreRepackedSoUnusedBlocksGo) {
  auto all = backup(1, 40);  // packs of four blocks
  std::vector<BlockId> kept, dropped;
  for (std::size_t i = 0; i < all.size(); ++i) (i % 4 == 0 ? kept : dropped).push_back(all[i]);
  auto dry = sweep_blocks(store_, hooks({{"k", kept}}), {.dry_run = true});
  EXPECT_EQ(dry.repacked, dry.doomed.size());
  EXPECT_GT(dry.repacked, 0u);
  auto report = sweep_blocks(store_, hooks({{"k", kept}}), {});
  EXPECT_EQ(report.doomed.size(), dry.doomed.size());
  EXPECT_TRUE(readable(kept));
  for (const auto& id : dropped) EXPECT_FALSE(readable({id}));
  // What is left holds the kept blocks and (nearly) nothing else.
  EXPECT_EQ(BlockIndex::load(store_).block_count(), kept.size());
  // A pack with few unused blocks is left as it is.
  auto again = sweep_blocks(store_, hooks({{"k", kept}}), {});
  EXPECT_TRUE(again.doomed.empty());
}

}  // namespace
}  // namespace pitr::archive
