#include "replay/binlog_to_sql.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <cctype>
#include <cstring>
#include <string_view>

#include "formats/binlog/event_bodies.hpp"
#include "formats/binlog/event_types.hpp"
#include "formats/binlog/query_status.hpp"
#include "formats/sql/sql_literal.hpp"

namespace pitr::replay {

using binlog::EventType;

std::string base64(Bytes bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                           static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

namespace {

constexpr std::size_t kRowsStatementBytes = 1u << 20;

bool is(const binlog::EventHeader& h, EventType t) {
  return h.type == static_cast<std::uint8_t>(t);
}

std::string flags2_settings(std::uint32_t f) {
  return fmt::format(
      "@@session.foreign_key_checks={}, @@session.sql_auto_is_null={}, "
      "@@session.unique_checks={}, @@session.autocommit={}",
      f & binlog::kOptionNoForeignKeyChecks ? 0 : 1, f & binlog::kOptionAutoIsNull ? 1 : 0,
      f & binlog::kOptionRelaxedUniqueChecks ? 0 : 1, f & binlog::kOptionNotAutocommit ? 0 : 1);
}

// CREATE/DROP DATABASE (or SCHEMA) is logged with the database it creates or drops as the
// default database, which does not exist before it (or after): USE would fail.
bool creates_or_drops_database(std::string_view text) {
  auto word = [&](std::string_view w) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
      text.remove_prefix(1);
    if (text.size() < w.size()) return false;
    for (std::size_t i = 0; i < w.size(); ++i)
      if (std::toupper(static_cast<unsigned char>(text[i])) != w[i]) return false;
    text.remove_prefix(w.size());
    return true;
  };
  if (!word("CREATE") && !word("DROP")) return false;
  return word("DATABASE") || word("SCHEMA");
}

}  // namespace

void BinlogToSql::format_description(Bytes fde) {
  fd_ = binlog::decode_format_description(fde);
  emit("BINLOG '\n" + base64(fde) + "\n'", StatementKind::kFormatDescription);
}

void BinlogToSql::session_variable(const std::string& name, const std::string& value) {
  for (auto& [n, v] : session_)
    if (n == name) {
      if (v == value) return;
      v = value;
      emit(fmt::format("SET {}={}", name, value));
      return;
    }
  session_.emplace_back(name, value);
  emit(fmt::format("SET {}={}", name, value));
}

void BinlogToSql::flush_rows() {
  if (pending_rows_.empty()) return;
  emit("BINLOG '\n" + pending_rows_ + "'");
  pending_rows_.clear();
}

void BinlogToSql::event(const binlog::EventHeader& h, Bytes raw) {
  if (is(h, EventType::kFormatDescription)) return format_description(raw);
  Bytes data = raw.first(raw.size() - fd_.checksum_size());
  if (is(h, EventType::kTableMap) || binlog::is_rows_event(h.type)) {
    pending_rows_ += base64(raw) + "\n";
    if (is(h, EventType::kTableMap)) return;
    // One BINLOG statement may carry several row statements: that saves round trips. It
    // is cut only at a statement end, and once it is large, so memory stays bounded.
    bool stmt_end = binlog::decode_rows_header(data, fd_).flags & binlog::kRowsFlagStmtEnd;
    if (stmt_end && pending_rows_.size() >= kRowsStatementBytes) flush_rows();
    return;
  }
  // Annotations between the statements of a transaction do not cut its BINLOG statement.
  if (is(h, EventType::kMariaAnnotateRows) || is(h, EventType::kRowsQuery)) return;
  flush_rows();
  switch (static_cast<EventType>(h.type)) {
    case EventType::kMariaGtid: {
      auto g = binlog::decode_maria_gtid(data, fd_);
      // In full every time: under parallel replay the next transaction may run elsewhere.
      emit(fmt::format(
          "SET @@session.gtid_domain_id={}, @@session.server_id={}, @@session.gtid_seq_no={}",
          g.gtid.domain, g.gtid.server_id, g.gtid.seq));
      if (!g.standalone()) {
        emit("BEGIN");
        in_transaction_ = true;
      }
      return;
    }
    case EventType::kGtid: {
      // MySQL: the transaction keeps its GTID on the target, as mysqlbinlog's output does.
      auto g = binlog::decode_mysql_gtid(data, fd_);
      emit(fmt::format("SET @@SESSION.GTID_NEXT='{}'", g.gtid.to_string()));
      return;
    }
    case EventType::kQuery:
      return query(h, data);
    case EventType::kXid:
      emit("COMMIT", StatementKind::kCommit);
      in_transaction_ = false;
      return;
    case EventType::kIntvar: {
      ByteCursor c(data.subspan(fd_.common_header_length), "INTVAR_EVENT");
      auto kind = c.u8();
      emit(fmt::format("SET {}={}", kind == 1 ? "LAST_INSERT_ID" : "INSERT_ID", c.u64()));
      return;
    }
    case EventType::kRand: {
      ByteCursor c(data.subspan(fd_.common_header_length), "RAND_EVENT");
      auto seed1 = c.u64();
      emit(fmt::format("SET @@RAND_SEED1={}, @@RAND_SEED2={}", seed1, c.u64()));
      return;
    }
    case EventType::kUserVar:
      return user_var(data);
    case EventType::kXaPrepare:
    case EventType::kBeginLoadQuery:
    case EventType::kExecuteLoadQuery:
    case EventType::kMariaQueryCompressed:
    case EventType::kTransactionPayload:
    case EventType::kGtidTagged:
      throw std::runtime_error(fmt::format(
          "{} events cannot be replayed by this pitr yet; restore with mariadb-binlog from "
          "`pitr get` output instead",
          binlog::event_type_name(h.type)));
    default:
      return;  // ROTATE, STOP, GTID_LIST, checkpoints, annotations: nothing to apply
  }
}

void BinlogToSql::query(const binlog::EventHeader& h, Bytes data) {
  auto q = binlog::decode_query(data, fd_);
  auto status = binlog::decode_query_status(q.status_vars);
  std::string text(q.query);
  if (text == "BEGIN") {
    if (!in_transaction_) emit("BEGIN");
    in_transaction_ = true;
    return;
  }
  bool commit = text == "COMMIT" || text == "ROLLBACK";
  if (!commit) {
    emit(status.microseconds
             ? fmt::format("SET TIMESTAMP={}.{:06d}", h.timestamp, *status.microseconds)
             : fmt::format("SET TIMESTAMP={}", h.timestamp));
    session_variable("@@session.pseudo_thread_id", std::to_string(q.thread_id));
    if (status.flags2 && status.flags2 != flags2_) {
      flags2_ = status.flags2;
      emit("SET " + flags2_settings(*status.flags2));
    }
    if (status.sql_mode) session_variable("@@session.sql_mode", std::to_string(*status.sql_mode));
    if (status.auto_increment_increment) {
      session_variable("@@session.auto_increment_increment",
                       std::to_string(*status.auto_increment_increment));
      session_variable("@@session.auto_increment_offset",
                       std::to_string(*status.auto_increment_offset));
    }
    if (status.character_set_client) {
      session_variable("@@session.character_set_client",
                       std::to_string(*status.character_set_client));
      session_variable("@@session.collation_connection",
                       std::to_string(*status.collation_connection));
      session_variable("@@session.collation_server", std::to_string(*status.collation_server));
    }
    if (status.time_zone)
      session_variable("@@session.time_zone", sql::quote_string(*status.time_zone));
    if (status.lc_time_names)
      session_variable("@@session.lc_time_names", std::to_string(*status.lc_time_names));
    if (status.collation_database)
      session_variable("@@session.collation_database", std::to_string(*status.collation_database));
    if (!q.database.empty() && q.database != last_db_ && !creates_or_drops_database(text)) {
      last_db_ = std::string(q.database);
      emit("USE " + sql::quote_identifier(last_db_));
    }
  }
  bool ends = commit || !in_transaction_;
  emit(text, ends ? StatementKind::kCommit : StatementKind::kStatement);
  if (ends) in_transaction_ = false;
}

void BinlogToSql::user_var(Bytes data) {
  ByteCursor c(data.subspan(fd_.common_header_length), "USER_VAR_EVENT");
  auto name = std::string(c.text(c.u32()));
  auto variable = "@" + sql::quote_identifier(name);
  if (c.u8()) return emit(fmt::format("SET {} := NULL", variable));
  auto type = c.u8();
  auto charset = c.u32();
  auto value = c.bytes(c.u32());
  switch (type) {
    case 0:  // STRING_RESULT; its character set (id `charset`) is not carried over
      (void)charset;
      emit(fmt::format("SET {} := _binary {}", variable, sql::hex_literal(value)));
      return;
    case 1: {  // REAL_RESULT
      double d;
      std::memcpy(&d, value.data(), std::min(sizeof d, value.size()));
      emit(fmt::format("SET {} := {}", variable, d));
      return;
    }
    case 2: {  // INT_RESULT
      auto v = load_le(value.data(), std::min<std::size_t>(8, value.size()));
      bool is_unsigned = !c.empty() && (c.u8() & 1);
      emit(is_unsigned ? fmt::format("SET {} := {}", variable, v)
                       : fmt::format("SET {} := {}", variable, static_cast<std::int64_t>(v)));
      return;
    }
    default:
      throw std::runtime_error("USER_VAR_EVENT of type " + std::to_string(type) +
                               " (DECIMAL) cannot be replayed by this pitr yet");
  }
}

}  // namespace pitr::replay
