#include "formats/clickhouse/content_hash.hpp"

#include "formats/clickhouse/tab_separated.hpp"

namespace pitr::clickhouse {

std::string count_and_hash_sql(const std::vector<std::string>& columns) {
  if (columns.empty()) return "count(), toUInt64(0)";
  std::string list;
  for (const auto& c : columns) list += (list.empty() ? "" : ", ") + quote_name(c);
  return "count(), sum(cityHash64(toString(tuple(" + list + "))))";
}

}  // namespace pitr::clickhouse
