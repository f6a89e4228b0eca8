#pragma once
#include <filesystem>
#include <string>

namespace pitr::test {

inline std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(PITR_FIXTURES) / "mysql-binlogs" / name;
}

}  // namespace pitr::test
