#include "formats/clickhouse/content_hash.hpp"

#include <regex>

#include "formats/clickhouse/tab_separated.hpp"

namespace pitr::clickhouse {
namespace {

bool hashed_natively(const std::string& type) {
  static const std::regex native(
      R"((U?Int(8|16|32|64)|Float(32|64)|Date|DateTime|String|FixedString\(\d+\)|Enum(8|16)\(.*\)))");
  return std::regex_match(type, native);
}

std::string arguments(const Column& c) {
  auto name = quote_name(c.name);
  if (hashed_natively(c.type)) return name;
  if (c.type.starts_with("Nullable(") && c.type.ends_with(")") &&
      hashed_natively(c.type.substr(9, c.type.size() - 10)))
    return "isNull(" + name + "), assumeNotNull(" + name + ")";
  return "toString(" + name + ")";
}

}  // namespace

std::string count_and_hash_sql(const std::vector<Column>& columns) {
  if (columns.empty()) return "count(), toUInt64(0)";
  std::string list;
  for (const auto& c : columns) list += (list.empty() ? "" : ", ") + arguments(c);
  return "count(), sum(cityHash64(" + list + "))";
}

}  // namespace pitr::clickhouse
