#pragma once
// What tells apart the rows a transaction changes in a table, read from the target server
// (whose schema, during replay, is the source's at the same point of the binlog). Parallel
// replay uses it to prove two transactions independent.
#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "capture/mysql/sql_session.hpp"

namespace pitr::replay {

struct TableKeys {
  enum class Mode {
    // Every unique key (the primary key included) has only columns whose stored bytes
    // compare exactly (integers, temporal types, DECIMAL, BIT): rows are told apart by them.
    kRowKeys,
    // No unique key, or one over a column that a collation or float compares loosely: any
    // two transactions that change the table depend on each other.
    kWholeTable,
    // The table has or is the parent of a foreign key: changes to it can check or cascade
    // into other tables, so it depends on every other such table.
    kForeignKeys,
  };
  Mode mode = Mode::kWholeTable;
  std::vector<std::vector<std::size_t>> unique_keys;  // 0-based column positions
};

class TableKeyCatalog {
 public:
  explicit TableKeyCatalog(const capture::MysqlEndpoint& target);
  const TableKeys& keys(const std::string& database, const std::string& table);
  // After a statement that may have changed the schema.
  void forget() { cache_.clear(); }

 private:
  TableKeys read(const std::string& database, const std::string& table);
  capture::SqlSession session_;
  std::map<std::pair<std::string, std::string>, TableKeys> cache_;
};

}  // namespace pitr::replay
