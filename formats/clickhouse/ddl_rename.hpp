#pragma once
// Renaming databases in ClickHouse DDL, for a restore under other names: every qualified name
// `db.x` whose database is renamed (the table created, a materialized view's TO target and the
// tables its SELECT reads, a view's tables) gets the new name, quoted. Names inside string
// literals are left alone (e.g. dictGet('db.dict', ...)), and so is an alias or a table
// qualifier that happens to be spelled like a renamed database (a limit: ClickHouse DDL has
// no other way to tell them apart without parsing the query).
#include <map>
#include <string>
#include <string_view>

namespace pitr::clickhouse {

// Throws DecodeError for an unterminated quote.
std::string rename_databases(std::string_view ddl,
                             const std::map<std::string, std::string>& renames);

}  // namespace pitr::clickhouse
