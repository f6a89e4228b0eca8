// The block store (archive/block_store/): blocks stored once, read back checked, packs found
// again after a killed writer, damage reported by block. Each test runs on a local directory
// and on the same directory encrypted.
#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <thread>

#include "archive/archive_layout.hpp"
#include "archive/block_store/block_reader.hpp"
#include "archive/block_store/block_writer.hpp"
#include "archive/storage/encrypted_store.hpp"
#include "archive/storage/local_directory_store.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr::archive {
namespace {

using storage::ObjectStore;

std::vector<std::uint8_t> page(std::uint32_t seed, std::size_t size = 8192) {
  // Half random, half repeated: compressible like a real page, unique per seed.
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> out(size, static_cast<std::uint8_t>(seed));
  for (std::size_t i = 0; i < size / 2; ++i) out[i] = static_cast<std::uint8_t>(rng());
  return out;
}

std::size_t count_under(const ObjectStore& store, const std::string& prefix) {
  return store.list(prefix).size();
}

class BlockStoreTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    auto local = std::make_shared<storage::LocalDirectoryStore>(dir_.path() / "store");
    if (GetParam()) {
      std::array<std::uint8_t, storage::EncryptionKey::kSize> key{};
      key.fill(0x21);
      store_ = std::make_unique<storage::EncryptedStore>(local, storage::EncryptionKey(key),
                                                         std::set<std::string>{});
    } else {
      store_ = std::make_unique<storage::LocalDirectoryStore>(dir_.path() / "store");
    }
  }
  // Writes pages seed..seed+count-1, each twice, in packs of about `pack_bytes`.
  std::vector<BlockId> write_pages(std::uint32_t seed, std::uint32_t count, std::size_t pack_bytes,
                                   BlockWriterStats* stats = nullptr) {
    auto index = BlockIndex::load(*store_);
    BlockWriter writer(*store_, index, {.level = 1, .pack_bytes = pack_bytes});
    std::vector<BlockId> ids;
    for (std::uint32_t i = 0; i < count; ++i) ids.push_back(writer.put(page(seed + i)));
    for (std::uint32_t i = 0; i < count; ++i) EXPECT_EQ(writer.put(page(seed + i)), ids[i]);
    writer.finish();
    if (stats) *stats = writer.stats();
    return ids;
  }
  void flip_byte_of_block(const BlockId& id) {
    auto index = BlockIndex::load(*store_);
    auto at = *index.find(id);
    auto key = layout::block_pack(index.pack_name(at.pack));
    auto bytes = store_->get_bytes(key);
    bytes[at.offset + at.stored / 2] ^= 0x40;
    store_->put_bytes(key, bytes, storage::PutMode::kOverwrite);
  }

  test::TempDir dir_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_P(BlockStoreTest, StoresEachBlockOnceAndReadsItBack) {
  BlockWriterStats stats;
  auto ids = write_pages(1, 40, 64 << 10, &stats);
  EXPECT_EQ(stats.blocks, 80u);
  EXPECT_EQ(stats.new_blocks, 40u);
  EXPECT_EQ(stats.new_bytes, 40u * 8192);
  EXPECT_LT(stats.stored_bytes, stats.new_bytes);
  EXPECT_GT(stats.packs, 2u);
  EXPECT_EQ(count_under(*store_, layout::block_packs_prefix()), stats.packs);
  EXPECT_EQ(count_under(*store_, layout::block_indexes_prefix()), stats.packs);

  auto index = BlockIndex::load(*store_);
  EXPECT_EQ(index.block_count(), 40u);
  EXPECT_TRUE(index.unindexed().empty());
  BlockReader reader(*store_, index);
  for (std::uint32_t i = 0; i < ids.size(); ++i) EXPECT_EQ(reader.read(ids[i]), page(1 + i));

  std::vector<BlockId> wanted{ids[7], ids[3], ids[39], ids[3], ids[0]};
  std::vector<std::vector<std::uint8_t>> got(wanted.size());
  reader.read_all(wanted, [&](std::size_t i, Bytes b) { got[i].assign(b.begin(), b.end()); });
  for (std::size_t i = 0; i < wanted.size(); ++i) EXPECT_EQ(got[i], reader.read(wanted[i]));
}

