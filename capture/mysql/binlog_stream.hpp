#pragma once
// The replication session on an authenticated connection: announces pitr as a replica,
// requests the binlog from a file position or a GTID state, and yields events as they
// arrive, reassembling those split across 16 MiB packets without buffering them whole.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/mysql/mysql_connection.hpp"
#include "capture/mysql/server_identity.hpp"
#include "formats/binlog/event_header.hpp"

namespace pitr::capture {

struct DumpRequest {
  std::uint32_t replica_server_id = 0;
  std::string file;  // with position: where to start; empty for GTID positioning
  std::uint64_t position = 4;
  std::optional<std::string> gtid;  // MySQL GTID set or MariaDB GTID position
  bool non_blocking = false;        // the server ends the stream when caught up
  std::chrono::seconds heartbeat{5};
};

struct EventStart {
  binlog::EventHeader header;
  Bytes first;        // the event's first bytes (all of it unless `more`); valid until next read
  bool more = false;  // continuation chunks follow: call next_chunk() until it returns nullopt
};

class BinlogStream {
 public:
  BinlogStream(MysqlConnection& connection, const ServerIdentity& server,
               const DumpRequest& request);

  // The next event, or nullopt when a non-blocking dump has caught up with the server.
  // Throws ServerError for an error packet, ConnectionError when no event or heartbeat
  // arrives within three heartbeat periods.
  std::optional<EventStart> next_event();
  std::optional<Bytes> next_chunk();

 private:
  MysqlConnection& connection_;
  std::chrono::milliseconds timeout_;
  bool continued_ = false;  // the last packet was full: the next one continues the event
  std::uint64_t remaining_ = 0;
};

}  // namespace pitr::capture
