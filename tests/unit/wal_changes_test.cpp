// Block references of WAL records and the change map built from them
// (formats/postgres/wal_record.hpp, wal_changes.hpp), on records assembled byte by byte as
// PostgreSQL 15 writes them.
#include <gtest/gtest.h>

#include "archive/file_io.hpp"
#include "archive/wal_change_scan.hpp"
#include "formats/postgres/data_dir_rules.hpp"
#include "formats/postgres/segment_plan.hpp"
#include "formats/postgres/wal_changes.hpp"
#include "tests/unit/temp_dir.hpp"
#include "tests/unit/wal_builder.hpp"

namespace pitr::postgres {
namespace {

constexpr std::uint16_t kPg15 = 0xD110;
using test::Block;
using test::put;
using test::record;
using test::rel_file;

const RelFile kTable{1663, 5, 16384}, kOther{1663, 5, 16390};

void feed(WalChanges& changes, const std::vector<std::uint8_t>& r) {
  changes.add(decode_wal_record(r, kPg15));
}

TEST(WalRecordBlocks, ReadsEveryBlockReferenceAndTheMainData) {
  auto r = record(10, 0x20,
                  {{kTable, 0, 7, false, {1, 2, 3}, {}},
                   {kTable, 0, 9, true, {}, std::vector<std::uint8_t>(100, 255)},
                   {kOther, 2, 0, false, {255}, {}}},
                  {42, 43});
  auto parts = decode_wal_record(r, kPg15);
  EXPECT_EQ(parts.rmid, 10);
  EXPECT_EQ(parts.info, 0x20);
  EXPECT_EQ(parts.xid, 77u);
  ASSERT_EQ(parts.blocks.size(), 3u);
  EXPECT_EQ(parts.blocks[0].file, kTable);
  EXPECT_EQ(parts.blocks[0].block, 7u);
  EXPECT_EQ(parts.blocks[1].file, kTable);  // the same relation as the block before
  EXPECT_TRUE(parts.blocks[1].has_image);
  EXPECT_EQ(parts.blocks[2].file, kOther);
  EXPECT_EQ(parts.blocks[2].fork, Fork::kVm);
  EXPECT_EQ(std::vector<std::uint8_t>(parts.main_data.begin(), parts.main_data.end()),
            (std::vector<std::uint8_t>{42, 43}));
}

TEST(WalRecordBlocks, RefusesHeadersThatDoNotAddUp) {
  auto good = record(10, 0, {{kTable, 0, 1, false, {1}, {}}, {kTable, 0, 2, false, {2}, {}}});
  auto swapped = good;
  swapped[24 + 4 + 16] = 0;  // the second block's id repeats the first's
  EXPECT_THROW(decode_wal_record(swapped, kPg15), DecodeError);
  auto same_rel_first = record(10, 0, {{kTable, 0, 1, true, {1}, {}}});
  EXPECT_THROW(decode_wal_record(same_rel_first, kPg15), DecodeError);
  auto bad_fork = record(10, 0, {{kTable, 5, 1, false, {1}, {}}});
  EXPECT_THROW(decode_wal_record(bad_fork, kPg15), DecodeError);
  for (std::size_t n = 24; n < good.size(); ++n)
    EXPECT_THROW(decode_wal_record(Bytes(good).first(n), kPg15), DecodeError) << n;
}

TEST(WalChanges, MarksReferencedBlocksButNotTheFreeSpaceMap) {
  WalChanges changes;
  feed(changes, record(10, 0, {{kTable, 0, 9, false, {1}, {}}, {kTable, 0, 3, true, {1}, {}}}));
  feed(changes, record(10, 0, {{kTable, 0, 3, false, {1}, {}}}));
  feed(changes, record(10, 0, {{kTable, 1, 4, false, {1}, {}}}));
  auto* main = changes.changes(kTable, Fork::kMain);
  ASSERT_TRUE(main);
  EXPECT_EQ(main->blocks, (std::vector<std::uint32_t>{3, 9}));
  EXPECT_FALSE(main->limit);
  EXPECT_FALSE(changes.changes(kTable, Fork::kFsm));
  EXPECT_FALSE(changes.changes(kOther, Fork::kMain));
}

TEST(WalChanges, CreationTruncationAndDropsCutTheFork) {
  WalChanges changes;
  feed(changes, record(10, 0, {{kTable, 0, 50, false, {1}, {}}, {kTable, 0, 5, true, {1}, {}}}));
  std::vector<std::uint8_t> truncate;
  put(truncate, 10, 4);
  auto f = rel_file(kTable);
  truncate.insert(truncate.end(), f.begin(), f.end());
  put(truncate, 7, 4);  // heap, visibility map and free space map
  feed(changes, record(2, 0x20, {}, truncate));
  auto* main = changes.changes(kTable, Fork::kMain);
  EXPECT_EQ(main->blocks, (std::vector<std::uint32_t>{5}));  // block 50 is past the cut
  EXPECT_EQ(main->limit, 10u);
  feed(changes, record(10, 0, {{kTable, 0, 12, false, {1}, {}}}));  // extended again
  EXPECT_EQ(changes.changes(kTable, Fork::kMain)->blocks, (std::vector<std::uint32_t>{5, 12}));

  // A relation created (SMGR_CREATE of its main fork): limit 0.
  auto create = rel_file(kOther);
  put(create, 0, 4);
  feed(changes, record(2, 0x10, {}, create));
  EXPECT_EQ(changes.changes(kOther, Fork::kMain)->limit, 0u);

  // A commit dropping a relation (after one subtransaction): every fork but the FSM cut to 0.
  std::vector<std::uint8_t> commit;
  put(commit, 123456, 8);              // xact_time
  put(commit, 0x01 | 0x02 | 0x04, 4);  // dbinfo, subxacts, relations
  put(commit, 0, 8);                   // dbinfo
  put(commit, 1, 4);                   // one subxact
  put(commit, 901, 4);
  put(commit, 1, 4);  // one relation
  commit.insert(commit.end(), f.begin(), f.end());
  feed(changes, record(1, 0x80, {}, commit));  // COMMIT with info
  EXPECT_EQ(changes.changes(kTable, Fork::kMain)->limit, 0u);
  EXPECT_TRUE(changes.changes(kTable, Fork::kMain)->blocks.empty());
  EXPECT_EQ(changes.changes(kTable, Fork::kVm)->limit, 0u);
  EXPECT_FALSE(changes.changes(kTable, Fork::kFsm));
}

TEST(WalChanges, DatabasesCreatedOrDroppedAndMinimalWalAreNoticed) {
  WalChanges changes;
  std::vector<std::uint8_t> created;
  put(created, 16500, 4);
  put(created, 1663, 4);
  feed(changes, record(4, 0x10, {}, created));  // CREATE DATABASE, WAL_LOG strategy
  std::vector<std::uint8_t> copied;
  for (auto v : {16501, 1663, 1, 1663}) put(copied, v, 4);
  feed(changes, record(4, 0x00, {}, copied));  // FILE_COPY strategy
  std::vector<std::uint8_t> dropped;
  for (auto v : {16502, 2, 1663, 16999}) put(dropped, v, 4);
  feed(changes, record(4, 0x20, {}, dropped));
  EXPECT_TRUE(changes.database_replaced(1663, 16500));
  EXPECT_TRUE(changes.database_replaced(1663, 16501));
  EXPECT_TRUE(changes.database_replaced(16999, 16502));
  EXPECT_FALSE(changes.database_replaced(1663, 5));
  EXPECT_FALSE(changes.minimal_wal_seen());

  std::vector<std::uint8_t> parameters;
  for (auto v : {100, 8, 10, 0, 64}) put(parameters, v, 4);
  put(parameters, 1, 4);  // replica
  put(parameters, 0, 8);
  feed(changes, record(0, 0x60, {}, parameters));
  EXPECT_FALSE(changes.minimal_wal_seen());
  parameters[20] = 0;  // minimal
  feed(changes, record(0, 0x60, {}, parameters));
  EXPECT_TRUE(changes.minimal_wal_seen());
  EXPECT_THROW(feed(changes, record(0, 0x60, {}, {1, 2, 3})), DecodeError);
}

// The archived WAL of a range read into a change map: records starting in [from, to) only,
// across segments, and a clear refusal when a segment is missing or ends too soon.
class WalChangeScanTest : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kSegment = 1 << 20;

