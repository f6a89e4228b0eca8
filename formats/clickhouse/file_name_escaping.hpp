#pragma once
// How ClickHouse names a database's or table's directory (escapeForFileName): letters, digits
// and '_' as they are, every other byte as %XX with upper-case hex.
#include <optional>
#include <string>
#include <string_view>

namespace pitr::clickhouse {

// The name a directory stands for; nullopt when it is not such an escaping.
std::optional<std::string> unescape_file_name(std::string_view name);

}  // namespace pitr::clickhouse