TEST_P(BlockStoreTest, ASecondRunStoresOnlyBlocksTheStoreLacks) {
  write_pages(1, 20, 1 << 20);
  auto packs = count_under(*store_, layout::block_packs_prefix());
  BlockWriterStats stats;
  write_pages(11, 20, 1 << 20, &stats);  // 11..30: half of them already stored
  EXPECT_EQ(stats.new_blocks, 10u);
  EXPECT_EQ(count_under(*store_, layout::block_packs_prefix()), packs + 1);
  write_pages(1, 30, 1 << 20, &stats);
  EXPECT_EQ(stats.new_blocks, 0u);
  EXPECT_EQ(stats.packs, 0u);
  EXPECT_EQ(count_under(*store_, layout::block_packs_prefix()), packs + 1);
}

TEST_P(BlockStoreTest, APackStoredWithoutItsIndexIsFoundAndNotUploadedAgain) {
  auto ids = write_pages(1, 30, 64 << 10);
  // A writer killed between a pack and its index leaves packs without index objects.
  auto indexes = store_->list(layout::block_indexes_prefix());
  for (const auto& o : indexes) store_->remove(o.key);
  auto index = BlockIndex::load(*store_);
  EXPECT_EQ(index.block_count(), 30u);
  EXPECT_EQ(index.unindexed().size(), indexes.size());
  BlockReader reader(*store_, index);
  EXPECT_EQ(reader.read(ids[29]), page(30));

  BlockWriterStats stats;
  write_pages(1, 30, 64 << 10, &stats);
  EXPECT_EQ(stats.new_blocks, 0u);
  EXPECT_EQ(count_under(*store_, layout::block_indexes_prefix()), indexes.size());
  EXPECT_TRUE(BlockIndex::load(*store_).unindexed().empty());
}

TEST_P(BlockStoreTest, PutsFromSeveralThreadsStoreEachBlockOnce) {
  auto index = BlockIndex::load(*store_);
  BlockWriter writer(*store_, index, {.level = 1, .pack_bytes = 64 << 10, .workers = 3});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (std::uint32_t i = 0; i < 100; ++i) writer.put(page(i));
    });
  for (auto& t : threads) t.join();
  writer.finish();
  EXPECT_EQ(writer.stats().blocks, 400u);
  EXPECT_EQ(writer.stats().new_blocks, 100u);
  auto reloaded = BlockIndex::load(*store_);
  EXPECT_EQ(reloaded.block_count(), 100u);
  BlockReader reader(*store_, reloaded);
  for (std::uint32_t i = 0; i < 100; ++i) EXPECT_EQ(reader.read(BlockId::of(page(i))), page(i));
}

TEST_P(BlockStoreTest, AnUnfinishedWriterLeavesNoPack) {
  {
    auto index = BlockIndex::load(*store_);
    BlockWriter writer(*store_, index);
    writer.put(page(1));
  }
  EXPECT_EQ(count_under(*store_, "blocks/"), 0u);
  EXPECT_EQ(BlockIndex::load(*store_).block_count(), 0u);
}

TEST_P(BlockStoreTest, AFlippedByteIsReportedForItsBlock) {
  auto ids = write_pages(1, 10, 1 << 20);
  flip_byte_of_block(ids[4]);
  auto index = BlockIndex::load(*store_);
  BlockReader reader(*store_, index);
  EXPECT_EQ(reader.read(ids[3]), page(4));
  try {
    reader.read(ids[4]);
    FAIL() << "a damaged block was read";
  } catch (const BlockError& e) {
    EXPECT_EQ(e.id(), ids[4]);
    EXPECT_NE(std::string(e.what()).find("damaged"), std::string::npos) << e.what();
  }
  EXPECT_THROW(reader.read_all(ids, [](std::size_t, Bytes) {}), BlockError);
}

