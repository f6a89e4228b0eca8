#pragma once
// ClickHouse's TabSeparated format, the answer to a query over its HTTP interface: a row per
// line, fields split by tabs, with \t \n \\ \' \0 \b \f \r escaped in values.
#include <string>
#include <string_view>
#include <vector>

namespace pitr::clickhouse {

// Throws DecodeError for a dangling backslash.
std::vector<std::vector<std::string>> parse_tab_separated(std::string_view text);

// A value as a ClickHouse string literal: '...' with \\ and \' escaped.
std::string quote_string(std::string_view value);
// A name as a ClickHouse identifier: `...` with \\ and \` escaped.
std::string quote_name(std::string_view name);
// `db`.`table`, both quoted.
std::string qualified_name(std::string_view database, std::string_view table);

}  // namespace pitr::clickhouse
