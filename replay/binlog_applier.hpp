#pragma once
// Replays the archived binlog between a base backup's position and a stop point, into a
// target server or a SQL script.
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "archive/binlog_archive.hpp"
#include "capture/mysql/sql_session.hpp"
#include "formats/binlog/event_header.hpp"
#include "formats/binlog/format_description.hpp"
#include "replay/binlog_to_sql.hpp"
#include "replay/restore_planner.hpp"

namespace pitr::replay {

// Where generated statements go.
class StatementTarget {
 public:
  virtual ~StatementTarget() = default;
  // Each binlog event, before the statements made of it.
  virtual void observe(const binlog::EventHeader&, Bytes /*raw*/,
                       const binlog::FormatDescription&) {}
  virtual void statement(const std::string& sql, StatementKind kind) = 0;
  virtual void finish() = 0;
};

// Executes on a server in one session (so that session state such as temporary tables and
// GTID variables carries over as on the source), sending statements in multi-statement
// batches to save round trips.
class SessionTarget : public StatementTarget {
 public:
  explicit SessionTarget(const capture::MysqlEndpoint& target);
  void statement(const std::string& sql, StatementKind kind) override;
  // Sends what is batched.
  void finish() override;

 private:
  capture::SqlSession session_;
  std::string batch_;
};

// Writes a script for the mysql/mariadb client; statements end with the /*!*/; delimiter so
// that statement text containing ';' survives.
class ScriptTarget : public StatementTarget {
 public:
  explicit ScriptTarget(std::FILE* out);
  void statement(const std::string& sql, StatementKind kind) override;
  void finish() override;

 private:
  std::FILE* out_;
};

struct ReplayStats {
  std::uint64_t transactions = 0;
  std::uint64_t events = 0;
};

// `progress` (optional) is called about every two seconds while replay runs.
ReplayStats replay_binlog(const archive::BinlogArchive& archive, const RestorePlan& plan,
                          StatementTarget& target,
                          const std::function<void(const ReplayStats&)>& progress = {});

}  // namespace pitr::replay
