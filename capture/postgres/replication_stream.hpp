#pragma once
// One START_REPLICATION ... PHYSICAL stream over a libpq replication connection, its socket
// waited on through the capture's Boost.Asio loop. Yields XLogData and keepalives, the end
// of a historic timeline, or nothing by a deadline; sends standby status updates.
// Boost 1.74 with g++ 12 needs <utility> before Asio.
#include <utility>

#include <boost/asio.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <variant>

#include "capture/postgres/pg_connection.hpp"
#include "formats/postgres/replication_messages.hpp"

namespace pitr::capture {

struct TimelineEnd {
  postgres::TimelineId next_timeline = 0;
  postgres::Lsn next_start = 0;  // where the next timeline branched off
};
struct NothingYet {};

using StreamItem = std::variant<postgres::XLogData, postgres::Keepalive, TimelineEnd, NothingYet>;

class ReplicationStream {
 public:
  ReplicationStream(PgConnection& connection, boost::asio::io_context& io);
  ~ReplicationStream();
  ReplicationStream(const ReplicationStream&) = delete;
  ReplicationStream& operator=(const ReplicationStream&) = delete;

  // Starts streaming `timeline` from `start` (through `slot` when given). Returns a
  // TimelineEnd at once when `start` is exactly where that timeline ended.
  std::optional<TimelineEnd> start(postgres::TimelineId timeline, postgres::Lsn start,
                                   const std::string& slot);
  // The next message, or NothingYet once `deadline` passes (or cancel() is called). The
  // bytes of an XLogData stay valid until the next call.
  StreamItem next(std::chrono::steady_clock::time_point deadline);
  void send_status(const postgres::StandbyStatus& status);
  void cancel();

 private:
  TimelineEnd finish_copy();
  TimelineEnd read_timeline_end(const PgResult& result);
  bool wait_readable(std::chrono::steady_clock::time_point deadline);
  void release_buffer();

  PgConnection& conn_;
  boost::asio::io_context& io_;
  boost::asio::posix::stream_descriptor socket_;
  boost::asio::steady_timer timer_;
  char* buffer_ = nullptr;
};

}  // namespace pitr::capture
