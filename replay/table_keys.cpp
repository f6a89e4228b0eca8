#include "replay/table_keys.hpp"

#include <fmt/format.h>

#include <set>

#include "formats/sql/sql_literal.hpp"

namespace pitr::replay {
namespace {

// Column types whose binlog bytes are equal exactly when the server's index compares the
// values equal.
bool compares_by_bytes(const std::string& data_type) {
  static const std::set<std::string> kExact = {"tinyint",  "smallint",  "mediumint", "int",
                                               "bigint",   "year",      "date",      "time",
                                               "datetime", "timestamp", "decimal",   "bit"};
  return kExact.count(data_type) > 0;
}

}  // namespace

TableKeyCatalog::TableKeyCatalog(const capture::MysqlEndpoint& target)
    : session_(target, "replay schema lookups") {}

const TableKeys& TableKeyCatalog::keys(const std::string& database, const std::string& table) {
  auto key = std::make_pair(database, table);
  auto it = cache_.find(key);
  if (it == cache_.end()) it = cache_.emplace(key, read(database, table)).first;
  return it->second;
}

TableKeys TableKeyCatalog::read(const std::string& database, const std::string& table) {
  auto db = sql::quote_string(database), name = sql::quote_string(table);
  TableKeys keys;
  auto foreign = session_.scalar(
      fmt::format("SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS "
                  "WHERE (CONSTRAINT_SCHEMA = {0} AND TABLE_NAME = {1}) "
                  "OR (UNIQUE_CONSTRAINT_SCHEMA = {0} AND REFERENCED_TABLE_NAME = {1})",
                  db, name));
  if (foreign && *foreign != "0") {
    keys.mode = TableKeys::Mode::kForeignKeys;
    return keys;
  }
  auto rows = session_.rows(
      fmt::format("SELECT s.INDEX_NAME, c.ORDINAL_POSITION, c.DATA_TYPE, s.SUB_PART "
                  "FROM information_schema.STATISTICS s JOIN information_schema.COLUMNS c "
                  "ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME "
                  "AND c.COLUMN_NAME = s.COLUMN_NAME "
                  "WHERE s.TABLE_SCHEMA = {} AND s.TABLE_NAME = {} AND s.NON_UNIQUE = 0 "
                  "ORDER BY s.INDEX_NAME, s.SEQ_IN_INDEX",
                  db, name));
  std::string index;
  for (const auto& r : rows) {
    if (!r[0] || !r[1] || !r[2] || r[3] || !compares_by_bytes(*r[2])) return keys;
    if (*r[0] != index || keys.unique_keys.empty()) {
      keys.unique_keys.emplace_back();
      index = *r[0];
    }
    keys.unique_keys.back().push_back(std::stoul(*r[1]) - 1);
  }
  if (!keys.unique_keys.empty()) keys.mode = TableKeys::Mode::kRowKeys;
  return keys;
}

}  // namespace pitr::replay