  void SetUp() override {
    // Block k of kTable, with 300 KiB of data so that the records cross segments.
    for (std::uint32_t k = 1; k <= 6; ++k)
      lsns_.push_back(wal_.add_record(record(10, 0, {{kTable, 0, k, false, {1}, {}}},
                                             std::vector<std::uint8_t>(300 << 10, 5))));
  }
  archive::WalSourceListing listing(std::size_t segments, std::size_t last_size = kSegment) {
    archive::WalSourceListing l;
    l.source.segment_size = kSegment;
    for (std::size_t s = 0; s < segments; ++s) {
      auto path = dir_.path() / ("segment-" + std::to_string(s));
      auto size =
          std::min(s + 1 == segments ? last_size : kSegment, wal_.bytes().size() - s * kSegment);
      archive::write_file_atomically(path, Bytes(wal_.bytes()).subspan(s * kSegment, size));
      l.open.push_back({path, 1, s, size, archive::open_if_present(path)});
    }
    return l;
  }
  std::vector<std::uint32_t> changed(const archive::WalChangeScan& scan) {
    EXPECT_TRUE(scan.changes) << scan.missing;
    auto copy = *scan.changes;
    auto* c = copy.changes(kTable, Fork::kMain);
    return c ? c->blocks : std::vector<std::uint32_t>{};
  }