TEST_P(BlockStoreTest, AMissingBlockIsNamed) {
  write_pages(1, 3, 1 << 20);
  auto index = BlockIndex::load(*store_);
  BlockReader reader(*store_, index);
  auto absent = BlockId::of(page(99));
  try {
    reader.read(absent);
    FAIL() << "a missing block was read";
  } catch (const BlockError& e) {
    EXPECT_NE(std::string(e.what()).find(absent.hex()), std::string::npos) << e.what();
  }
}

TEST_P(BlockStoreTest, ADamagedIndexIsRefusedByName) {
  write_pages(1, 3, 1 << 20);
  auto key = store_->list(layout::block_indexes_prefix()).at(0).key;
  auto bytes = store_->get_bytes(key);
  bytes[20] ^= 1;
  store_->put_bytes(key, bytes, storage::PutMode::kOverwrite);
  try {
    BlockIndex::load(*store_);
    FAIL() << "a damaged index was loaded";
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, BlockStoreTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Encrypted" : "Local"; });

TEST(PackFormat, IndexRoundTripsAndRejectsTruncationAndOverlap) {
  std::vector<PackEntry> entries{{BlockId::of(page(1)), kPackHeaderSize, 100, 8192},
                                 {BlockId::of(page(2)), kPackHeaderSize + 100, 50, 8192}};
  auto bytes = encode_pack_index(entries);
  auto back = decode_pack_index(bytes, "idx", kPackHeaderSize + 150);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].id, entries[1].id);
  EXPECT_EQ(back[1].offset, entries[1].offset);
  EXPECT_THROW(decode_pack_index(bytes, "idx", kPackHeaderSize + 149), DecodeError);
  for (std::size_t n = 0; n < bytes.size(); n += 7)
    EXPECT_THROW(decode_pack_index(Bytes(bytes).first(n), "idx"), DecodeError);
  entries[1].offset = kPackHeaderSize + 99;
  EXPECT_THROW(decode_pack_index(encode_pack_index(entries), "idx"), DecodeError);
  // An offset whose sum with the length wraps around 2^64 lies outside too.
  entries[1].offset = std::numeric_limits<std::uint64_t>::max() - 10;
  EXPECT_THROW(decode_pack_index(encode_pack_index(entries), "idx", kPackHeaderSize + 150),
               DecodeError);
}

TEST(PackFormat, FooterLocatesTheIndex) {
  auto footer = encode_pack_footer(1000);
  EXPECT_EQ(decode_pack_footer(footer, 1200, "p").index_length, 184u);
  EXPECT_THROW(decode_pack_footer(footer, 1010, "p"), DecodeError);
  footer[10] ^= 1;
  EXPECT_THROW(decode_pack_footer(footer, 1200, "p"), DecodeError);
}

}  // namespace
}  // namespace pitr::archive

namespace pitr::archive {
namespace {

// Ids that share their first eight bytes land on one slot and must probe past each other.
TEST(BlockTable, FindsEveryBlockKeepsTheFirstLocationAndGrows) {
  BlockTable table;
  EXPECT_EQ(table.find(BlockId::of(as_bytes("nothing yet"))), nullptr);
  std::vector<BlockId> ids;
  for (std::uint32_t i = 0; i < 5000; ++i) {
    auto id = BlockId::of(as_bytes(std::to_string(i)));
    if (i % 10 == 0) std::fill(id.bytes.begin(), id.bytes.begin() + 8, std::uint8_t{7});
    ids.push_back(id);
    table.add(id, {i, i + 1, i * 100ull, i + 2});
  }
  table.add(ids[42], {9999, 0, 0, 0});  // known: keeps its first location
  EXPECT_EQ(table.size(), ids.size());
  for (std::uint32_t i = 0; i < ids.size(); ++i) {
    const auto* at = table.find(ids[i]);
    ASSERT_NE(at, nullptr) << i;
    EXPECT_EQ(at->pack, i);
    EXPECT_EQ(at->offset, i * 100ull);
  }
  auto absent = ids[10];
  absent.bytes[31] ^= 1;  // same slot as a colliding id, not equal to any
  EXPECT_EQ(table.find(absent), nullptr);
}

}  // namespace
}  // namespace pitr::archive
