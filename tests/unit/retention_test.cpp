// Which backups `pitr expire` lets go (archive/retention.hpp), and its duration option.
#include <gtest/gtest.h>

#include "archive/retention.hpp"
#include "tools/duration_option.hpp"

namespace pitr::archive {
namespace {

constexpr std::int64_t kDay = 86400LL * 1000000;

// Backups of source "a" on days 1..n (types as given), and one of source "b" on day 1.
std::vector<BackupSummary> backups(const std::vector<std::string>& types) {
  std::vector<BackupSummary> out{{"b1", "b", "postgres", "full", kDay}};
  for (std::size_t i = 0; i < types.size(); ++i)
    out.push_back({"a" + std::to_string(i + 1), "a", "postgres", types[i],
                   static_cast<std::int64_t>(i + 1) * kDay});
  return out;
}

std::vector<std::string> ids(const std::vector<BackupSummary>& list) {
  std::vector<std::string> out;
  for (const auto& b : list) out.push_back(b.id);
  return out;
}

TEST(Retention, KeepCountsTheNewestOfEachSource) {
  RetentionPolicy p;
  p.keep = 2;
  auto gone = backups_to_expire(backups({"full", "incr", "incr", "full"}), p, 10 * kDay);
  EXPECT_EQ(ids(gone), (std::vector<std::string>{"a1", "a2"}));
}

TEST(Retention, KeepFullKeepsEverythingNewerThanTheOldestKeptFull) {
  RetentionPolicy p;
  p.keep_full = 1;
  auto list = backups({"full", "incr", "diff", "full", "incr"});
  EXPECT_EQ(ids(backups_to_expire(list, p, 10 * kDay)),
            (std::vector<std::string>{"a1", "a2", "a3"}));
  p.keep_full = 2;
  EXPECT_TRUE(backups_to_expire(list, p, 10 * kDay).empty());
  p.keep_full = 3;  // fewer fulls than that: everything stays
  EXPECT_TRUE(backups_to_expire(list, p, 10 * kDay).empty());
}

TEST(Retention, RecoveryWindowKeepsTheNewestBackupBeforeIt) {
  RetentionPolicy p;
  p.recovery_window = std::chrono::hours(24 * 2);
  // Now is day 5.5: the window starts at day 3.5; a3 is needed for moments from 3.5 to 4.
  auto gone =
      backups_to_expire(backups({"full", "full", "full", "full", "full"}), p, 5 * kDay + kDay / 2);
  EXPECT_EQ(ids(gone), (std::vector<std::string>{"a1", "a2"}));
  // A source whose every backup is older than the window keeps its newest.
  EXPECT_EQ(ids(backups_to_expire(backups({"full", "full"}), p, 100 * kDay)),
            (std::vector<std::string>{"a1"}));
}

TEST(Retention, APolicyThatKeepsNothingIsRefused) {
  RetentionPolicy p;
  EXPECT_THROW(backups_to_expire(backups({"full"}), p, kDay), std::invalid_argument);
  p.keep = 0;
  EXPECT_THROW(backups_to_expire(backups({"full"}), p, kDay), std::invalid_argument);
}

TEST(DurationOption, ParsesUnitsAndRefusesTheRest) {
  using tools::parse_duration;
  EXPECT_EQ(parse_duration("14d").count(), 14 * 86400);
  EXPECT_EQ(parse_duration("36h").count(), 36 * 3600);
  EXPECT_EQ(parse_duration("90m").count(), 90 * 60);
  EXPECT_EQ(parse_duration("2w").count(), 14 * 86400);
  for (auto bad : {"", "14", "d", "0d", "-1d", "3x", "1.5d", "99999999999999w"})
    EXPECT_THROW(parse_duration(bad), std::invalid_argument) << bad;
}

}  // namespace
}  // namespace pitr::archive
