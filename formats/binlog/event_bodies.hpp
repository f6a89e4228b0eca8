#pragma once
// Decoders for the event bodies pitr needs to understand: transaction boundaries,
// GTIDs, file rotation, statements and the table a row event touches. Each takes the
// whole event (header included, checksum excluded) and throws DecodeError when the body
// does not fit its own length fields.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/binlog/format_description.hpp"
#include "formats/binlog/gtid.hpp"

namespace pitr::binlog {

struct QueryEvent {
  std::uint32_t thread_id = 0;
  std::uint32_t exec_time = 0;
  std::uint16_t error_code = 0;
  Bytes status_vars;
  std::string_view database;
  std::string_view query;  // empty for MariaDB's QUERY_COMPRESSED_EVENT (see compressed)
  bool compressed = false;
};
QueryEvent decode_query(Bytes event, const FormatDescription& fd);

struct RotateEvent {
  std::uint64_t position = 0;
  std::string next_file;
};
RotateEvent decode_rotate(Bytes event, const FormatDescription& fd);

std::uint64_t decode_xid(Bytes event, const FormatDescription& fd);

struct MysqlGtidEvent {
  MysqlGtid gtid;  // gno 0 and zero sid for ANONYMOUS_GTID
  bool anonymous = false;
  std::optional<std::uint64_t> last_committed;
  std::optional<std::uint64_t> sequence_number;
};
MysqlGtidEvent decode_mysql_gtid(Bytes event, const FormatDescription& fd);

inline constexpr std::uint8_t kMariaGtidStandalone = 0x01;
inline constexpr std::uint8_t kMariaGtidGroupCommitId = 0x02;
inline constexpr std::uint8_t kMariaGtidTransactional = 0x04;
inline constexpr std::uint8_t kMariaGtidAllowParallel = 0x08;
inline constexpr std::uint8_t kMariaGtidDdl = 0x20;
inline constexpr std::uint8_t kMariaGtidPreparedXa = 0x40;
inline constexpr std::uint8_t kMariaGtidCompletedXa = 0x80;
struct MariaGtidEvent {
  MariaGtid gtid;
  std::uint8_t flags = 0;
  std::optional<std::uint64_t> commit_id;
  bool standalone() const { return flags & kMariaGtidStandalone; }
};
MariaGtidEvent decode_maria_gtid(Bytes event, const FormatDescription& fd);

std::vector<MariaGtid> decode_maria_gtid_list(Bytes event, const FormatDescription& fd);
MysqlGtidSet decode_previous_gtids(Bytes event, const FormatDescription& fd);

inline constexpr std::uint16_t kRowsFlagStmtEnd = 0x0001;
struct RowsEventHeader {
  std::uint64_t table_id = 0;
  std::uint16_t flags = 0;
};
RowsEventHeader decode_rows_header(Bytes event, const FormatDescription& fd);

struct TableMapEvent {
  std::uint64_t table_id = 0;
  std::string_view database;
  std::string_view table;
};
TableMapEvent decode_table_map(Bytes event, const FormatDescription& fd);

// ANNOTATE_ROWS (MariaDB) and ROWS_QUERY (MySQL): the statement behind row events.
std::string_view decode_rows_query(Bytes event, const FormatDescription& fd);

}  // namespace pitr::binlog
