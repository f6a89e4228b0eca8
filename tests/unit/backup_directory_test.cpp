#include "archive/backup_directory.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "tests/unit/temp_dir.hpp"

namespace pitr {
namespace {

namespace fs = std::filesystem;
constexpr std::time_t kNoon = 1763726400;  // 2025-11-21T12:00:00Z

void make_old(const fs::path& dir) {
  fs::last_write_time(dir, fs::file_time_type::clock::now() - std::chrono::hours(1));
}

TEST(BackupDirectory, BackupsStartedInTheSameSecondGetTheirOwnDirectories) {
  test::TempDir tmp;
  archive::ArchiveLayout layout(tmp.path());
  archive::BackupDirectory first(layout, kNoon);
  archive::BackupDirectory second(layout, kNoon);
  EXPECT_EQ(first.id(), "20251121T120000Z");
  EXPECT_EQ(second.id(), "20251121T120000Z-2");
  EXPECT_EQ(first.path(), layout.backups_dir() / "20251121T120000Z.partial");
  std::ofstream(first.path() / "file") << "data";
  EXPECT_EQ(first.commit(), layout.backups_dir() / "20251121T120000Z");
  EXPECT_TRUE(fs::exists(layout.backups_dir() / "20251121T120000Z" / "file"));
  archive::BackupDirectory third(layout, kNoon);
  EXPECT_EQ(third.id(), "20251121T120000Z-3");
}

TEST(BackupDirectory, AnUncommittedDirectoryIsRemoved) {
  test::TempDir tmp;
  archive::ArchiveLayout layout(tmp.path());
  fs::path partial;
  {
    archive::BackupDirectory d(layout, kNoon);
    partial = d.path();
    std::ofstream(partial / "file") << "data";
  }
  EXPECT_FALSE(fs::exists(partial));
  EXPECT_TRUE(fs::is_empty(layout.backups_dir()));
}

TEST(BackupDirectory, AbandonedPartialsGoAndRunningOnesStay) {
  test::TempDir tmp;
  archive::ArchiveLayout layout(tmp.path());
  auto abandoned = layout.backups_dir() / "20250101T000000Z.partial";
  fs::create_directories(abandoned / "sub");
  make_old(abandoned);
  auto fresh = layout.backups_dir() / "20250101T000001Z.partial";  // its backup may not
  fs::create_directories(fresh);                                   // have locked it yet
  archive::BackupDirectory running(layout, kNoon);
  make_old(running.path());
  EXPECT_FALSE(fs::exists(abandoned));
  EXPECT_TRUE(fs::exists(fresh));
  EXPECT_EQ(archive::remove_abandoned_partial_backups(layout.backups_dir()), 0);
  EXPECT_TRUE(fs::exists(running.path()));
  make_old(fresh);
  EXPECT_EQ(archive::remove_abandoned_partial_backups(layout.backups_dir()), 1);
  EXPECT_FALSE(fs::exists(fresh));
}

}  // namespace
}  // namespace pitr
