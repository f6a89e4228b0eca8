// The MySQL restore planner (replay/restore_planner.hpp) reads each archived segment it
// needs once: in object storage every read is a download, and the applier reads them again.
#include <gtest/gtest.h>

#include "archive/backup_manifest.hpp"
#include "archive/binlog_archive.hpp"
#include "capture/segment_writer.hpp"
#include "formats/binlog/event_reader.hpp"
#include "replay/restore_planner.hpp"
#include "replay/transaction_finder.hpp"
#include "tests/unit/counting_store.hpp"
#include "tests/unit/fixture_path.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr {
namespace {

struct RestorePlannerTest : test::FixtureFiles {
  test::TempDir dir;
  std::shared_ptr<test::CountingStore> store =
      std::make_shared<test::CountingStore>(dir.path() / "archive");
  archive::Archive arch{store, dir.path() / "archive"};
  const std::string name = "mysql-bin.checksum-crc32";

  void SetUp() override {
    test::FixtureFiles::SetUp();
    arch.create_or_check();
    capture::SegmentPolicy policy;
    policy.max_bytes = 4096;
    capture::SegmentWriter w(arch, "mysql-test", policy);
    auto image = test::read_fixture(name);
    binlog::EventReader reader(image, name);
    w.begin_file(name, 0);
    while (auto ev = reader.next()) {
      w.append(ev->raw);
      w.end_event(ev->header, ev->raw, reader.format());
    }
    w.finish();
    add_backup("20250101T000000Z", 4, 1);
  }

  void add_backup(const std::string& id, std::uint64_t position, std::uint64_t consistent_at,
                  const std::string& gtid_position = "") {
    archive::BackupManifest backup;
    backup.id = id;
    backup.gtid_position = gtid_position;
    backup.source_id = "mysql-test";
    backup.binlog_file = name;
    backup.binlog_position = position;
    backup.consistent_at = consistent_at;
    arch.write_text(archive::layout::backup_file(backup.id, archive::layout::kManifestName),
                    archive::manifest_json(backup));
  }

  std::vector<replay::TransactionRecord> transactions() {
    std::vector<replay::TransactionRecord> all;
    replay::for_each_transaction(archive::BinlogArchive(arch), [&](const auto& r) {
      all.push_back(r);
      return true;
    });
    return all;
  }

