#pragma once
// What pitr asks a ClickHouse server to compute over a table's rows, to check a restore
// against the backup: the row count and the sum (modulo 2^64) of each row's cityHash64 over
// its stored columns, NULL-safe. A column of a type cityHash64 hashes natively (integers,
// floats, Date, DateTime, String, FixedString, Enum) is hashed as it is, a Nullable one of
// those as isNull(c) and assumeNotNull(c); any other (arrays, which may hold NULLs, Decimal,
// UUID, ...) as toString(c), which writes NULL apart from 'NULL'. (sum(cityHash64(*)) skips
// rows with a NULL and fails on Array(Nullable(...)).) A sum, so that the parts' hashes add up
// to the table's.
#include <string>
#include <vector>

namespace pitr::clickhouse {

struct Column {
  std::string name, type;  // as system.columns lists them
};

// "count(), sum(cityHash64(...))" over the columns in the order given; "count(), toUInt64(0)"
// for none.
std::string count_and_hash_sql(const std::vector<Column>& columns);

}  // namespace pitr::clickhouse
