#include "formats/binlog/transaction_tracker.hpp"

#include <algorithm>
#include <cctype>

#include "formats/binlog/event_bodies.hpp"
#include "formats/binlog/event_types.hpp"

namespace pitr::binlog {
namespace {

bool starts_with_word(std::string_view text, std::string_view word) {
  if (text.size() < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(text[i])) != word[i]) return false;
  return text.size() == word.size() || !std::isalnum(static_cast<unsigned char>(text[word.size()]));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == ';'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

TransactionTracker::QueryKind TransactionTracker::classify(std::string_view query) {
  auto q = trim(query);
  if (starts_with_word(q, "BEGIN") || starts_with_word(q, "XA START") ||
      starts_with_word(q, "XA BEGIN"))
    return QueryKind::kBegin;
  // "ROLLBACK TO SAVEPOINT" stays inside the transaction.
  if (starts_with_word(q, "COMMIT") ||
      (starts_with_word(q, "ROLLBACK") && q.find_first_of(" \t\n") == std::string_view::npos))
    return QueryKind::kEnd;
  return QueryKind::kStatement;
}

void TransactionTracker::close(std::uint32_t time) {
  state_ = State::kIdle;
  completed_ = true;
  commit_time_ = time;
}

void TransactionTracker::open_statement_group() {
  if (state_ == State::kIdle || state_ == State::kAfterGtid) state_ = State::kInStatement;
}

void TransactionTracker::feed(const EventHeader& h, Bytes data, const FormatDescription& fd) {
  if (completed_) {
    completed_ = false;
    if (state_ == State::kIdle) gtid_.reset();
  }
  bool whole = data.size() + fd.checksum_size() >= h.event_size;
  switch (static_cast<EventType>(h.type)) {
    case EventType::kGtid:
    case EventType::kAnonymousGtid: {
      auto g = decode_mysql_gtid(data, fd);
      gtid_ = g.anonymous ? std::nullopt : std::optional(g.gtid.to_string());
      state_ = State::kAfterGtid;
      return;
    }
    case EventType::kGtidTagged:
      gtid_.reset();
      state_ = State::kAfterGtid;
      return;
    case EventType::kMariaGtid: {
      auto g = decode_maria_gtid(data, fd);
      gtid_ = g.gtid.to_string();
      // A MariaDB GTID without the standalone flag stands for BEGIN.
      state_ = g.standalone() ? State::kAfterGtid : State::kInTransaction;
      return;
    }
    case EventType::kQuery:
    case EventType::kMariaQueryCompressed: {
      auto kind = QueryKind::kStatement;
      if (whole) kind = classify(decode_query(data, fd).query);
      if (kind == QueryKind::kBegin) {
        state_ = State::kInTransaction;
      } else if (kind == QueryKind::kEnd || state_ != State::kInTransaction) {
        close(h.timestamp);
      }
      return;
    }
    case EventType::kXid:
    case EventType::kXaPrepare:
    case EventType::kTransactionPayload:
      close(h.timestamp);
      return;
    case EventType::kExecuteLoadQuery:
    case EventType::kExecLoad:
    case EventType::kLoad:
    case EventType::kNewLoad:
      if (state_ != State::kInTransaction) close(h.timestamp);
      return;
    case EventType::kIntvar:
    case EventType::kRand:
    case EventType::kUserVar:
    case EventType::kTableMap:
    case EventType::kMariaAnnotateRows:
    case EventType::kRowsQuery:
    case EventType::kBeginLoadQuery:
    case EventType::kAppendBlock:
    case EventType::kCreateFile:
    case EventType::kTransactionContext:
    case EventType::kViewChange:
      open_statement_group();
      return;
    default:
      break;
  }
  if (is_rows_event(h.type) && state_ != State::kInTransaction) {
    // Row events outside BEGIN/COMMIT (non-transactional engines in old servers) end their
    // statement with the STMT_END flag.
    if (whole && (decode_rows_header(data, fd).flags & kRowsFlagStmtEnd))
      close(h.timestamp);
    else
      open_statement_group();
  }
}

}  // namespace pitr::binlog
