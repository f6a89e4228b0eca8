#include "archive/pending_backup.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "archive/process_identity.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr {
namespace {

namespace fs = std::filesystem;
namespace layout = archive::layout;
constexpr std::time_t kNoon = 1763726400;  // 2025-11-21T12:00:00Z

std::vector<std::string> keys(const archive::Archive& a) {
  std::vector<std::string> out;
  for (const auto& o : a.store().list(layout::backups_prefix())) out.push_back(o.key);
  return out;
}

// A claim left by a process that is gone: a child that exited.
long dead_pid() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return child;
}

// A claim by a process like this one but with `pid` (its start time never matches another
// process's), or by this very process, or on another host.
std::string claim(long pid, const std::string& host = archive::this_process().host) {
  auto who = archive::this_process();
  if (pid != who.pid) who.start_ticks = 1;  // a process started at boot: never a child of ours
  who.pid = pid;
  who.host = host;
  return nlohmann::json{{"holder", archive::to_json(who)}, {"started_at", kNoon}}.dump();
}

TEST(PendingBackup, BackupsStartedInTheSameSecondGetTheirOwnIds) {
  test::TempDir tmp;
  auto a = archive::Archive::local(tmp.path());
  archive::PendingBackup first(a, kNoon);
  archive::PendingBackup second(a, kNoon);
  EXPECT_EQ(first.id(), "20251121T120000Z");
  EXPECT_EQ(second.id(), "20251121T120000Z-2");
  EXPECT_EQ(first.key("data/x.sql.zst"), "backups/20251121T120000Z/data/x.sql.zst");
  first.store().put_bytes(first.key("file"), as_bytes(std::string("data")),
                          storage::PutMode::kIfAbsent);
  first.commit("{}\n");
  EXPECT_EQ(a.read_text("backups/20251121T120000Z/manifest.json"), "{}\n");
  EXPECT_FALSE(a.store().exists("backups/20251121T120000Z/in-progress.json"));
  archive::PendingBackup third(a, kNoon);
  EXPECT_EQ(third.id(), "20251121T120000Z-3");
}

TEST(PendingBackup, AnUncommittedBackupIsRemoved) {
  test::TempDir tmp;
  auto a = archive::Archive::local(tmp.path());
  {
    archive::PendingBackup b(a, kNoon);
    b.store().put_bytes(b.key("data/file"), as_bytes(std::string("data")),
                        storage::PutMode::kIfAbsent);
    EXPECT_EQ(keys(a).size(), 2u);
  }
  EXPECT_EQ(keys(a), std::vector<std::string>{});
}

TEST(PendingBackup, AbandonedBackupsGoAndRunningOnesStay) {
  test::TempDir tmp;
  auto a = archive::Archive::local(tmp.path());
  a.write_text("backups/A/in-progress.json", claim(dead_pid()));
  a.write_text("backups/A/data/x", "x");
  a.write_text("backups/B/in-progress.json", claim(::getpid()));  // running
  a.write_text("backups/C/in-progress.json", claim(dead_pid(), "another-host"));
  a.write_text("backups/D/in-progress.json", claim(dead_pid()));  // finished,
  a.write_text("backups/D/manifest.json", "{}");  // crashed before dropping its claim
  EXPECT_EQ(archive::remove_abandoned_backups(a), 1);
  EXPECT_EQ(keys(a),
            (std::vector<std::string>{"backups/B/in-progress.json", "backups/C/in-progress.json",
                                      "backups/D/manifest.json"}));
}

}  // namespace
}  // namespace pitr
