// Pieces of restore without a server: QUERY status variables of real binlogs, the SQL
// script splitter, and the statements generated from real events.
#include <gtest/gtest.h>

#include "archive/file_io.hpp"
#include "formats/binlog/event_bodies.hpp"
#include "formats/binlog/event_reader.hpp"
#include "formats/binlog/event_types.hpp"
#include "formats/binlog/query_status.hpp"
#include "formats/sql/script_splitter.hpp"
#include "replay/binlog_to_sql.hpp"
#include "replay/write_set.hpp"
#include "tests/unit/fixture_path.hpp"

namespace pitr {
namespace {

using QueryStatus = test::FixtureFiles;
using BinlogToSql = test::FixtureFiles;
using WriteSet = test::FixtureFiles;

TEST_F(QueryStatus, EveryQueryEventOfTheFixturesDecodes) {
  std::size_t queries = 0;
  for (std::string name :
       {"mysql-bin.checksum-crc32", "mysql-bin.checksum-none",
        "binlog_transaction_with_GTID.000001", "json.binlog.000001", "mysql-enum-string-set.000001",
        "ver_trunk_row_v2.001", "update-full-row.binlog"}) {
    archive::MappedFile map(test::fixture(name));
    binlog::EventReader reader(map.bytes(), name);
    while (auto ev = reader.next()) {
      if (ev->header.type != static_cast<std::uint8_t>(binlog::EventType::kQuery)) continue;
      auto q = binlog::decode_query(ev->data, reader.format());
      auto status = binlog::decode_query_status(q.status_vars);
      EXPECT_TRUE(status.flags2.has_value()) << name << " at " << ev->offset;
      EXPECT_TRUE(status.sql_mode.has_value()) << name << " at " << ev->offset;
      ++queries;
    }
  }
  EXPECT_GT(queries, 100u);
  const std::uint8_t unknown[] = {0xc8, 1, 2, 3};
  EXPECT_THROW(binlog::decode_query_status(Bytes(unknown, 4)), DecodeError);
}

TEST(ScriptSplitter, DelimitersAndPieces) {
  std::vector<std::string> got;
  sql::ScriptSplitter s([&](const std::string& st) { got.push_back(st); });
  std::string script =
      "-- comment\nSET NAMES utf8mb4;\nCREATE TABLE t (\n  a INT\n);\nDELIMITER ;;\n"
      "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END;;\nDELIMITER ;\nINSERT INTO t VALUES "
      "('a;b\\n');\n";
  for (std::size_t i = 0; i < script.size(); i += 7) s.feed(std::string_view(script).substr(i, 7));
  s.finish();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], "SET NAMES utf8mb4");
  EXPECT_EQ(got[1], "CREATE TABLE t (\n  a INT\n)");
  EXPECT_EQ(got[2], "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END");
  EXPECT_EQ(got[3], "INSERT INTO t VALUES ('a;b\\n')");
  sql::ScriptSplitter unfinished([](const std::string&) {});
  unfinished.feed("SELECT 1\n");
  EXPECT_THROW(unfinished.finish(), std::runtime_error);
}

TEST_F(BinlogToSql, MariadbTransactionsBecomeBinlogStatementsWithGtids) {
  archive::MappedFile map(test::fixture("mariadb-bin.000001"));
  binlog::EventReader reader(map.bytes(), "mariadb-bin.000001");
  using Kind = replay::StatementKind;
  std::vector<std::pair<std::string, Kind>> out;
  replay::BinlogToSql sql([&](const std::string& s, Kind kind) { out.emplace_back(s, kind); });
  while (auto ev = reader.next()) sql.event(ev->header, ev->raw);
  std::size_t commits = 0, binlogs = 0;
  for (auto& [s, kind] : out) {
    commits += kind == Kind::kCommit;
    binlogs += s.rfind("BINLOG '", 0) == 0;
  }
  EXPECT_EQ(commits, 2u);  // the file's two transactions
  EXPECT_EQ(binlogs, 3u);  // the format description, then one per transaction's row events
  EXPECT_EQ(out.front().first.rfind("BINLOG '", 0), 0u);
  EXPECT_EQ(out.front().second, Kind::kFormatDescription);
  EXPECT_EQ(out[1].first.rfind("SET @@session.gtid_domain_id=0, @@session.server_id=", 0), 0u);
  EXPECT_NE(std::find_if(out.begin(), out.end(),
                         [](auto& p) { return p.first.ends_with("@@session.gtid_seq_no=2"); }),
            out.end());
}

TEST_F(BinlogToSql, MysqlGtidsAreKeptWithGtidNext) {
  // binlog_transaction_with_GTID.000001: CREATE TABLE, an INSERT, DROP TABLE as GTIDs 1-3.
  archive::MappedFile map(test::fixture("binlog_transaction_with_GTID.000001"));
  binlog::EventReader reader(map.bytes(), "binlog_transaction_with_GTID.000001");
  std::vector<std::string> statements;
  std::vector<std::string> committed;  // the statement that ends each transaction
  replay::BinlogToSql sql([&](const std::string& s, replay::StatementKind kind) {
    statements.push_back(s);
    if (kind == replay::StatementKind::kCommit) committed.push_back(s);
  });
  while (auto ev = reader.next()) sql.event(ev->header, ev->raw);
  std::vector<std::string> gtid_next;
  for (auto& s : statements)
    if (s.rfind("SET @@SESSION.GTID_NEXT=", 0) == 0) gtid_next.push_back(s);
  const std::string sid = "006c2cf2-b1ea-11e4-9057-8c705a3d3e78";
  EXPECT_EQ(gtid_next, (std::vector<std::string>{"SET @@SESSION.GTID_NEXT='" + sid + ":1'",
                                                 "SET @@SESSION.GTID_NEXT='" + sid + ":2'",
                                                 "SET @@SESSION.GTID_NEXT='" + sid + ":3'"}));
  EXPECT_EQ(committed, (std::vector<std::string>{"CREATE TABLE t1 (c1 INT)", "COMMIT",
                                                 "DROP TABLE `t1` /* generated by server */"}));
}

