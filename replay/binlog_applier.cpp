#include "replay/binlog_applier.hpp"

#include "formats/hex.hpp"

#include <fmt/format.h>

#include <chrono>

#include "archive/partial_scan.hpp"
#include "formats/binlog/event_splitter.hpp"
#include "formats/sql/sql_literal.hpp"
#include "replay/binlog_to_sql.hpp"

namespace pitr::replay {

namespace {
constexpr std::size_t kBatchBytes = 4u << 20;
constexpr std::size_t kLargestEvent = 1u << 30;
}  // namespace

SessionTarget::SessionTarget(const capture::MysqlEndpoint& target)
    : session_(target, "replay", true) {
  session_.execute(fmt::format("SET SESSION sql_mode = '{}'", sql::kSessionSqlMode));
}

void SessionTarget::statement(const std::string& sql, StatementKind) {
  // The newline ends a trailing "-- comment" of the statement before the separator.
  if (!batch_.empty()) batch_ += "\n;\n";
  batch_ += sql;
  // MariaDB 10.11 silently skips whatever follows a BINLOG statement in a multi-statement
  // packet, so a BINLOG statement always ends its batch; the COMMIT after it travels at the
  // head of the next one. That is one round trip per row-based transaction.
  if (sql.rfind("BINLOG ", 0) == 0 || batch_.size() >= kBatchBytes) finish();
}

void SessionTarget::finish() {
  if (batch_.empty()) return;
  auto batch = std::move(batch_);
  batch_.clear();
  session_.execute(batch);
}

ScriptTarget::ScriptTarget(std::FILE* out) : out_(out) {
  fmt::print(
      out_, "-- pitr restore: binlog replay\nDELIMITER /*!*/;\nSET SESSION sql_mode = '{}'/*!*/;\n",
      sql::kSessionSqlMode);
}

void ScriptTarget::statement(const std::string& sql, StatementKind) {
  fmt::print(out_, "{}\n/*!*/;\n", sql);
}

void ScriptTarget::finish() {
  fmt::print(out_, "DELIMITER ;\n");
  if (std::fflush(out_) != 0) throw std::runtime_error("writing the SQL script failed");
}

ReplayStats replay_binlog(const archive::BinlogArchive& archive, const RestorePlan& plan,
                          StatementTarget& target,
                          const std::function<void(const ReplayStats&)>& progress) {
  ReplayStats stats;
  auto reported = std::chrono::steady_clock::now();
  BinlogToSql converter([&](const std::string& sql, StatementKind kind) {
    target.statement(sql, kind);
    bool commit = kind == StatementKind::kCommit;
    stats.transactions += commit;
    if (commit && progress &&
        std::chrono::steady_clock::now() - reported > std::chrono::seconds(2)) {
      reported = std::chrono::steady_clock::now();
      progress(stats);
    }
  });
  const LogPoint from{plan.backup.binlog_file, plan.backup.binlog_position};
  std::vector<const archive::ArchivedLog*> logs;
  for (const auto& name : plan.files) logs.push_back(&archive.find(name, plan.source_id));
  archive.will_read(logs);
  for (const auto& name : plan.files) {
    const auto& log = archive.find(name, plan.source_id);
    bool first = name == from.file, last = name == plan.stop.file;
    if (log.start() > 0 || (first && from.offset > 4)) {
      auto fde = log.format_description();
      if (!fde) throw std::runtime_error("no FORMAT_DESCRIPTION_EVENT archived for " + name);
      converter.format_description(from_hex(*fde));
    }
    binlog::EventSplitter splitter(log.start(), kLargestEvent);
    struct Done {};
    try {
      archive.read_log(log, [&](Bytes chunk) {
        splitter.feed(chunk, [&](const binlog::StreamedEvent& ev) {
          if (first && ev.offset < from.offset) return;
          if (last && ev.offset >= plan.stop.offset) throw Done{};
          if (!ev.whole)
            throw std::runtime_error(
                fmt::format("{}:{}: event too large to replay", name, ev.offset));
          target.observe(ev.header, ev.bytes, converter.format());
          converter.event(ev.header, ev.bytes);
          ++stats.events;
        });
      });
    } catch (const Done&) {
    }
  }
  target.finish();
  return stats;
}

}  // namespace pitr::replay
