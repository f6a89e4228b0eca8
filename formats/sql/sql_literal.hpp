#pragma once
// SQL literals and identifiers for MySQL/MariaDB text that pitr generates (backups, replay
// scripts). The output is correct whatever the target's sql_mode, except that string
// literals use backslash escapes: sessions that run pitr's SQL turn off
// NO_BACKSLASH_ESCAPES (see kSessionSqlMode).
#include <string>
#include <string_view>

#include "formats/byte_cursor.hpp"

namespace pitr::sql {

// `name`, with backquotes doubled.
std::string quote_identifier(std::string_view name);
// `db`.`table`
std::string qualified_name(std::string_view database, std::string_view table);
// 'text' with \0 \n \r \Z \\ ' " escaped; the bytes are otherwise kept as they are.
std::string quote_string(std::string_view text);
void append_quoted_string(std::string& out, std::string_view text);
// 0x4142 (or '' for no bytes): any bytes, independent of character sets.
std::string hex_literal(Bytes bytes);
void append_hex_literal(std::string& out, Bytes bytes);
// A numeric value as the server printed it, checked to be only a number (so it can be
// written unquoted); throws std::invalid_argument otherwise.
std::string numeric_literal(std::string_view text);

// The sql_mode pitr's own sessions run with when they execute generated SQL.
inline constexpr std::string_view kSessionSqlMode = "NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION";

}  // namespace pitr::sql
