#pragma once
// Finds transaction boundaries in a stream of binlog events: the positions where no
// transaction or statement group is open, so the log can be cut or resumed there.
#include <optional>
#include <string>

#include "formats/binlog/event_header.hpp"
#include "formats/binlog/format_description.hpp"

namespace pitr::binlog {

class TransactionTracker {
 public:
  // Feeds one event. `data` is the event without its checksum; for an event too large to
  // hold in memory pass only its first bytes (at least the header): such an event is a
  // row or statement event, never a transaction marker.
  void feed(const EventHeader& header, Bytes data, const FormatDescription& fd);

  // True when the log position after the last fed event is a transaction boundary.
  bool at_boundary() const { return state_ == State::kIdle; }
  // True when the last fed event completed a transaction or standalone statement.
  bool completed_transaction() const { return completed_; }
  // GTID of the open or just-completed transaction, when the log has GTIDs.
  const std::optional<std::string>& gtid() const { return gtid_; }
  // Commit time of the just-completed transaction (header time of its last event).
  std::uint32_t commit_time() const { return commit_time_; }

 private:
  enum class State { kIdle, kAfterGtid, kInStatement, kInTransaction };
  enum class QueryKind { kBegin, kEnd, kStatement };
  static QueryKind classify(std::string_view query);
  void close(std::uint32_t time);
  void open_statement_group();

  State state_ = State::kIdle;
  bool completed_ = false;
  std::optional<std::string> gtid_;
  std::uint32_t commit_time_ = 0;
};

}  // namespace pitr::binlog
