#pragma once
// What a transaction did, in the terms a DBA searches by, and the KIND[:DB.TABLE]
// patterns of `pitr find --match` and `pitr restore --before-match`.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pitr::replay {

enum class ChangeKind { kInsert, kUpdate, kDelete, kDdl, kDrop, kTruncate };
std::string_view change_kind_name(ChangeKind kind);

struct TableChange {
  ChangeKind kind;
  std::string table;                  // "db.table"; for DDL the table it names, if found
  std::optional<std::uint64_t> rows;  // row changes; unknown for events pitr cannot walk
  std::string statement;              // DDL text
};

struct ChangeMatch {
  std::optional<ChangeKind> kind;  // nullopt: any
  std::string database;            // empty: any
  std::string table;               // empty or "*": any

  // Parses KIND[:DB.TABLE] (KIND: insert, update, delete, ddl, drop, truncate, any; TABLE
  // may be *); throws std::invalid_argument with the accepted forms.
  static ChangeMatch parse(const std::string& text);
  bool matches(const TableChange& change) const;
};

// The table a DDL statement names ("db.t" with `default_db` filled in) and its kind.
TableChange classify_statement(const std::string& statement, const std::string& default_db);

// A QUERY event's statement: DDL (classify_statement), or statement-based DML (for binlogs not
// written in ROW format) as insert, update or delete with the statement; nullopt for BEGIN,
// COMMIT, ROLLBACK, XA and savepoints.
std::optional<TableChange> classify_query(const std::string& query, const std::string& db);

}  // namespace pitr::replay
