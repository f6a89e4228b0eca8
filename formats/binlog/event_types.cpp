#include "formats/binlog/event_types.hpp"

#include <array>

namespace pitr::binlog {
namespace {

constexpr std::array<std::string_view, 43> kMysqlNames = {
    "UNKNOWN_EVENT",
    "START_EVENT_V3",
    "QUERY_EVENT",
    "STOP_EVENT",
    "ROTATE_EVENT",
    "INTVAR_EVENT",
    "LOAD_EVENT",
    "SLAVE_EVENT",
    "CREATE_FILE_EVENT",
    "APPEND_BLOCK_EVENT",
    "EXEC_LOAD_EVENT",
    "DELETE_FILE_EVENT",
    "NEW_LOAD_EVENT",
    "RAND_EVENT",
    "USER_VAR_EVENT",
    "FORMAT_DESCRIPTION_EVENT",
    "XID_EVENT",
    "BEGIN_LOAD_QUERY_EVENT",
    "EXECUTE_LOAD_QUERY_EVENT",
    "TABLE_MAP_EVENT",
    "PRE_GA_WRITE_ROWS_EVENT",
    "PRE_GA_UPDATE_ROWS_EVENT",
    "PRE_GA_DELETE_ROWS_EVENT",
    "WRITE_ROWS_EVENT_V1",
    "UPDATE_ROWS_EVENT_V1",
    "DELETE_ROWS_EVENT_V1",
    "INCIDENT_EVENT",
    "HEARTBEAT_LOG_EVENT",
    "IGNORABLE_LOG_EVENT",
    "ROWS_QUERY_LOG_EVENT",
    "WRITE_ROWS_EVENT",
    "UPDATE_ROWS_EVENT",
    "DELETE_ROWS_EVENT",
    "GTID_LOG_EVENT",
    "ANONYMOUS_GTID_LOG_EVENT",
    "PREVIOUS_GTIDS_LOG_EVENT",
    "TRANSACTION_CONTEXT_EVENT",
    "VIEW_CHANGE_EVENT",
    "XA_PREPARE_LOG_EVENT",
    "PARTIAL_UPDATE_ROWS_EVENT",
    "TRANSACTION_PAYLOAD_EVENT",
    "HEARTBEAT_LOG_EVENT_V2",
    "GTID_TAGGED_LOG_EVENT",
};

constexpr std::array<std::string_view, 13> kMariaNames = {
    "ANNOTATE_ROWS_EVENT",
    "BINLOG_CHECKPOINT_EVENT",
    "GTID_EVENT",
    "GTID_LIST_EVENT",
    "START_ENCRYPTION_EVENT",
    "QUERY_COMPRESSED_EVENT",
    "WRITE_ROWS_COMPRESSED_EVENT_V1",
    "UPDATE_ROWS_COMPRESSED_EVENT_V1",
    "DELETE_ROWS_COMPRESSED_EVENT_V1",
    "WRITE_ROWS_COMPRESSED_EVENT",
    "UPDATE_ROWS_COMPRESSED_EVENT",
    "DELETE_ROWS_COMPRESSED_EVENT",
    "PARTIAL_ROW_DATA_EVENT",
};

constexpr std::uint8_t kMariaFirst = 160;

}  // namespace

std::string_view event_type_name(std::uint8_t code) {
  if (code < kMysqlNames.size()) return kMysqlNames[code];
  if (code >= kMariaFirst && code - kMariaFirst < static_cast<int>(kMariaNames.size()))
    return kMariaNames[code - kMariaFirst];
  return {};
}

bool is_known_event_type(std::uint8_t code) {
  return code != 0 && !event_type_name(code).empty();
}

bool is_rows_event(std::uint8_t code) {
  return (code >= 20 && code <= 25) || (code >= 30 && code <= 32) || code == 39 ||
         (code >= 166 && code <= 171);
}

RowsKind rows_kind(std::uint8_t code) {
  switch (code) {
    case 20:
    case 23:
    case 30:
    case 166:
    case 169:
      return RowsKind::kInsert;
    case 22:
    case 25:
    case 32:
    case 168:
    case 171:
      return RowsKind::kDelete;
    default:
      return RowsKind::kUpdate;
  }
}

}  // namespace pitr::binlog