  test::TempDir dir_;
  test::WalBuilder wal_{kSegment};
  std::vector<Lsn> lsns_;
};

TEST_F(WalChangeScanTest, TakesTheRecordsThatStartInTheRange) {
  auto l = listing(2);
  EXPECT_EQ(changed(archive::scan_wal_changes(l, 1, lsns_[1], lsns_[4])),
            (std::vector<std::uint32_t>{2, 3, 4}));
  EXPECT_EQ(changed(archive::scan_wal_changes(l, 1, 0, lsns_[5] + 1)),
            (std::vector<std::uint32_t>{1, 2, 3, 4, 5, 6}));
}

TEST_F(WalChangeScanTest, AMissingOrShortSegmentIsNamed) {
  auto one = archive::scan_wal_changes(listing(1), 1, lsns_[0], lsns_[5]);
  EXPECT_FALSE(one.changes);
  EXPECT_NE(one.missing.find("000000010000000000000001 is not in the archive"), std::string::npos)
      << one.missing;
  auto short_tail = archive::scan_wal_changes(listing(2, 1000), 1, lsns_[0], lsns_[5]);
  EXPECT_FALSE(short_tail.changes);
  EXPECT_NE(short_tail.missing.find("ends at 0/1003E8"), std::string::npos) << short_tail.missing;
  EXPECT_FALSE(archive::scan_wal_changes(listing(2), 2, lsns_[0], lsns_[5]).changes);
}

}  // namespace
}  // namespace pitr::postgres

