#pragma once
// pitr capture for PostgreSQL: streams WAL over a physical replication connection into
// the archive, through a replication slot so the server keeps WAL while capture is down,
// reporting a flush position only once those bytes are durable in the archive.
#include <chrono>
#include <optional>
#include <string>
#include "archive/archive.hpp"

#include "capture/compression_levels.hpp"
#include "capture/postgres/pg_connection.hpp"
#include "formats/postgres/lsn.hpp"

namespace pitr::capture {

struct WalCaptureOptions {
  PostgresEndpoint endpoint;
  archive::Archive archive;
  // In object storage: how long a capture's lease lives without renewal.
  std::chrono::seconds lease_time{30};
  std::string slot = "pitr";  // empty: stream without a slot
  bool sync = false;          // fsync and report after every message batch (synchronous standby)
  CompressionLevels compression;
  std::chrono::seconds status_interval{10};
  // Silent this long, capture asks the server for a keepalive; silent 3 times this long, the
  // connection is taken for dead (a network cut or a frozen server) and capture reconnects.
  std::chrono::seconds heartbeat{5};
  std::chrono::milliseconds max_backoff{30000};
  // When the server no longer has the WAL the archive needs: record the gap and go on from
  // the oldest WAL the server has (renewing an invalidated slot), instead of exiting 3.
  bool accept_gap = false;
  bool stop_at_end = false;              // exit 0 once caught up with the server
  std::optional<postgres::Lsn> end_lsn;  // exit 0 once archived through this LSN
  bool quiet = false;
};

class WalCapture {
 public:
  explicit WalCapture(WalCaptureOptions options) : options_(std::move(options)) {}
  // Runs until stopped by a signal (or an end condition); throws CaptureFatal.
  void run();

 private:
  WalCaptureOptions options_;
};

}  // namespace pitr::capture
