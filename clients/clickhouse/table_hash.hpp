#pragma once
// A table's rows and content hash as its server computes them (formats/clickhouse/
// content_hash.hpp), for the backup to record and the restore to check.
#include <cstdint>
#include <string>

#include "clients/clickhouse/clickhouse_client.hpp"

namespace pitr::clients {

// "count(), sum(cityHash64(...))" over the table's stored (not ALIAS) columns in name order.
std::string count_and_hash_of(ClickHouseClient& client, const std::string& database,
                              const std::string& table);

struct RowsAndHash {
  std::uint64_t rows = 0, hash = 0;
};

// Of every row, or (`final`) of SELECT ... FINAL; `where` (e.g. "_part IN (...)") limits the
// parts read.
RowsAndHash rows_and_hash(ClickHouseClient& client, const std::string& database,
                          const std::string& table, bool final = false,
                          const std::string& where = "");

// Replacing and Collapsing MergeTree tables: what they hold depends on SELECT ... FINAL.
bool final_matters(const std::string& engine);

}  // namespace pitr::clients
