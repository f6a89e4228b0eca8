#pragma once
// Accumulates what a segment's index record says about its events, fed one event at a
// time, both while capturing and when an open partial segment is re-read after a crash.
#include <cstdint>
#include <optional>
#include <string>

#include "archive/segment_record.hpp"
#include "formats/binlog/event_header.hpp"
#include "formats/binlog/format_description.hpp"
#include "formats/binlog/transaction_tracker.hpp"

namespace pitr::archive {

class SegmentStats {
 public:
  // `data` as for TransactionTracker::feed. `end` is the file offset after the event.
  void feed(const binlog::EventHeader& header, Bytes data, const binlog::FormatDescription& fd,
            std::uint64_t end);

  bool at_boundary() const { return tracker_.at_boundary(); }
  // File offset of the last transaction boundary seen (0 before any).
  std::uint64_t boundary() const { return boundary_; }
  // Copies the counters as of the last boundary into `record`.
  void fill(SegmentRecord& record) const;
  bool file_ended() const { return at_boundary_.ends_file; }
  const std::optional<std::string>& next_file() const { return at_boundary_.next_file; }

 private:
  binlog::TransactionTracker tracker_;
  // Only the event-derived fields of the records are used: counters as they run, and as
  // they stood at the last transaction boundary.
  SegmentRecord running_;
  SegmentRecord at_boundary_;
  std::uint64_t boundary_ = 0;
};

}  // namespace pitr::archive
