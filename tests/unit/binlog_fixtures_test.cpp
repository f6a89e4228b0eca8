// Every real binlog in $PITR_FIXTURES/mysql-binlogs (../shared/fixtures by default) is read to
// the end (or, for the two NEGATIVE files, to the offset where it is broken) and its event
// counts are compared with the ones SOURCES.md lists; and the lookup of the fixtures itself.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "archive/file_io.hpp"
#include "formats/binlog/event_reader.hpp"
#include "tests/unit/fixture_path.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr {
namespace {

using BinlogFixtures = test::FixtureFiles;

struct Expected {
  std::string file;
  std::uint64_t events;
  std::map<int, std::uint64_t> types;
  bool clean;
};

std::vector<Expected> expectations() {
  std::ifstream in(test::fixture("SOURCES.md"));
  std::vector<Expected> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("{\"file\"", 0) != 0) continue;
    auto j = nlohmann::json::parse(line);
    Expected e{j["file"], j["events"], {}, j["clean"]};
    for (auto& [type, count] : j["types"].items()) e.types[std::stoi(type)] = count;
    out.push_back(e);
  }
  return out;
}

TEST_F(BinlogFixtures, SourcesListsEveryFixture) {
  EXPECT_EQ(expectations().size(), 15u);
}

TEST_F(BinlogFixtures, EventCountsMatchSources) {
  for (const auto& e : expectations()) {
    if (e.file == "binlog_truncated_event.000001" || e.file == "corrupt-relay-bin.000624")
      continue;  // NEGATIVE files, below
    SCOPED_TRACE(e.file);
    archive::MappedFile map(test::fixture(e.file));
    binlog::EventReader reader(map.bytes(), e.file);
    std::map<int, std::uint64_t> types;
    std::uint64_t events = 0, end = 4;
    while (auto ev = reader.next()) {
      ++events;
      ++types[ev->header.type];
      EXPECT_EQ(ev->offset, end);
      end = ev->end();
    }
    EXPECT_EQ(events, e.events);
    EXPECT_EQ(types, e.types);
    EXPECT_EQ(end, map.bytes().size());
  }
}

void expect_failure_at(const std::string& file, std::uint64_t offset, std::uint64_t good_events,
                       const std::string& words) {
  archive::MappedFile map(test::fixture(file));
  binlog::EventReader reader(map.bytes(), file);
  std::uint64_t events = 0;
  try {
    while (reader.next()) ++events;
    FAIL() << file << " was read without error";
  } catch (const binlog::BinlogError& e) {
    EXPECT_EQ(e.offset(), offset);
    EXPECT_EQ(e.file(), file);
    std::string message = e.what();
    EXPECT_NE(message.find("at offset " + std::to_string(offset)), std::string::npos) << message;
    EXPECT_NE(message.find(words), std::string::npos) << message;
  }
  EXPECT_EQ(events, good_events);
}

TEST_F(BinlogFixtures, TruncatedEventFailsAtItsOffset) {
  expect_failure_at("binlog_truncated_event.000001", 4, 0, "truncated event header");
}

TEST_F(BinlogFixtures, CorruptQueryEventFailsAtItsOffset) {
  // A header-only walk sees all 874 events SOURCES.md lists; decoding the QUERY bodies
  // must stop at the broken one, after every event that precedes it.
  const std::string file = "corrupt-relay-bin.000624";
  archive::MappedFile map(test::fixture(file));
  binlog::EventReader headers(map.bytes(), file, {true, false});
  std::uint64_t total = 0, before = 0;
  while (auto ev = headers.next()) {
    ++total;
    if (ev->offset < 91204) ++before;
  }
  EXPECT_EQ(total, 874u);
  expect_failure_at(file, 91204, before, "status variables length 16949");
}

TEST_F(BinlogFixtures, ChecksumMismatchNamesTheEvent) {
  archive::MappedFile map(test::fixture("mysql-bin.checksum-crc32"));
  std::vector<std::uint8_t> copy(map.bytes().begin(), map.bytes().end());
  // Flip one byte inside the body of the event that starts after the FDE.
  binlog::EventReader clean(copy, "copy");
  clean.next();
  auto second = clean.next();
  copy[second->offset + 25] ^= 0x40;
  binlog::EventReader reader(copy, "copy");
  reader.next();
  try {
    reader.next();
    FAIL() << "corrupted event accepted";
  } catch (const binlog::BinlogError& e) {
    EXPECT_EQ(e.offset(), second->offset);
    EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos);
  }
}

TEST_F(BinlogFixtures, UnknownTypeWithoutIgnorableFlagIsRefused) {
  archive::MappedFile map(test::fixture("mysql-bin.aurora-padding"));
  std::vector<std::uint8_t> copy(map.bytes().begin(), map.bytes().end());
  binlog::EventReader find(copy, "copy");
  std::uint64_t at = 0;
  while (auto ev = find.next())
    if (ev->header.type == 100) at = ev->offset;
  ASSERT_NE(at, 0u);
  copy[at + binlog::kFlagsOffset] &= static_cast<std::uint8_t>(~binlog::kFlagIgnorable);
  // Aurora's file has checksums; skip them so that the flag is the only thing tested.
  binlog::EventReader reader(copy, "copy", {false, true});
  try {
    while (reader.next()) {
    }
    FAIL() << "unknown event type accepted";
  } catch (const binlog::BinlogError& e) {
    EXPECT_EQ(e.offset(), at);
    EXPECT_NE(std::string(e.what()).find("unknown event type 100"), std::string::npos);
  }
}

// Sets an environment variable for one test and puts the old value back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// These need no fixtures: they run everywhere.
TEST(FixturePath, PitrFixturesChoosesTheDirectoryAndAMissingOneIsNamedOnOneLine) {
  test::TempDir dir;
  auto root = (dir.path() / "nowhere").lexically_normal();
  {
    ScopedEnv env("PITR_FIXTURES", (dir.path() / "x" / ".." / "nowhere").string());
    EXPECT_EQ(test::fixture("f.000001"), root / "mysql-binlogs" / "f.000001");
    auto why = test::missing_fixtures();
    ASSERT_TRUE(why);
    EXPECT_NE(why->find((root / "mysql-binlogs").string()), std::string::npos) << *why;
    EXPECT_NE(why->find("set PITR_FIXTURES"), std::string::npos) << *why;
    EXPECT_EQ(why->find('\n'), std::string::npos) << *why;
    std::filesystem::create_directories(root / "mysql-binlogs");
    EXPECT_FALSE(test::missing_fixtures());
  }
  ScopedEnv unset("PITR_FIXTURES", "");  // empty: the compiled-in default
  EXPECT_EQ(test::fixture_root(), std::filesystem::path(PITR_DEFAULT_FIXTURES).lexically_normal());
}

TEST(FixturePath, CiTrueRequiresTheFixtures) {
  for (auto [value, required] :
       {std::pair{"true", true}, {"1", true}, {"", false}, {"false", false}}) {
    ScopedEnv env("CI", value);
    EXPECT_EQ(test::fixtures_required(), required) << "CI=" << value;
  }
}

}  // namespace
}  // namespace pitr
