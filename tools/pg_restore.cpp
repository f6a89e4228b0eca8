#include "tools/pg_restore.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "formats/iso_time.hpp"
#include "replay/postgres/pg_data_restore.hpp"
#include "tools/commands.hpp"

namespace pitr::tools {
namespace {

namespace fs = std::filesystem;
using Kind = replay::PgRestoreTarget::Kind;

replay::PgRestoreTarget make_target(const PgRestoreArgs& a) {
  replay::PgRestoreTarget t;
  t.source = a.source_id;
  t.timeline = a.timeline;
  if (a.to_time) {
    t.kind = Kind::kTime;
    t.time = parse_iso_time_micros(*a.to_time);
  } else if (a.to_lsn) {
    t.kind = Kind::kLsn;
    t.lsn = postgres::parse_lsn(*a.to_lsn);
  } else if (a.to_xid) {
    t.kind = Kind::kXid;
    t.xid = *a.to_xid;
  } else if (a.to_name) {
    t.kind = Kind::kName;
    t.name = *a.to_name;
  } else if (a.immediate) {
    t.kind = Kind::kImmediate;
  }
  return t;
}

std::string restore_command(const fs::path& archive, const std::string& source) {
  auto self = fs::read_symlink("/proc/self/exe");
  return fmt::format(
      "{} wal-fetch --archive {} --source {} %f %p", replay::shell_quote(self.string()),
      replay::shell_quote(fs::absolute(archive).string()), replay::shell_quote(source));
}

}  // namespace

int run_pg_restore(const PgRestoreArgs& a) {
  archive::ArchiveLayout layout(a.archive);
  layout.check_exists();
  auto plan = replay::plan_pg_restore(layout, make_target(a));
  fmt::print(stderr, "plan: {}\n", plan.description);
  if (a.dry_run) return kExitOk;
  auto started = std::chrono::steady_clock::now();
  replay::PgDataOptions o;
  o.pgdata = fs::absolute(a.pgdata);
  o.restore_command = restore_command(a.archive, plan.source_id);
  o.run_as = a.run_as.empty() && ::geteuid() == 0 ? "postgres" : a.run_as;
  o.progress = ::isatty(STDERR_FILENO);
  for (const auto& m : a.tablespace_map) {
    auto eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
      throw std::invalid_argument("--tablespace-map wants OLD=NEW, got " + m);
    o.tablespace_map[m.substr(0, eq)] = m.substr(eq + 1);
  }
  auto written = replay::write_restored_pgdata(plan, o);
  fmt::print(stderr, "wrote base backup {} ({} files) into {} with recovery settings\n",
             plan.backup.id, written.files, o.pgdata.string());
  if (!a.start) {
    fmt::print(stderr,
               "start the server on it to recover (recovery.signal is set), or run pitr "
               "restore with --start\n");
    return kExitOk;
  }
  replay::PgServerStart s;
  s.pgdata = o.pgdata;
  s.pg_version = written.pg_version;
  s.port = a.port;
  s.run_as = o.run_as;
  s.progress = o.progress;
  auto stopped = replay::start_restored_server(s);
  fmt::print(stderr, "recovered and promoted in {:.1f} s; the server listens on 127.0.0.1:{}\n{}\n",
             std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
             a.port, stopped.empty() ? "" : "server log: " + stopped);
  return kExitOk;
}

}  // namespace pitr::tools
