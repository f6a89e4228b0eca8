#include "capture/mysql/base_backup.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <mysql.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "archive/compressed_object_writer.hpp"
#include "archive/file_io.hpp"
#include "archive/pending_backup.hpp"
#include "capture/mysql/server_identity.hpp"
#include "capture/mysql/sql_session.hpp"
#include "formats/sql/sql_literal.hpp"

namespace pitr::capture {

namespace fs = std::filesystem;
using archive::BackupFile;
using archive::BackupManifest;

namespace {

constexpr std::size_t kStatementBytes = 1 << 20;  // rows per INSERT up to about this size
const char* const kSystemDatabases[] = {"mysql", "information_schema", "performance_schema", "sys"};

std::string session_preamble() {
  return fmt::format(
      "SET NAMES utf8mb4;\nSET SESSION sql_mode = '{}';\nSET SESSION foreign_key_checks = 0;\n"
      "SET SESSION unique_checks = 0;\n",
      sql::kSessionSqlMode);
}

struct Chunk {
  std::string database, table;
  std::string where;  // empty: the whole table
  unsigned part = 0;
};

bool is_temporal(int type) {
  return type == MYSQL_TYPE_DATE || type == MYSQL_TYPE_TIME || type == MYSQL_TYPE_DATETIME ||
         type == MYSQL_TYPE_TIMESTAMP || type == MYSQL_TYPE_NEWDATE || type == MYSQL_TYPE_JSON;
}

void append_literal(std::string& out, const SqlColumn& c, const SqlRow& row, std::size_t i) {
  if (row.null(i)) {
    out += "NULL";
  } else if (c.numeric) {
    out += sql::numeric_literal(row.text(i));
  } else if (c.binary && !is_temporal(c.type)) {
    sql::append_hex_literal(out, as_bytes(row.text(i)));
  } else {
    sql::append_quoted_string(out, row.text(i));
  }
}

class BackupRun {
 public:
  explicit BackupRun(const BackupOptions& o) : o_(o) {}

  BackupManifest run() {
    o_.archive.create_or_check();
    m_.started_at = static_cast<std::uint64_t>(std::time(nullptr));
    SqlSession control(o_.endpoint, "backup");
    auto server = identify_server([&](const std::string& q) { return control.scalar(q); });
    m_.source_id = server.source_id();
    m_.server_version = server.version;
    backup_.emplace(o_.archive, static_cast<std::time_t>(m_.started_at));
    m_.id = backup_->id();

    std::vector<std::unique_ptr<SqlSession>> workers;
    for (unsigned i = 0; i < std::max(1u, o_.jobs); ++i)
      workers.push_back(
          std::make_unique<SqlSession>(o_.endpoint, fmt::format("backup job {}", i + 1)));
    snapshot(control, workers, server.mariadb);
    plan_chunks(control);
    dump_parallel(workers);

    m_.finished_at = static_cast<std::uint64_t>(std::time(nullptr));
    write_readme();
    backup_->commit(archive::manifest_json(m_));
    if (o_.progress) fmt::print(stderr, "\n");
    return m_;
  }

 private:
  // Blocks writes, opens the same snapshot in every session, reads the binlog position and
  // the schema, and lets writes go on.
  void snapshot(SqlSession& control, std::vector<std::unique_ptr<SqlSession>>& workers,
                bool mariadb) {
    auto locked = std::chrono::steady_clock::now();
    control.execute("FLUSH TABLES WITH READ LOCK");
    for (auto& w : workers) {
      w->execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
      w->execute("START TRANSACTION WITH CONSISTENT SNAPSHOT");
    }
    auto status = control.rows("SHOW MASTER STATUS");
    if (status.empty() || !status[0][0] || !status[0][1])
      throw std::runtime_error("SHOW MASTER STATUS returned nothing: is binary logging on?");
    m_.binlog_file = *status[0][0];
    m_.binlog_position = std::stoull(*status[0][1]);
    m_.gtid_position =
        control.scalar(mariadb ? "SELECT @@gtid_binlog_pos" : "SELECT @@GLOBAL.gtid_executed")
            .value_or("");
    m_.consistent_at = static_cast<std::uint64_t>(std::time(nullptr));
    dump_schema(control);
    control.execute("UNLOCK TABLES");
    m_.lock_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - locked)
                                                .count());
  }

  static bool is_system(const std::string& db) {
    for (auto* s : kSystemDatabases)
      if (db == s) return true;
    return false;
  }

