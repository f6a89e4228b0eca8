#include "archive/binlog_name.hpp"

#include <tuple>

namespace pitr::archive {
namespace {

std::string base_of(const std::string& name) {
  auto dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

}  // namespace

std::uint64_t binlog_sequence(const std::string& name) {
  auto dot = name.rfind('.');
  if (dot == std::string::npos || dot + 1 == name.size()) return 0;
  auto digits = name.substr(dot + 1);
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 18) return 0;
  return std::stoull(digits);
}

bool binlog_name_less(const std::string& a, const std::string& b) {
  return std::make_tuple(base_of(a), binlog_sequence(a), a) <
         std::make_tuple(base_of(b), binlog_sequence(b), b);
}

bool binlog_same_series(const std::string& a, const std::string& b) {
  return base_of(a) == base_of(b);
}

}  // namespace pitr::archive
