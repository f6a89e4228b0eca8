#pragma once
// `pitr capture` for MySQL/MariaDB: keeps a replication session to the source open,
// writes every event into the archive, and reconnects with backoff after network
// failures, server restarts or a killed connection, resuming at the last durable
// transaction boundary. Stops cleanly on SIGINT/SIGTERM.
#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include "archive/archive.hpp"

#include "capture/capture_fatal.hpp"
#include "capture/mysql/mysql_connection.hpp"
#include "capture/segment_writer.hpp"

namespace pitr::capture {

struct CaptureOptions {
  MysqlEndpoint endpoint;
  archive::Archive archive;
  // In object storage: how long a capture's lease lives without renewal.
  std::chrono::seconds lease_time{30};
  std::uint32_t replica_server_id = 0;
  SegmentPolicy policy;
  std::optional<LogPosition> start_position;  // used only when the archive is empty
  std::optional<std::string> start_gtid;      // likewise
  std::chrono::seconds heartbeat{5};
  bool stop_at_end = false;  // exit once caught up with the server
  // When the server purged binlogs the archive needs: record the gap and go on from
  // start_position or the server's oldest binlog, instead of exiting 3.
  bool accept_gap = false;
  std::chrono::milliseconds max_backoff{30000};
};

class BinlogCapture {
 public:
  explicit BinlogCapture(CaptureOptions options) : options_(std::move(options)) {}
  // Runs until stopped by a signal (or caught up with --stop-at-end); throws CaptureFatal.
  void run();

 private:
  CaptureOptions options_;
};

}  // namespace pitr::capture
