// pitr restore: base backup + archived binlog, up to a chosen moment.
#include <fmt/format.h>

#include <unistd.h>
#include <chrono>
#include <cstdio>

#include "capture/interruption.hpp"
#include "formats/iso_time.hpp"
#include "replay/backup_loader.hpp"
#include "replay/binlog_applier.hpp"
#include "replay/clickhouse/clickhouse_restore.hpp"
#include "replay/mariadb/physical_restore.hpp"
#include "replay/mariadb/private_server.hpp"
#include "replay/parallel_apply.hpp"
#include "replay/restore_planner.hpp"
#include "tools/commands.hpp"
#include "tools/pg_restore.hpp"
#include "tools/source_options.hpp"
#include "tools/usage_error.hpp"

namespace pitr::tools {
namespace {

struct RestoreArgs {
  SourceArgs target;
  ArchiveArgs archive;
  std::optional<std::string> to_time, to_position, to_gtid, before_gtid, before_match, since,
      source_id, sql_out, backup;
  unsigned jobs = 4;
  bool dry_run = false;
  PgRestoreArgs pg;
  std::string datadir, mariabackup = "mariabackup";
  std::vector<std::string> databases, rename_database;  // ClickHouse
  std::optional<std::string> dictionaries_dir;
};

// --target clickhouse://: a ClickHouse backup onto that server (no log to replay).
int run_clickhouse_restore(const RestoreArgs& a) {
  if (a.to_time || a.to_position || a.to_gtid || a.before_gtid || a.before_match || a.sql_out ||
      a.dry_run)
    throw UsageError(
        "a ClickHouse backup is restored as it was taken: choose it with --backup ID (the "
        "moment options and --sql-out are for MySQL/MariaDB and PostgreSQL)");
  replay::ClickHouseRestoreOptions o;
  o.target = make_clickhouse_endpoint(a.target);
  o.archive = open_archive(a.archive, SpoolUse::kNone);
  o.backup_id = a.backup;
  o.databases = a.databases;
  if (a.dictionaries_dir) o.dictionaries_dir = *a.dictionaries_dir;
  for (const auto& r : a.rename_database) {
    auto eq = r.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == r.size())
      throw UsageError("--rename-database wants OLD=NEW, got '" + r + "'");
    if (!o.rename.emplace(r.substr(0, eq), r.substr(eq + 1)).second)
      throw UsageError("--rename-database names " + r.substr(0, eq) + " twice");
  }
  auto started = std::chrono::steady_clock::now();
  auto r = replay::restore_clickhouse(o);
  fmt::print(stderr,
             "restored: ClickHouse backup {}: {} databases, {} tables, {} parts ({:.1f} MiB), {} "
             "rows, each table's rows and content hash checked, in {:.1f} s\n",
             r.backup_id, r.databases, r.tables, r.parts, r.bytes / 1048576.0, r.rows,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return kExitOk;
}

int run_postgres_restore(const RestoreArgs& a) {
  auto pg = a.pg;
  pg.archive = a.archive;
  pg.to_time = a.to_time;
  pg.backup = a.backup;
  pg.dry_run = a.dry_run;
  pg.source_id = a.source_id.value_or("");
  if (a.to_position || a.to_gtid || a.before_gtid || a.before_match || a.sql_out)
    throw UsageError(
        "--to-position, --to-gtid, --before-gtid, --before-match and --sql-out are for MySQL/"
        "MariaDB; with --pgdata use --to-time, --to-lsn, --to-xid, --to-name or --immediate");
  return run_pg_restore(pg);
}

replay::RestoreTarget make_target(const RestoreArgs& a) {
  using Kind = replay::RestoreTarget::Kind;
  replay::RestoreTarget t;
  t.backup = a.backup;
  if (a.to_time) {
    t.kind = Kind::kTime;
    t.time = parse_option("--to-time", *a.to_time, kIsoTimeForm, parse_iso_time);
  } else if (a.to_position) {
    t.kind = Kind::kPosition;
    auto colon = a.to_position->rfind(':');
    auto pos = colon == std::string::npos ? "" : a.to_position->substr(colon + 1);
    t.file = a.to_position->substr(0, colon == std::string::npos ? 0 : colon);
    t.position = parse_option("--to-position", *a.to_position, "FILE:POS, e.g. binlog.000042:1234",
                              [&](const std::string&) {
                                if (t.file.empty() || pos.empty() ||
                                    pos.find_first_not_of("0123456789") != std::string::npos)
                                  throw std::invalid_argument("not FILE:POS");
                                return std::stoull(pos);
                              });
  } else if (a.to_gtid || a.before_gtid) {
    t.kind = a.to_gtid ? Kind::kGtid : Kind::kBeforeGtid;
    t.gtid = a.to_gtid ? *a.to_gtid : *a.before_gtid;
  } else if (a.before_match) {
    t.kind = Kind::kBeforeMatch;
    t.match = replay::ChangeMatch::parse(*a.before_match);
    t.match_text = *a.before_match;
    if (a.since) t.since = parse_option("--since", *a.since, kIsoTimeForm, parse_iso_time);
  }
  return t;
}

// Parallel replay unless --jobs 1 asks for strict serial order, or the target's
// gtid_strict_mode would refuse the out-of-order binlogging that parallel commits can give.
std::unique_ptr<replay::StatementTarget> make_replay_target(const capture::MysqlEndpoint& endpoint,
                                                            unsigned jobs) {
  if (jobs > 1) {
    capture::SqlSession probe(endpoint, "restore target");
    auto strict = probe.scalar("SELECT @@log_bin AND @@gtid_strict_mode");
    if (strict && *strict == "1") {
      fmt::print(stderr,
                 "the target binlogs with gtid_strict_mode=ON: applying the binlog serially\n");
      jobs = 1;
    }
  }
  if (jobs == 1) return std::make_unique<replay::SessionTarget>(endpoint);
  fmt::print(stderr, "applying independent transactions on {} sessions\n", jobs);
  return std::make_unique<replay::ParallelSessionTarget>(endpoint, jobs);
}

// The archive's binlog catalog and the plan for the restore the command line asks for, from a
// backup of `method`; the plan is printed.
std::pair<archive::BinlogArchive, replay::RestorePlan> plan_for(const RestoreArgs& a,
                                                                const char* method) {
  auto target = make_target(a);  // a bad command line is told before the archive is read
  target.method = method;
  archive::BinlogArchive catalog(open_archive(a.archive, SpoolUse::kOptional, /*read_ahead=*/true));
  auto plan = replay::plan_restore(catalog, target, a.source_id);
  fmt::print(stderr, "{}", replay::describe_plan(plan));
  return {std::move(catalog), std::move(plan)};
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Applies the plan's archived binlog to a server holding its base backup.
replay::ReplayStats apply_binlog(const archive::BinlogArchive& catalog,
                                 const replay::RestorePlan& plan,
                                 const capture::MysqlEndpoint& endpoint, unsigned jobs) {
  auto started = std::chrono::steady_clock::now();
  auto target = make_replay_target(endpoint, jobs);
  std::function<void(const replay::ReplayStats&)> progress;
  if (::isatty(STDERR_FILENO))
    progress = [&](const replay::ReplayStats& s) {
      fmt::print(stderr, "\rapplied {} of {} transactions", s.transactions, plan.transactions);
    };
  auto stats = replay::replay_binlog(catalog, plan, *target, progress);
  if (progress) fmt::print(stderr, "\n");
  if (auto* parallel = dynamic_cast<replay::ParallelSessionTarget*>(target.get()))
    fmt::print(stderr, "{} transaction(s) applied in parallel on {} sessions, {} alone\n",
               parallel->parallel(), jobs, parallel->alone());
  fmt::print(stderr, "applied the binlog in {:.2f} s\n", seconds_since(started));
  return stats;
}

std::string binlog_basename(const std::string& file) {
  auto dot = file.rfind('.');
  return dot == std::string::npos || dot == 0 ? file : file.substr(0, dot);
}

// A private server on the prepared --datadir applies the plan's binlog; with --start it is
// left running, otherwise shut down cleanly.
replay::ReplayStats roll_forward(const RestoreArgs& a, const archive::BinlogArchive& catalog,
                                 const replay::RestorePlan& plan, const std::string& server_options,
                                 const std::string& run_as) {
  // Never 3306 by default: this runs on the database host, beside the production server.
  auto port = a.pg.port ? *a.pg.port : replay::free_loopback_port();
  fmt::print(stderr, "starting a server on {} (127.0.0.1:{})\n", a.datadir, port);
  replay::PrivateMariadb server({.datadir = a.datadir,
                                 .port = port,
                                 .run_as = run_as,
                                 .server_options = server_options,
                                 .binlog_basename = binlog_basename(plan.backup.binlog_file),
                                 .outlives_pitr = a.pg.start});
  if (!plan.backup.gtid_position.empty()) server.continue_gtid_state(plan.backup.gtid_position);
  auto stats = apply_binlog(catalog, plan, server.endpoint(), a.jobs);
  if (a.pg.start) {
    server.release();
    fmt::print(stderr, "the restored server runs on 127.0.0.1:{} (its accounts are the source's)\n",
               port);
  } else {
    server.shutdown();
  }
  return stats;
}

// --datadir: a MariaDB physical backup rebuilt and prepared into DIR, then, for a moment
// after it, rolled forward by a private server on DIR.
int run_physical_restore(const RestoreArgs& a) {
  if (a.sql_out || !a.target.source.empty())
    throw UsageError(
        "--datadir restores a physical backup into a directory; --target and "
        "--sql-out restore a logical one: give one of them");
  if (a.pg.to_lsn || a.pg.to_xid || a.pg.to_name || a.pg.immediate || !a.pg.tablespace_map.empty())
    throw UsageError(
        "--to-lsn, --to-xid, --to-name, --immediate and --tablespace-map are for PostgreSQL; "
        "with --datadir use --to-time, --to-position, --to-gtid, --before-gtid or "
        "--before-match");
  auto [catalog, plan] = plan_for(a, "physical");
  if (a.dry_run) return kExitOk;
  const auto& archive = catalog.archive();
  auto started = std::chrono::steady_clock::now();
  auto run_as = a.pg.run_as.empty() && ::geteuid() == 0 ? "mysql" : a.pg.run_as;
  auto files = replay::restore_physical_backup(
      archive, plan.backup,
      {.datadir = a.datadir, .run_as = run_as, .mariabackup = a.mariabackup, .progress = true});
  fmt::print(stderr, "rebuilt and prepared {} files of backup {} in {:.1f} s\n", files.files,
             plan.backup.id, seconds_since(started));
  replay::ReplayStats stats;
  try {
    capture::InterruptibleScope interruptible;  // the private server stops on a signal
    if (plan.transactions > 0 || a.pg.start)
      stats = roll_forward(a, catalog, plan, files.server_options, run_as);
  } catch (const std::exception& e) {
    replay::discard_restored_files(a.datadir);
    throw std::runtime_error(
        fmt::format("{} ({} is empty again: the backup is restored only "
                    "together with the binlog up to the target)",
                    e.what(), a.datadir));
  }
  fmt::print(
      stderr,
      "restored: physical backup {} plus {} transaction(s) ({} events) into {} in {:.1f} s\n",
      plan.backup.id, stats.transactions, stats.events, a.datadir, seconds_since(started));
  return kExitOk;
}

int run_restore(const RestoreArgs& a) {
  if (is_clickhouse_source(a.target)) return run_clickhouse_restore(a);
  if (!a.databases.empty() || !a.rename_database.empty() || a.dictionaries_dir)
    throw UsageError(
        "--databases, --rename-database and --dictionaries-dir are for a ClickHouse --target");
  if (!a.pg.pgdata.empty()) return run_postgres_restore(a);
  if (!a.datadir.empty()) return run_physical_restore(a);
  if (a.pg.to_lsn || a.pg.to_xid || a.pg.to_name || a.pg.immediate || a.pg.start)
    throw UsageError(
        "--to-lsn, --to-xid, --to-name, --immediate and --start restore PostgreSQL and need "
        "--pgdata DIR (--start also a MariaDB physical backup, with --datadir DIR)");
  auto [catalog, plan] = plan_for(a, "logical");
  if (a.dry_run) return kExitOk;
  const auto& archive = catalog.archive();
  auto started = std::chrono::steady_clock::now();
  replay::ReplayStats stats;
  if (a.sql_out) {
    std::unique_ptr<std::FILE, decltype(&std::fclose)> out(std::fopen(a.sql_out->c_str(), "wb"),
                                                           &std::fclose);
    if (!out) throw std::runtime_error("cannot create " + *a.sql_out);
    replay::write_backup_script(archive, plan.backup, out.get());
    replay::ScriptTarget script(out.get());
    stats = replay::replay_binlog(catalog, plan, script);
  } else {
    if (a.target.source.empty())
      throw UsageError("--target mysql://USER@HOST:PORT is required (or --sql-out FILE)");
    auto endpoint = make_endpoint(a.target);
    replay::check_target_empty(plan.backup, endpoint);
    fmt::print(stderr, "loading base backup {} with {} sessions...\n", plan.backup.id, a.jobs);
    replay::load_backup(archive, plan.backup, endpoint, a.jobs);
    auto loaded = std::chrono::steady_clock::now();
    fmt::print(stderr, "loaded the base backup in {:.2f} s; applying the archived binlog...\n",
               std::chrono::duration<double>(loaded - started).count());
    stats = apply_binlog(catalog, plan, endpoint, a.jobs);
  }
  auto seconds = seconds_since(started);
  fmt::print(stderr, "restored: base backup {} plus {} transaction(s) ({} events) in {:.1f} s{}\n",
             plan.backup.id, stats.transactions, stats.events, seconds,
             a.sql_out ? " (written to " + *a.sql_out + ")" : "");
  return kExitOk;
}

}  // namespace

CommandRunner add_restore_command(CLI::App& app) {
  auto a = std::make_shared<RestoreArgs>();
  auto* cmd = app.add_subcommand(
      "restore",
      "Restore to a moment in the archive: the newest base backup before it, then the archived "
      "log up to it. With no target option: everything archived.\n"
      "MySQL/MariaDB: --target a server (or --sql-out) from a logical backup, or --datadir a new "
      "data directory from a MariaDB physical one; PostgreSQL: --pgdata a new data directory "
      "(add --start to recover and promote it); ClickHouse: --target clickhouse://... a "
      "backup onto that server, run on its host.\n"
      "Binlog times have one-second resolution; --before-gtid or --before-match name a moment "
      "precisely.");
  add_archive_options(cmd, a->archive, SpoolUse::kOptional);
  add_source_options(cmd, a->target, "--target", false);
  auto* t1 = cmd->add_option("--to-time", a->to_time,
                             "Every transaction committed at or before this time (ISO 8601, UTC "
                             "unless an offset is given)");
  auto* t2 = cmd->add_option("--to-position", a->to_position,
                             "FILE:POS: the end (or start) of a transaction, or a position between "
                             "transactions (as SHOW MASTER STATUS gives it)");
  auto* t3 = cmd->add_option("--to-gtid", a->to_gtid, "Through this transaction");
  auto* t4 = cmd->add_option("--before-gtid", a->before_gtid, "Stop right before this transaction");
  auto* t5 = cmd->add_option("--before-match", a->before_match,
                             "Stop right before the first transaction that matches "
                             "KIND[:DB.TABLE] (as pitr find --match)");
  cmd->add_option("--since", a->since, "With --before-match: look from this time on")->needs(t5);
  auto& pg = a->pg;
  auto* pgdata = cmd->add_option("--pgdata", pg.pgdata,
                                 "PostgreSQL: new or empty data directory to restore into");
  auto* datadir = cmd->add_option(
      "--datadir", a->datadir,
      "MariaDB: new or empty data directory to rebuild a physical backup into "
      "(one mariabackup --prepare); for a moment after the backup, a private server "
      "on it applies the archived binlog");
  datadir->excludes(pgdata);
  cmd->add_option("--mariabackup", a->mariabackup,
                  "MariaDB: the mariabackup program (default: mariabackup on PATH)");
  auto* t6 = cmd->add_option("--to-lsn", pg.to_lsn, "PostgreSQL: recover up to this LSN");
  auto* t7 = cmd->add_option("--to-xid", pg.to_xid, "PostgreSQL: recover through this transaction");
  auto* t8 = cmd->add_option("--to-name", pg.to_name,
                             "PostgreSQL: recover to this restore point (pg_create_restore_point)");
  auto* t9 = cmd->add_flag("--immediate", pg.immediate,
                           "PostgreSQL: stop as soon as the base backup is consistent");
  cmd->add_option("--backup", a->backup,
                  "Start from this base backup (pitr status lists them) instead of the newest "
                  "one consistent before the target");
  cmd->add_option("--timeline", pg.timeline,
                  "PostgreSQL: recover along this timeline (default: "
                  "the newest archived)");
  cmd->add_flag("--start", pg.start,
                "PostgreSQL: start the server and wait until recovery reached the target and the "
                "server is promoted. MariaDB (--datadir): leave the restored server running");
  cmd->add_option("--port", pg.port,
                  "Port of the restored server on 127.0.0.1 (default: PostgreSQL 5432; MariaDB "
                  "a free one, printed)");
  cmd->add_option("--run-as", pg.run_as,
                  "OS user owning the restored data directory and running the server (default "
                  "when root: postgres, or mysql for MariaDB)");
  cmd->add_option("--tablespace-map", pg.tablespace_map,
                  "PostgreSQL: OLD=NEW, restore the tablespace at OLD into NEW (repeatable)");
  std::vector<CLI::Option*> targets{t1, t2, t3, t4, t5, t6, t7, t8, t9};
  for (auto* x : targets)
    for (auto* y : targets)
      if (x != y) x->excludes(y);
  cmd->add_option("--source-id", a->source_id, "Which source, when the archive has several");
  cmd->add_option("--databases", a->databases,
                  "ClickHouse: restore these databases of the backup only (comma-separated)")
      ->delimiter(',');
  cmd->add_option("--rename-database", a->rename_database,
                  "ClickHouse: OLD=NEW restores database OLD as NEW, every DDL that names it "
                  "rewritten (repeatable)");
  cmd->add_option("--dictionaries-dir", a->dictionaries_dir,
                  "ClickHouse: the target's dictionaries_config directory; the backup's "
                  "dictionary files are written there (without it they are listed and skipped)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--jobs", a->jobs,
                  "Sessions loading the base backup and applying independent transactions "
                  "(default 4); 1 applies the binlog strictly in order on one session")
      ->check(CLI::Range(1, 64));
  cmd->add_flag("--dry-run", a->dry_run, "Print the plan only");
  cmd->add_option("--sql-out", a->sql_out,
                  "Write the restore as a SQL script for the mysql/mariadb client instead of "
                  "applying it");
  return [a] { return run_restore(*a); };
}

}  // namespace pitr::tools
