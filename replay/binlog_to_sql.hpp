#pragma once
// Turns binlog events into the SQL statements that have exactly their effect on a target:
// row events as BINLOG statements (after the format description), statements with the
// session context they ran in on the source (time, sql_mode, character sets,
// auto-increment, pseudo thread id for temporary tables, INSERT_ID, RAND seeds, user
// variables), and MariaDB GTIDs preserved. No I/O: statements go to a sink.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "formats/binlog/event_header.hpp"
#include "formats/binlog/format_description.hpp"

namespace pitr::replay {

enum class StatementKind {
  kStatement,
  kCommit,             // the statement that ends a transaction
  kFormatDescription,  // the BINLOG statement of a FORMAT_DESCRIPTION_EVENT, between transactions
};

class BinlogToSql {
 public:
  // Receives each statement (no terminator) with its kind.
  using Sink = std::function<void(const std::string& statement, StatementKind kind)>;
  explicit BinlogToSql(Sink sink) : sink_(std::move(sink)) {}

  // The file's FORMAT_DESCRIPTION_EVENT (whole event), when replay starts after it.
  void format_description(Bytes fde_event);
  // One event: `raw` is the whole event as stored, checksum included.
  void event(const binlog::EventHeader& header, Bytes raw);
  const binlog::FormatDescription& format() const { return fd_; }

 private:
  void emit(const std::string& statement, StatementKind kind = StatementKind::kStatement) {
    sink_(statement, kind);
  }
  void flush_rows();
  void query(const binlog::EventHeader& h, Bytes data);
  void session_variable(const std::string& name, const std::string& value);
  void user_var(Bytes data);

  Sink sink_;
  binlog::FormatDescription fd_;
  std::string pending_rows_;  // base64 lines of TABLE_MAP and rows events not yet sent
  std::string last_db_;
  std::vector<std::pair<std::string, std::string>> session_;  // variables already set
  std::optional<std::uint32_t> flags2_;
  bool in_transaction_ = false;
};

std::string base64(Bytes bytes);

}  // namespace pitr::replay