  void dump_schema(SqlSession& s) {
    for (auto& row : s.rows("SHOW DATABASES"))
      if (row[0] && !is_system(*row[0])) m_.databases.push_back(*row[0]);
    for (const auto& db : m_.databases) {
      auto q = sql::quote_identifier(db);
      auto path = fmt::format("schema-{}.sql.zst", safe_name(db));
      archive::CompressedObjectWriter out(backup_->store(), backup_->key(path),
                                          {.level = o_.compression_level});
      out.write(
          fmt::format("-- pitr base backup {}: schema of {}\n{}", m_.id, q, session_preamble()));
      auto create = *s.rows("SHOW CREATE DATABASE " + q)[0][1];
      // Loading into a server that already has the database (e.g. `test`) must not fail.
      if (create.rfind("CREATE DATABASE ", 0) == 0)
        create.insert(std::string_view("CREATE DATABASE ").size(), "IF NOT EXISTS ");
      out.write(create + ";\nUSE " + q + ";\n");
      std::vector<std::string> views;
      for (auto& t : s.rows("SHOW FULL TABLES FROM " + q)) {
        if (t[1] && *t[1] == "VIEW") {
          views.push_back(*t[0]);
          continue;
        }
        tables_.push_back({db, *t[0]});
        out.write(*s.rows("SHOW CREATE TABLE " + sql::qualified_name(db, *t[0]))[0][1] + ";\n");
      }
      // Views, routines, triggers and events come after every table they may refer to.
      for (auto& v : views)
        out.write(*s.rows("SHOW CREATE VIEW " + sql::qualified_name(db, v))[0][1] + ";\n");
      for (const char* kind : {"PROCEDURE", "FUNCTION"})
        for (auto& r :
             s.rows(fmt::format("SHOW {} STATUS WHERE Db = {}", kind, sql::quote_string(db))))
          out.write(fmt::format("DELIMITER ;;\n{};;\nDELIMITER ;\n",
                                *s.rows(fmt::format("SHOW CREATE {} {}", kind,
                                                    sql::qualified_name(db, *r[1])))[0][2]));
      for (auto& r : s.rows("SHOW TRIGGERS FROM " + q))
        out.write(
            fmt::format("DELIMITER ;;\n{};;\nDELIMITER ;\n",
                        *s.rows("SHOW CREATE TRIGGER " + sql::qualified_name(db, *r[0]))[0][2]));
      for (auto& r : s.rows("SHOW EVENTS FROM " + q))
        out.write(
            fmt::format("DELIMITER ;;\n{};;\nDELIMITER ;\n",
                        *s.rows("SHOW CREATE EVENT " + sql::qualified_name(db, *r[1]))[0][3]));
      auto written = out.finish();
      m_.files.push_back(
          {path, "schema", db, "", 0, written.bytes, written.stored_bytes, written.sha256});
    }
  }

  // Tables larger than a chunk, with a single-column integer primary key, are cut into
  // primary-key ranges that several jobs dump at once.
  void plan_chunks(SqlSession& s) {
    for (auto& [db, table] : tables_) {
      auto size =
          std::stoull(s.scalar(fmt::format("SELECT COALESCE(DATA_LENGTH, 0) FROM "
                                           "information_schema.TABLES WHERE TABLE_SCHEMA = {} "
                                           "AND TABLE_NAME = {}",
                                           sql::quote_string(db), sql::quote_string(table)))
                          .value_or("0"));
      auto pk = s.rows(fmt::format(
          "SELECT k.COLUMN_NAME, c.DATA_TYPE FROM information_schema.KEY_COLUMN_USAGE k JOIN "
          "information_schema.COLUMNS c USING (TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME) WHERE "
          "k.TABLE_SCHEMA = {} AND k.TABLE_NAME = {} AND k.CONSTRAINT_NAME = 'PRIMARY'",
          sql::quote_string(db), sql::quote_string(table)));
      bool integer_pk = pk.size() == 1 && pk[0][1] && pk[0][1]->find("int") != std::string::npos;
      auto parts = size / std::max<std::uint64_t>(o_.chunk_bytes, 1) + 1;
      if (!integer_pk || parts < 2) {
        chunks_.push_back({db, table, "", 0});
        continue;
      }
      auto column = sql::quote_identifier(*pk[0][0]);
      auto range = s.rows(fmt::format("SELECT MIN({0}), MAX({0}) FROM {1}", column,
                                      sql::qualified_name(db, table)));
      long long lo = 0, hi = 0;
      try {
        if (!range[0][0]) throw std::out_of_range("empty table");
        lo = std::stoll(*range[0][0]);
        hi = std::stoll(*range[0][1]);
      } catch (const std::logic_error&) {  // empty, or keys beyond the signed 64-bit range
        chunks_.push_back({db, table, "", 0});
        continue;
      }
      long long step = std::max<long long>(1, (hi - lo) / static_cast<long long>(parts) + 1);
      unsigned part = 0;
      for (long long from = lo; from <= hi; from += step, ++part) {
        std::string where = fmt::format("{0} >= {1} AND {0} < {2}", column, from, from + step);
        if (from == lo) where = fmt::format("{} < {}", column, from + step);  // and NULL-free
        if (from + step > hi) where = fmt::format("{} >= {}", column, from);
        chunks_.push_back({db, table, where, part});
      }
    }
    // Largest work first keeps the jobs busy until the end.
    total_chunks_ = chunks_.size();
  }

