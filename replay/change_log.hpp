#pragma once
// The archived binlog row by row, for `pitr log`: every row an INSERT, UPDATE or DELETE
// changed, with its before and after images as JSON (formats/binlog/row_json.hpp), and every
// DDL statement. Streams: one rows event is held at a time, whatever the transaction's size.
#include <functional>
#include <optional>
#include <string>

#include "archive/binlog_archive.hpp"
#include "replay/change_match.hpp"

namespace pitr::replay {

struct RowChange {
  std::string source_id, file;
  std::uint64_t position = 0;  // of the event that holds the change
  std::uint32_t server_id = 0;
  std::uint32_t time = 0;  // when the statement ran (the event's timestamp), Unix seconds
  std::optional<std::string> gtid;
  ChangeKind kind = ChangeKind::kInsert;  // insert, update, delete or ddl
  std::string database, table;
  // The images as JSON text (formats/binlog/row_json.hpp); empty when the kind has none,
  // and with_sql.
  std::string before, after;
  std::string statement;  // ddl, or statement-based DML
  std::string sql;        // with_sql: the statement that applies the change (row_sql.hpp)
};

// Calls `visit` for every change in archive order (per source, binlog order); `visit` returns
// false to stop. Only logs `wanted` accepts are read. Throws on damaged archive data, and for
// a rows event larger than pitr holds at once (1 GiB).
void for_each_row_change(const archive::BinlogArchive& archive,
                         const std::function<bool(const RowChange&)>& visit,
                         const std::function<bool(const archive::ArchivedLog&)>& wanted = {},
                         bool with_sql = false);

}  // namespace pitr::replay