namespace pitr::postgres {
namespace {

TEST(DataDirRules, TakesWhatBaseBackupTakes) {
  EXPECT_EQ(backup_rule("base/5/16384", false), BackupRule::kTake);
  EXPECT_EQ(backup_rule("global/pg_control", false), BackupRule::kTake);
  EXPECT_EQ(backup_rule("pg_wal", true), BackupRule::kTakeEmpty);
  EXPECT_EQ(backup_rule("pg_replslot", true), BackupRule::kTakeEmpty);
  EXPECT_EQ(backup_rule("postmaster.pid", false), BackupRule::kLeaveOut);
  EXPECT_EQ(backup_rule("backup_label", false), BackupRule::kLeaveOut);
  EXPECT_EQ(backup_rule("base/5/backup_label", false), BackupRule::kTake);  // only at the top
  EXPECT_EQ(backup_rule("base/5/pg_internal.init", false), BackupRule::kLeaveOut);
  EXPECT_EQ(backup_rule("base/pgsql_tmp", true), BackupRule::kLeaveOut);
  EXPECT_EQ(backup_rule("base/5/t3_16390", false), BackupRule::kLeaveOut);  // temporary
  EXPECT_EQ(backup_rule("base/5/t3_16390_fsm.2", false), BackupRule::kLeaveOut);
  EXPECT_EQ(backup_rule("pg_xact/t3_16390", false), BackupRule::kTake);  // not a relation dir
}

TEST(DataDirRules, RelationFileNamesSayTablespaceDatabaseForkAndSegment) {
  auto main = relation_segment("base/5/16384");
  ASSERT_TRUE(main);
  EXPECT_EQ(main->file, (RelFile{kDefaultTablespace, 5, 16384}));
  EXPECT_EQ(main->fork, Fork::kMain);
  EXPECT_EQ(main->segment, 0u);
  auto vm = relation_segment("pg_tblspc/16500/PG_15_202209061/16400/16390_vm.3");
  ASSERT_TRUE(vm);
  EXPECT_EQ(vm->file, (RelFile{16500, 16400, 16390}));
  EXPECT_EQ(vm->fork, Fork::kVm);
  EXPECT_EQ(vm->segment, 3u);
  auto shared = relation_segment("global/1262");
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->file, (RelFile{kGlobalTablespace, 0, 1262}));
  for (auto other : {"base/5/PG_VERSION", "base/5/pg_filenode.map", "base/5/16384.0",
                     "base/5/16384_foo", "base/5/t3_16384", "pg_xact/0000", "16384",
                     "base/5/99999999999", "pg_tblspc/16500/16400/16390"})
    EXPECT_FALSE(relation_segment(other)) << other;
  std::set<RelFile> unlogged{{kDefaultTablespace, 5, 16384}};
  EXPECT_TRUE(is_unlogged_data(*relation_segment("base/5/16384.1"), unlogged));
  EXPECT_TRUE(is_unlogged_data(*relation_segment("base/5/16384_fsm"), unlogged));
  EXPECT_FALSE(is_unlogged_data(*relation_segment("base/5/16384_init"), unlogged));
  EXPECT_FALSE(is_unlogged_data(*relation_segment("base/5/16385"), unlogged));
}

TEST(SegmentPlan, ReadsChangedBlocksAndWhatGrewButWholeWhereTheMapCannotSpeak) {
  WalChanges changes;
  const RelFile table{kDefaultTablespace, 5, 16384};
  std::vector<WalBlockRef> refs;
  for (std::uint32_t b : {3u, 7u, 131072u + 2u}) refs.push_back({table, Fork::kMain, b, false});
  WalRecordParts heap;
  heap.rmid = 10;
  heap.blocks = refs;
  changes.add(heap);
  RelationSegment first{table, Fork::kMain, 0}, second{table, Fork::kMain, 1};
  // Changed blocks, and blocks past the parent's length.
  auto plan = plan_segment(first, 100, 102, changes, 131072);
  EXPECT_FALSE(plan.whole);
  EXPECT_EQ(plan.blocks, (std::vector<std::uint32_t>{3, 7, 100, 101}));
  // The second segment counts its blocks from its own start.
  EXPECT_EQ(plan_segment(second, 10, 10, changes, 131072).blocks, (std::vector<std::uint32_t>{2}));
  // Shorter now: nothing past the end is read.
  EXPECT_EQ(plan_segment(first, 100, 5, changes, 131072).blocks, (std::vector<std::uint32_t>{3}));
  // Untouched relations: nothing; new files, other forks, mostly changed files: whole.
  RelationSegment other{{kDefaultTablespace, 5, 16390}, Fork::kMain, 0};
  EXPECT_TRUE(plan_segment(other, 50, 50, changes, 131072).blocks.empty());
  EXPECT_FALSE(plan_segment(other, 50, 50, changes, 131072).whole);
  EXPECT_TRUE(plan_segment(other, std::nullopt, 50, changes, 131072).whole);
  EXPECT_TRUE(plan_segment({table, Fork::kVm, 0}, 1, 1, changes, 131072).whole);
  EXPECT_TRUE(plan_segment(first, 1, 20, changes, 131072).whole);  // 19 of 20 blocks to read

  // Created again (SMGR_CREATE) after block 3 was changed: everything from block 0 on.
  auto created = rel_file(table);
  put(created, 0, 4);  // main fork
  WalRecordParts smgr;
  smgr.rmid = 2;
  smgr.info = 0x10;
  smgr.main_data = created;
  changes.add(smgr);
  EXPECT_TRUE(plan_segment(first, 100, 100, changes, 131072).whole);
  // A database created in the range: its files are taken whole.
  std::vector<std::uint8_t> database;
  put(database, 16390, 4);
  put(database, kDefaultTablespace, 4);
  WalRecordParts dbase;
  dbase.rmid = 4;
  dbase.info = 0x10;
  dbase.main_data = database;
  changes.add(dbase);
  EXPECT_TRUE(
      plan_segment({{kDefaultTablespace, 16390, 1}, Fork::kMain, 0}, 5, 5, changes, 131072).whole);
}

}  // namespace
}  // namespace pitr::postgres
