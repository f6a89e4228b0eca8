#include "archive/segment_stats.hpp"

#include "formats/binlog/event_bodies.hpp"
#include "formats/binlog/event_types.hpp"

namespace pitr::archive {

void SegmentStats::feed(const binlog::EventHeader& h, Bytes data,
                        const binlog::FormatDescription& fd, std::uint64_t end) {
  using binlog::EventType;
  tracker_.feed(h, data, fd);
  auto& c = running_;
  if (c.events == 0 || (c.first_time == 0 && h.timestamp != 0)) c.first_time = h.timestamp;
  c.last_time = std::max(c.last_time, h.timestamp);
  ++c.events;
  if (tracker_.completed_transaction()) {
    ++c.transactions;
    if (tracker_.gtid()) {
      if (!c.first_gtid) c.first_gtid = tracker_.gtid();
      c.last_gtid = tracker_.gtid();
    }
  }
  if (h.type == static_cast<std::uint8_t>(EventType::kRotate)) {
    c.next_file = binlog::decode_rotate(data, fd).next_file;
    c.ends_file = true;
  } else if (h.type == static_cast<std::uint8_t>(EventType::kStop)) {
    c.ends_file = true;
  }
  if (tracker_.at_boundary()) {
    at_boundary_ = running_;
    boundary_ = end;
  }
}

void SegmentStats::fill(SegmentRecord& r) const {
  const auto& c = at_boundary_;
  r.first_time = c.first_time;
  r.last_time = c.last_time;
  r.first_gtid = c.first_gtid;
  r.last_gtid = c.last_gtid;
  r.events = c.events;
  r.transactions = c.transactions;
  r.next_file = c.next_file;
  r.ends_file = c.ends_file;
}

}  // namespace pitr::archive