TEST_F(BinlogToSql, StatementsCarryTheirSessionContext) {
  archive::MappedFile map(test::fixture("ver_trunk_row_v2.001"));
  binlog::EventReader reader(map.bytes(), "ver_trunk_row_v2.001");
  std::vector<std::string> out;
  replay::BinlogToSql sql([&](const std::string& s, replay::StatementKind) { out.push_back(s); });
  try {
    while (auto ev = reader.next()) sql.event(ev->header, ev->raw);
  } catch (const std::runtime_error& e) {
    // This file also holds LOAD DATA events, which replay refuses by name.
    EXPECT_NE(std::string(e.what()).find("LOAD_QUERY"), std::string::npos) << e.what();
  }
  auto has = [&](const std::string& prefix) {
    return std::any_of(out.begin(), out.end(), [&](auto& s) { return s.rfind(prefix, 0) == 0; });
  };
  EXPECT_TRUE(has("SET TIMESTAMP="));
  EXPECT_TRUE(has("SET @@session.sql_mode="));
  EXPECT_TRUE(has("SET @@session.pseudo_thread_id="));
  EXPECT_TRUE(has("SET INSERT_ID=") || has("SET LAST_INSERT_ID="));
  EXPECT_TRUE(has("SET @@RAND_SEED1="));
  EXPECT_TRUE(has("SET @`"));
}

// The write sets of a file's transactions, with the keys a lookup gives its tables.
std::vector<replay::WriteSet> write_sets(const std::string& file, const replay::TableKeys& keys) {
  archive::MappedFile map(test::fixture(file));
  binlog::EventReader reader(map.bytes(), file);
  std::vector<replay::WriteSet> out;
  replay::WriteSet current(
      [&](const std::string&, const std::string&) -> const replay::TableKeys& { return keys; });
  replay::BinlogToSql sql([&](const std::string&, replay::StatementKind kind) {
    if (kind == replay::StatementKind::kCommit) out.push_back(current);
  });
  try {
    while (auto ev = reader.next()) {
      current.event(ev->header, ev->raw, sql.format());
      sql.event(ev->header, ev->raw);
    }
  } catch (const std::runtime_error& e) {
    // Replay refuses LOAD DATA by name (ver_trunk_row_v2.001 ends with it).
    EXPECT_NE(std::string(e.what()).find("LOAD_QUERY"), std::string::npos) << e.what();
  }
  return out;
}

TEST_F(WriteSet, RowsAreKeyedByTheirUniqueKeyValues) {
  // mariadb-bin.000001: two single-row INSERTs into toddy_test.outbox, ids 62 and 63.
  using Mode = replay::TableKeys::Mode;
  auto by_id = write_sets("mariadb-bin.000001", {Mode::kRowKeys, {{0}}});
  ASSERT_EQ(by_id.size(), 2u);
  for (auto& w : by_id) {
    EXPECT_FALSE(w.serial());
    EXPECT_EQ(w.hashes().size(), 1u);
  }
  EXPECT_NE(by_id[0].hashes(), by_id[1].hashes());  // different rows: independent
  // Both rows have the same value in column 1 ('foo'): keyed by it, they meet.
  auto by_name = write_sets("mariadb-bin.000001", {Mode::kRowKeys, {{1}}});
  EXPECT_EQ(by_name[0].hashes(), by_name[1].hashes());
  // A key with two columns: (id, name) differ again.
  auto by_both = write_sets("mariadb-bin.000001", {Mode::kRowKeys, {{0, 1}}});
  EXPECT_NE(by_both[0].hashes(), by_both[1].hashes());
  // Without a usable key, or with foreign keys, changes to the table always meet.
  for (auto mode : {Mode::kWholeTable, Mode::kForeignKeys}) {
    auto whole = write_sets("mariadb-bin.000001", {mode, {}});
    EXPECT_EQ(whole[0].hashes(), whole[1].hashes());
    EXPECT_FALSE(whole[0].hashes().empty());
  }
}

TEST_F(WriteSet, StatementsMakeATransactionRunAlone) {
  // ver_trunk_row_v2.001 has DDL and statement-based DML with session context.
  using Mode = replay::TableKeys::Mode;
  auto sets = write_sets("ver_trunk_row_v2.001", {Mode::kRowKeys, {{0}}});
  std::size_t alone = 0, statements = 0;
  for (auto& w : sets) {
    alone += w.serial();
    statements += w.ran_statement();
    EXPECT_TRUE(!w.ran_statement() || w.serial());
  }
  EXPECT_GT(statements, 0u);
  EXPECT_GE(alone, statements);
}

}  // namespace
}  // namespace pitr
