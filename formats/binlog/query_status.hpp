#pragma once
// The status variables of a QUERY_EVENT: the session state (sql_mode, character sets,
// time zone, ...) a statement must run under to have the effect it had on the source.
#include <cstdint>
#include <optional>
#include <string>

#include "formats/byte_cursor.hpp"

namespace pitr::binlog {

struct QueryStatus {
  std::optional<std::uint32_t> flags2;  // OPTION_* bits (autocommit, foreign/unique checks)
  std::optional<std::uint64_t> sql_mode;
  std::optional<std::uint16_t> auto_increment_increment, auto_increment_offset;
  std::optional<std::uint16_t> character_set_client, collation_connection, collation_server;
  std::optional<std::string> time_zone;
  std::optional<std::uint16_t> lc_time_names;
  std::optional<std::uint16_t> collation_database;
  std::optional<std::uint32_t> microseconds;
  std::optional<std::uint8_t> explicit_defaults_for_timestamp;
  std::optional<std::uint16_t> default_collation_for_utf8mb4;
};

// flags2 bits.
inline constexpr std::uint32_t kOptionAutoIsNull = 1u << 14;
inline constexpr std::uint32_t kOptionNotAutocommit = 1u << 19;
inline constexpr std::uint32_t kOptionNoForeignKeyChecks = 1u << 26;
inline constexpr std::uint32_t kOptionRelaxedUniqueChecks = 1u << 27;

// Throws DecodeError for a status variable code pitr does not know (its length cannot be
// known, so nothing after it could be trusted).
QueryStatus decode_query_status(Bytes status_vars);

}  // namespace pitr::binlog
