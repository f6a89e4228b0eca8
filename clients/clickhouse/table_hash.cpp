#include "clients/clickhouse/table_hash.hpp"

#include <fmt/format.h>

#include "formats/clickhouse/content_hash.hpp"
#include "formats/clickhouse/tab_separated.hpp"

namespace pitr::clients {

using clickhouse::quote_string;

std::string count_and_hash_of(ClickHouseClient& client, const std::string& database,
                              const std::string& table) {
  std::vector<clickhouse::Column> columns;
  for (const auto& r : client.rows(fmt::format(
           "SELECT name, type FROM system.columns WHERE database = {} AND table = {} AND "
           "default_kind != 'ALIAS' ORDER BY name",
           quote_string(database), quote_string(table))))
    columns.push_back({r.at(0), r.at(1)});
  return clickhouse::count_and_hash_sql(columns);
}

RowsAndHash rows_and_hash(ClickHouseClient& client, const std::string& database,
                          const std::string& table, bool final, const std::string& where) {
  auto r =
      client.rows(fmt::format("SELECT {} FROM {}{}{}", count_and_hash_of(client, database, table),
                              clickhouse::qualified_name(database, table), final ? " FINAL" : "",
                              where.empty() ? "" : " WHERE " + where));
  return {std::stoull(r.at(0).at(0)), std::stoull(r.at(0).at(1))};
}

bool final_matters(const std::string& engine) {
  return engine.find("Replacing") != std::string::npos ||
         engine.find("Collapsing") != std::string::npos;
}

}  // namespace pitr::clients