  // What a plan should apply, counted independently: the transactions that start between
  // its backup's position and its stop.
  static void expect_counts(const replay::RestorePlan& plan,
                            const std::vector<replay::TransactionRecord>& all) {
    std::uint64_t n = 0;
    std::uint32_t last = 0;
    for (const auto& r : all)
      if (r.start >= plan.backup.binlog_position && r.start < plan.stop.offset) {
        ++n;
        last = r.commit_time;
      }
    EXPECT_EQ(plan.transactions, n);
    EXPECT_EQ(plan.last_commit_time, last);
  }
};

TEST_F(RestorePlannerTest, EverySegmentIsReadOnceToPlan) {
  archive::BinlogArchive catalog(arch);
  const auto& log = catalog.find(name, std::nullopt);
  ASSERT_GT(log.segments.size(), 3u);
  std::uint64_t archived_transactions = 0;
  for (const auto& s : log.segments) archived_transactions += s.record.transactions;
  store->forget();
  auto plan = replay::plan_restore(catalog, {}, std::nullopt);
  EXPECT_EQ(plan.backup.id, "20250101T000000Z");
  EXPECT_EQ(plan.transactions, archived_transactions);
  EXPECT_EQ(plan.stop.file, name);
  EXPECT_GT(plan.stop.offset, log.segments[log.segments.size() - 2].record.end);
  for (const auto& s : log.segments) EXPECT_EQ(store->gets_of(s.key), 1) << s.key;
}

TEST_F(RestorePlannerTest, CountsFromTheChosenBackupWhateverTheTarget) {
  auto all = transactions();
  ASSERT_GT(all.size(), 40u);
  add_backup("20250102T000000Z", all[19].end, 2);
  archive::BinlogArchive catalog(arch);
  replay::RestoreTarget latest;
  auto plan = replay::plan_restore(catalog, latest, std::nullopt);
  EXPECT_EQ(plan.backup.id, "20250102T000000Z");
  expect_counts(plan, all);

  replay::RestoreTarget through;  // ends a transaction: the walk stops early
  through.kind = replay::RestoreTarget::Kind::kPosition;
  through.file = name;
  through.position = all[39].end;
  plan = replay::plan_restore(catalog, through, std::nullopt);
  EXPECT_EQ(plan.stop.offset, all[39].end);
  EXPECT_EQ(plan.transactions, 20u);
  expect_counts(plan, all);

  auto before = through;  // starts one: stops before it
  before.position = all[29].start;
  plan = replay::plan_restore(catalog, before, std::nullopt);
  EXPECT_EQ(plan.transactions, 9u);
  expect_counts(plan, all);

  before.position = all[10].start;  // before the later backup: the older one is chosen
  plan = replay::plan_restore(catalog, before, std::nullopt);
  EXPECT_EQ(plan.backup.id, "20250101T000000Z");
  expect_counts(plan, all);

  before.position = all[20].start;  // exactly at the later backup: nothing to apply
  plan = replay::plan_restore(catalog, before, std::nullopt);
  EXPECT_EQ(plan.backup.id, "20250102T000000Z");
  EXPECT_EQ(plan.transactions, 0u);
  expect_counts(plan, all);
}

// --backup: the chosen backup, however old, and the transactions after it; refused when it
// is after the target or not in the archive.
TEST_F(RestorePlannerTest, AChosenBackupIsUsedOrRefusedWithTheReason) {
  auto all = transactions();
  add_backup("20250102T000000Z", all[19].end, 2);
  archive::BinlogArchive catalog(arch);
  replay::RestoreTarget target;
  target.backup = "20250101T000000Z";
  auto plan = replay::plan_restore(catalog, target, std::nullopt);
  EXPECT_EQ(plan.backup.id, "20250101T000000Z");
  expect_counts(plan, all);
  target.kind = replay::RestoreTarget::Kind::kPosition;
  target.file = name;
  target.position = all[10].start;
  target.backup = "20250102T000000Z";
  EXPECT_THROW(
      {
        try {
          replay::plan_restore(catalog, target, std::nullopt);
        } catch (const replay::PlanError& e) {
          EXPECT_NE(std::string(e.what()).find("after the target"), std::string::npos) << e.what();
          throw;
        }
      },
      replay::PlanError);
  target.backup = "20240101T000000Z";
  EXPECT_THROW(replay::plan_restore(catalog, target, std::nullopt), replay::PlanError);
}

// --to-gtid the transaction a MariaDB backup (one replication domain) ends with: that
// backup, and nothing to apply, even when the archive no longer holds the transaction (the
// log before the backup expired) or holds it in an earlier binlog file.
TEST_F(RestorePlannerTest, AGtidABackupEndsWithStopsAtThatBackup) {
  auto all = transactions();
  add_backup("20250102T000000Z", all[19].end, 2, "0-1-999");
  add_backup("20250103T000000Z", all[29].end, 3, "0-1-1500,1-1-7");
  archive::BinlogArchive catalog(arch);
  replay::RestoreTarget target;
  target.kind = replay::RestoreTarget::Kind::kGtid;
  target.gtid = "0-1-999";
  auto plan = replay::plan_restore(catalog, target, std::nullopt);
  EXPECT_EQ(plan.backup.id, "20250102T000000Z");
  EXPECT_EQ(plan.stop.offset, all[19].end);
  EXPECT_EQ(plan.transactions, 0u);
  // Another backup asked for, or a position of several domains: the archive must hold it.
  target.backup = "20250101T000000Z";
  EXPECT_THROW(replay::plan_restore(catalog, target, std::nullopt), replay::PlanError);
  target.backup.reset();
  target.gtid = "0-1-1500,1-1-7";
  EXPECT_THROW(replay::plan_restore(catalog, target, std::nullopt), replay::PlanError);
}

// Backups taken without capture: the newest (or the one asked for) restores on its own, to
// its own moment; any other target needs the binlog, and says so.
TEST(RestorePlannerAlone, ABackupWithoutAnyBinlogRestoresOnItsOwn) {
  test::TempDir dir;
  auto arch = archive::Archive::local(dir.path() / "archive");
  arch.create_or_check();
  for (auto [id, position] : {std::pair{"20250101T000000Z", 400}, {"20250102T000000Z", 900}}) {
    archive::BackupManifest backup;
    backup.id = id;
    backup.source_id = "mariadb-1-0";
    backup.binlog_file = "binlog.000001";
    backup.binlog_position = static_cast<std::uint64_t>(position);
    backup.gtid_position = position == 400 ? "0-1-3" : "0-1-9";
    arch.write_text(archive::layout::backup_file(id, archive::layout::kManifestName),
                    archive::manifest_json(backup));
  }
  archive::BinlogArchive catalog(arch);
  replay::RestoreTarget latest;
  auto plan = replay::plan_restore(catalog, latest, std::nullopt);
  EXPECT_EQ(plan.backup.id, "20250102T000000Z");
  EXPECT_EQ((std::pair{plan.stop.file, plan.stop.offset}),
            (std::pair{std::string("binlog.000001"), std::uint64_t{900}}));
  EXPECT_EQ(plan.transactions, 0u);
  EXPECT_TRUE(plan.files.empty());
  latest.backup = "20250101T000000Z";
  EXPECT_EQ(replay::plan_restore(catalog, latest, std::nullopt).backup.id, "20250101T000000Z");
  replay::RestoreTarget gtid;  // the GTID a backup ends with is that backup's moment
  gtid.kind = replay::RestoreTarget::Kind::kGtid;
  gtid.gtid = "0-1-3";
  EXPECT_EQ(replay::plan_restore(catalog, gtid, std::nullopt).backup.id, "20250101T000000Z");
  replay::RestoreTarget later;
  later.kind = replay::RestoreTarget::Kind::kTime;
  later.time = 2000000000;
  try {
    replay::plan_restore(catalog, later, std::nullopt);
    ADD_FAILURE() << "a time target without binlog was planned";
  } catch (const replay::PlanError& e) {
    EXPECT_NE(std::string(e.what()).find("none of its binlog"), std::string::npos) << e.what();
  }
}

// A position where no transaction starts or ends: between two (where SHOW BINARY LOG STATUS
// stood, after a Binlog_checkpoint) stops there; inside one, or past the archive, is refused.
TEST_F(RestorePlannerTest, APositionBetweenTransactionsStopsThereAndOneInsideIsRefused) {
  auto all = transactions();
  // This file's transactions follow each other without a gap; the events before the first
  // one (after the backup's position 4) are such a stretch.
  ASSERT_GT(all[0].start, 5u);
  archive::BinlogArchive catalog(arch);
  replay::RestoreTarget between;
  between.kind = replay::RestoreTarget::Kind::kPosition;
  between.file = name;
  between.position = all[0].start - 1;
  auto plan = replay::plan_restore(catalog, between, std::nullopt);
  EXPECT_EQ(plan.stop.offset, all[0].start);
  EXPECT_EQ(plan.transactions, 0u);
  expect_counts(plan, all);

  auto inside = between;
  inside.position = all[5].start + 1;
  try {
    replay::plan_restore(catalog, inside, std::nullopt);
    FAIL() << "a position inside a transaction was accepted";
  } catch (const replay::PlanError& e) {
    EXPECT_NE(std::string(e.what()).find("is inside transaction"), std::string::npos) << e.what();
  }

  const auto& log = catalog.find(name, std::nullopt);
  auto after_last = between;  // after the last transaction, up to the file's archived end
  after_last.position = log.sealed_end();
  ASSERT_GT(after_last.position, all.back().end);
  plan = replay::plan_restore(catalog, after_last, std::nullopt);
  EXPECT_EQ(plan.stop.offset, all.back().end);
  EXPECT_EQ(plan.transactions, all.size());
  after_last.position = log.sealed_end() + 1;
  EXPECT_THROW(replay::plan_restore(catalog, after_last, std::nullopt), replay::PlanError);
  auto unknown_file = between;  // a file the archive does not hold is refused, not skipped
  unknown_file.file = "mysql-bin.checksum-crc33";
  EXPECT_ANY_THROW(replay::plan_restore(catalog, unknown_file, std::nullopt));
}

}  // namespace
}  // namespace pitr
