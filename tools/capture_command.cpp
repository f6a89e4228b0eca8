// pitr capture: continuous binlog archiving.
#include <fmt/format.h>

#include <functional>

#include "capture/mysql/binlog_capture.hpp"
#include "tools/commands.hpp"
#include "tools/size_option.hpp"
#include "tools/source_options.hpp"

namespace pitr::tools {
namespace {

struct CaptureArgs {
  SourceArgs source;
  std::string archive, segment_size = "16M";
  std::optional<std::string> start_file, start_gtid;
  std::optional<std::uint64_t> start_pos;
  std::optional<std::uint32_t> server_id;
  unsigned segment_time = 60, heartbeat = 5;
  int compression_level = 3;
  bool sync = false, stop_at_end = false;
};

// A stable default replica id per archive, far from ids DBAs usually assign.
std::uint32_t default_server_id(const std::string& archive) {
  return 0xF0000000u | static_cast<std::uint32_t>(std::hash<std::string>{}(archive)&0x0FFFFFFF);
}

int run_capture(const CaptureArgs& a) {
  capture::CaptureOptions o;
  o.endpoint = make_endpoint(a.source);
  o.archive = a.archive;
  o.replica_server_id = a.server_id.value_or(default_server_id(a.archive));
  o.policy.max_bytes = parse_size(a.segment_size);
  o.policy.max_age = std::chrono::seconds(a.segment_time);
  o.policy.sync_each_transaction = a.sync;
  o.policy.compression_level = a.compression_level;
  o.heartbeat = std::chrono::seconds(a.heartbeat);
  o.stop_at_end = a.stop_at_end;
  if (a.start_file) o.start_position = capture::LogPosition{*a.start_file, a.start_pos.value_or(4)};
  o.start_gtid = a.start_gtid;
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
      "Stream a MySQL/MariaDB server's binlog into the archive until SIGINT/SIGTERM.\n"
      "The password is read from --password-file or the PITR_PASSWORD environment variable.");
  cmd->add_option("--archive", a->archive, "Archive directory (created if missing)")->required();
  add_source_options(cmd, a->source);
  cmd->add_option("--server-id", a->server_id,
                  "Replica server id to register with (default: derived from the archive path)");
  cmd->add_flag("--sync", a->sync, "fsync the open segment at every transaction end");
  cmd->add_option("--segment-size", a->segment_size, "Seal segments at this size (default 16M)");
  cmd->add_option("--segment-time", a->segment_time, "Seal segments at this age in seconds")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--compression-level", a->compression_level, "zstd level (default 3)")
      ->check(CLI::Range(-7, 19));
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
                  "connection is dead (default 5)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--stop-at-end", a->stop_at_end,
                "Exit 0 once the archive has caught up with the server");
  return [a] { return run_capture(*a); };
}

}  // namespace pitr::tools
