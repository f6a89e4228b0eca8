#pragma once
// What pitr asks a ClickHouse server to compute over a table's rows, to check a restore
// against the backup: the row count and the sum (modulo 2^64) of each row's cityHash64 of its
// text form. toString(tuple(...)) writes NULL apart from 'NULL' and keeps NULLs inside arrays,
// where sum(cityHash64(*)) would skip rows with a NULL or fail on Array(Nullable(...)). A
// sum, so that the parts' hashes add up to the table's.
#include <string>
#include <vector>

namespace pitr::clickhouse {

// "count(), sum(cityHash64(toString(tuple(`a`, `b`))))" over the given stored columns (not
// ALIAS ones); "count(), toUInt64(0)" for a table without any.
std::string count_and_hash_sql(const std::vector<std::string>& columns);

}  // namespace pitr::clickhouse