  void dump_parallel(std::vector<std::unique_ptr<SqlSession>>& workers) {
    std::vector<std::thread> threads;
    std::exception_ptr failure;
    std::mutex failure_mutex;
    for (auto& w : workers)
      threads.emplace_back([&, session = w.get()] {
        try {
          while (auto chunk = next_chunk()) dump_chunk(*session, *chunk);
        } catch (...) {
          std::lock_guard lock(failure_mutex);
          if (!failure) failure = std::current_exception();
          std::lock_guard queue(queue_mutex_);
          chunks_.clear();
        }
      });
    for (auto& t : threads) t.join();
    if (failure) std::rethrow_exception(failure);
  }

  std::optional<Chunk> next_chunk() {
    std::lock_guard lock(queue_mutex_);
    if (chunks_.empty()) return std::nullopt;
    auto c = chunks_.front();
    chunks_.pop_front();
    return c;
  }

  static std::string safe_name(const std::string& name) {
    std::string out;
    for (unsigned char c : name)
      out += std::isalnum(c) || c == '_' || c == '-' ? std::string(1, static_cast<char>(c))
                                                     : fmt::format("@{:02x}", c);
    return out;
  }

  void dump_chunk(SqlSession& s, const Chunk& chunk) {
    auto table = sql::qualified_name(chunk.database, chunk.table);
    auto path = fmt::format("data/{}.{}.{:04d}.sql.zst", safe_name(chunk.database),
                            safe_name(chunk.table), chunk.part);
    archive::CompressedObjectWriter out(backup_->store(), backup_->key(path),
                                        {.level = o_.compression_level});
    out.write(fmt::format("-- pitr base backup {}: rows of {}{}\n{}", m_.id, table,
                          chunk.where.empty() ? "" : " where " + chunk.where, session_preamble()));
    std::vector<SqlColumn> columns;
    std::string statement;
    std::uint64_t rows = 0;
    auto flush = [&] {
      if (statement.empty()) return;
      statement += ";\n";
      out.write(statement);
      statement.clear();
    };
    s.stream(
        fmt::format("SELECT * FROM {}{}", table,
                    chunk.where.empty() ? "" : " WHERE " + chunk.where),
        [&](const std::vector<SqlColumn>& c) { columns = c; },
        [&](const SqlRow& row) {
          statement += statement.empty() ? "INSERT INTO " + table + " VALUES (" : ",(";
          for (std::size_t i = 0; i < row.size; ++i) {
            if (i) statement += ',';
            append_literal(statement, columns[i], row, i);
          }
          statement += ')';
          ++rows;
          if (statement.size() >= kStatementBytes) flush();
        });
    flush();
    auto written = out.finish();
    std::lock_guard lock(queue_mutex_);
    m_.files.push_back({path, "data", chunk.database, chunk.table, rows, written.bytes,
                        written.stored_bytes, written.sha256});
    ++done_chunks_;
    done_bytes_ += written.bytes;
    if (o_.progress)
      fmt::print(stderr, "\rbackup: {}/{} chunks, {:.1f} MiB of SQL", done_chunks_, total_chunks_,
                 done_bytes_ / 1048576.0);
  }

  void write_readme() {
    auto text = fmt::format(
        "pitr base backup {id}\n\n"
        "Consistent at binlog {file}:{pos} (GTID position '{gtid}').\n"
        "manifest.json lists every file with the SHA-256 of its uncompressed content.\n\n"
        "Every file is zstd-compressed SQL for the mysql/mariadb client. To load this backup\n"
        "by hand: run the schema-*.sql.zst files first, then every data/*.sql.zst file (in any\n"
        "order, in parallel if you like):\n\n"
        "  for f in schema-*.sql.zst; do zstd -dc \"$f\" | mariadb; done\n"
        "  for f in data/*.sql.zst; do zstd -dc \"$f\" | mariadb; done\n\n"
        "then apply the archived binlog from {file}:{pos} on. `pitr restore` does all of it.\n"
        "In an encrypted archive (or any other), pitr writes each file's SQL:\n\n"
        "  pitr get --archive URL --backup {id} data/FILE.sql.zst | mariadb\n",
        fmt::arg("id", m_.id), fmt::arg("file", m_.binlog_file),
        fmt::arg("pos", m_.binlog_position), fmt::arg("gtid", m_.gtid_position));
    backup_->store().put_bytes(backup_->key("README.txt"), as_bytes(text),
                               storage::PutMode::kIfAbsent);
  }

  const BackupOptions& o_;
  BackupManifest m_;
  std::optional<archive::PendingBackup> backup_;  // where the backup is being written
  std::vector<std::pair<std::string, std::string>> tables_;
  std::mutex queue_mutex_;
  std::deque<Chunk> chunks_;
  std::size_t total_chunks_ = 0, done_chunks_ = 0;
  std::uint64_t done_bytes_ = 0;
};

}  // namespace

BackupManifest take_base_backup(const BackupOptions& options) {
  return BackupRun(options).run();
}

}  // namespace pitr::capture
