#pragma once
// The real binlogs other projects wrote are test fixtures kept outside the repository (they
// are not ours to copy into it). One setting finds them: the environment variable
// PITR_FIXTURES, by default <repo>/../shared/fixtures (compiled in as PITR_DEFAULT_FIXTURES),
// the same as the integration tests (tests/integration/harness.py).
//
// A test that reads them derives from FixtureFiles. Where the fixtures are absent (a clone of
// the repository alone), such a test is skipped with one line saying what is missing and how
// to get it. Under CI=true it fails with that line instead: CI always has the fixtures, so
// there none may be skipped.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pitr::test {

inline std::filesystem::path fixture_root() {
  const char* env = std::getenv("PITR_FIXTURES");
  return std::filesystem::path(env && *env ? env : PITR_DEFAULT_FIXTURES).lexically_normal();
}

inline std::filesystem::path fixture(const std::string& name) {
  return fixture_root() / "mysql-binlogs" / name;
}

// A fixture binlog's bytes.
inline std::vector<std::uint8_t> read_fixture(const std::string& name) {
  std::ifstream in(fixture(name), std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + fixture(name).string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// CI=true (or 1): the fixtures are required, and their absence is a failure.
inline bool fixtures_required() {
  const char* ci = std::getenv("CI");
  return ci && (std::string(ci) == "true" || std::string(ci) == "1");
}

// One line saying what is missing and how to get it, or nothing when the fixtures are there.
inline std::optional<std::string> missing_fixtures() {
  auto dir = fixture_root() / "mysql-binlogs";
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return std::nullopt;
  return "fixture binlogs not found: no directory " + dir.string() +
         "; set PITR_FIXTURES to the directory holding mysql-binlogs/ (default: ../shared/fixtures "
         "beside the repository; see README.md)";
}

// Base of the tests that read fixture files: skipped when the fixtures are absent, failed
// instead under CI=true.
class FixtureFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    auto why = missing_fixtures();
    if (!why) return;
    if (fixtures_required())
      FAIL() << *why << " (CI=true: the fixtures are required, so this is a failure, not a skip)";
    GTEST_SKIP() << *why;
  }
};

}  // namespace pitr::test
