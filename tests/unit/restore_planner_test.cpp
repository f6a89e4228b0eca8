// The MySQL restore planner (replay/restore_planner.hpp) reads each archived segment it
// needs once: in object storage every read is a download, and the applier reads them again.
#include <gtest/gtest.h>

#include "archive/backup_manifest.hpp"
#include "archive/binlog_archive.hpp"
#include "capture/segment_writer.hpp"
#include "formats/binlog/event_reader.hpp"
#include "replay/restore_planner.hpp"
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
    archive::BackupManifest backup;
    backup.id = "20250101T000000Z";
    backup.source_id = "mysql-test";
    backup.binlog_file = name;
    backup.binlog_position = 4;
    arch.write_text(archive::layout::backup_file(backup.id, archive::layout::kManifestName),
                    archive::manifest_json(backup));
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

}  // namespace
}  // namespace pitr
