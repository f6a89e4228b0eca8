// pitr capture: continuous binlog archiving.
#include <fmt/format.h>

#include <functional>

#include "capture/mysql/binlog_capture.hpp"
#include "capture/postgres/wal_capture.hpp"
#include "formats/postgres/lsn.hpp"
#include "tools/archive_options.hpp"
#include "tools/commands.hpp"
#include "tools/size_option.hpp"
#include "tools/source_options.hpp"
#include "tools/usage_error.hpp"

namespace pitr::tools {
namespace {

struct CaptureArgs {
  SourceArgs source;
  ArchiveArgs archive;
  std::string segment_size = "16M";
  std::optional<std::string> start_file, start_gtid;
  std::optional<std::uint64_t> start_pos;
  std::optional<std::uint32_t> server_id;
  unsigned segment_time = 60, heartbeat = 5, lease_time = 30;
  capture::CompressionLevels compression;
  bool sync = false, stop_at_end = false;
  std::string slot = "pitr", application_name = "pitr";
  bool no_slot = false, accept_gap = false;
  std::optional<std::string> end_lsn;
  unsigned status_interval = 10;
};

int run_postgres_capture(const CaptureArgs& a) {
  capture::WalCaptureOptions o;
  o.endpoint = make_postgres_endpoint(a.source);
  o.endpoint.application_name = a.application_name;
  if (a.end_lsn)
    o.end_lsn = parse_option("--end-lsn", *a.end_lsn, "an LSN like 0/3000028",
                             [](const std::string& t) { return postgres::parse_lsn(t); });
  o.archive = open_archive(a.archive, SpoolUse::kWrites);
  o.lease_time = std::chrono::seconds(a.lease_time);
  o.slot = a.no_slot ? "" : a.slot;
  o.sync = a.sync;
  o.compression = a.compression;
  o.status_interval = std::chrono::seconds(a.status_interval);
  o.heartbeat = std::chrono::seconds(a.heartbeat);
  o.accept_gap = a.accept_gap;
  o.stop_at_end = a.stop_at_end;
  try {
    capture::WalCapture(o).run();
  } catch (const capture::CaptureFatal& e) {
    fmt::print(stderr, "pitr capture: error: {}\n", e.what());
    return e.exit_code();
  }
  return kExitOk;
}

// A stable default replica id per archive, far from ids DBAs usually assign.
std::uint32_t default_server_id(const std::string& archive) {
  return 0xF0000000u | static_cast<std::uint32_t>(std::hash<std::string>{}(archive)&0x0FFFFFFF);
}

int run_capture(const CaptureArgs& a) {
  if (is_clickhouse_source(a.source))
    throw UsageError(
        "ClickHouse has no change log pitr captures: back it up with pitr backup --source "
        "clickhouse://...");
  if (is_postgres_source(a.source)) return run_postgres_capture(a);
  capture::CaptureOptions o;
  o.endpoint = make_endpoint(a.source);
  o.policy.max_bytes =
      parse_option("--segment-size", a.segment_size, "a size like 16M", parse_size);
  o.archive = open_archive(a.archive, SpoolUse::kWrites);
  o.lease_time = std::chrono::seconds(a.lease_time);
  o.replica_server_id = a.server_id.value_or(default_server_id(a.archive.url));
  o.policy.max_age = std::chrono::seconds(a.segment_time);
  o.policy.sync_each_transaction = a.sync;
  o.policy.compression = a.compression;
  o.heartbeat = std::chrono::seconds(a.heartbeat);
  o.stop_at_end = a.stop_at_end;
  if (a.start_file) o.start_position = capture::LogPosition{*a.start_file, a.start_pos.value_or(4)};
  o.start_gtid = a.start_gtid;
  o.accept_gap = a.accept_gap;
  try {
    capture::BinlogCapture(o).run();
  } catch (const capture::CaptureFatal& e) {
    fmt::print(stderr, "pitr capture: error: {}\n", e.what());
    return e.exit_code();
  }
  return kExitOk;
}

}  // namespace

CommandRunner add_capture_command(CLI::App& app) {
  auto a = std::make_shared<CaptureArgs>();
  auto* cmd = app.add_subcommand(
      "capture",
      "Stream a MySQL/MariaDB server's binlog, or a PostgreSQL server's WAL, into the archive\n"
      "until SIGINT/SIGTERM.\n"
      "The password is read from --password-file or the PITR_PASSWORD environment variable.");
  add_archive_options(cmd, a->archive, SpoolUse::kWrites,
                      "The archive (created if missing): a directory, file://PATH or "
                      "s3://BUCKET/PREFIX");
  cmd->add_option("--lease-time", a->lease_time,
                  "Archive in object storage: seconds a capture's lease lives without renewal; "
                  "another capture takes over that long after this one dies (at once on the "
                  "same host)")
      ->check(CLI::Range(3u, 3600u))
      ->group("Object storage (with an s3:// archive)")
      ->capture_default_str();
  add_source_options(cmd, a->source);
  cmd->add_option("--server-id", a->server_id,
                  "Replica server id to register with (default: derived from the archive path)");
  cmd->add_flag("--sync", a->sync,
                "fsync the open segment at every transaction end (PostgreSQL: after every "
                "message batch, before reporting the flush, so pitr can be a synchronous standby)");
  cmd->add_option("--segment-size", a->segment_size, "Seal segments at this size (default 16M)");
  cmd->add_option("--segment-time", a->segment_time, "Seal segments at this age in seconds")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--compression-level", a->compression.steady,
                  "zstd level of sealed segments while capture keeps up with the server")
      ->check(CLI::Range(-7, 19))
      ->capture_default_str();
  cmd->add_option("--catch-up-compression-level", a->compression.catching_up,
                  "zstd level of a segment that others wait behind (catching up after downtime "
                  "or a burst); equal to --compression-level to keep one level")
      ->check(CLI::Range(-7, 19))
      ->capture_default_str();
  auto* file = cmd->add_option("--start-file", a->start_file,
                               "Binlog file to start from when the archive is empty "
                               "(default: the server's oldest)");
  cmd->add_option("--start-pos", a->start_pos, "Offset in --start-file (default 4)")->needs(file);
  cmd->add_option("--start-gtid", a->start_gtid,
                  "Start from this GTID state when the archive is empty (MySQL GTID set "
                  "or MariaDB GTID position)")
      ->excludes(file);
  cmd->add_option("--heartbeat", a->heartbeat,
                  "Server heartbeat period in seconds; silence for 3 periods means the "
                  "connection is dead (default 5). PostgreSQL: after one silent period pitr "
                  "asks the server for a keepalive")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--stop-at-end", a->stop_at_end,
                "Exit 0 once the archive has caught up with the server");
  cmd->add_option("--slot", a->slot,
                  "PostgreSQL: physical replication slot to stream through, created with "
                  "RESERVE_WAL if missing (default pitr)");
  cmd->add_flag("--no-slot", a->no_slot, "PostgreSQL: stream without a replication slot");
  cmd->add_option("--application-name", a->application_name,
                  "PostgreSQL: application_name, as named in synchronous_standby_names "
                  "(default pitr)");
  cmd->add_flag("--accept-gap", a->accept_gap,
                "When the server no longer has the binlog or WAL the archive needs (capture "
                "exited 3): keep the gap on record and go on from the oldest the server has "
                "(MySQL: or --start-file)");
  cmd->add_option("--end-lsn", a->end_lsn, "PostgreSQL: exit 0 once archived through this LSN");
  cmd->add_option("--status-interval", a->status_interval,
                  "PostgreSQL: seconds between status updates to the server (default 10)")
      ->check(CLI::PositiveNumber);
  return [a] { return run_capture(*a); };
}

}  // namespace pitr::tools
