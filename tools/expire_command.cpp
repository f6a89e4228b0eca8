// pitr expire: removes the base backups a retention policy lets go, then the blocks no
// remaining backup uses (archive/retention.hpp, archive/block_store/block_sweep.hpp).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>

#include "archive/log_retention.hpp"
#include "archive/pending_backup.hpp"
#include "archive/retention.hpp"
#include "formats/iso_time.hpp"
#include "tools/archive_options.hpp"
#include "tools/commands.hpp"
#include "tools/duration_option.hpp"
#include "tools/usage_error.hpp"

namespace pitr::tools {
namespace {

struct ExpireArgs {
  ArchiveArgs archive;
  std::optional<std::size_t> keep, keep_full;
  std::optional<std::string> recovery_window;
  bool dry_run = false, keep_log = false;
};

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

archive::RetentionPolicy policy_of(const ExpireArgs& a) {
  archive::RetentionPolicy p;
  p.keep = a.keep;
  p.keep_full = a.keep_full;
  if (a.recovery_window)
    p.recovery_window = parse_option("--recovery-window", *a.recovery_window,
                                     "a duration like 14d or 36h", parse_duration);
  try {
    archive::check_policy(p);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  return p;
}

void print_backups(const char* verb, const std::vector<archive::BackupSummary>& list) {
  for (const auto& b : list)
    fmt::print("{} {} ({} {} backup of {}, consistent at {})\n", verb, b.id, b.engine, b.type,
               b.source_id, format_iso_time(b.consistent_at / 1000000));
}

void print_sweep(const archive::SweepReport& r, bool dry_run) {
  std::string outcome = "deleted";
  if (dry_run)
    outcome = "nothing changed (dry run)";
  else if (r.deferred())
    outcome = fmt::format(
        "condemned, to be deleted by an expire run while no backup is in progress (backup {} "
        "is now; new backups already leave them out)",
        fmt::join(r.deferred_by, ", "));
  fmt::print(
      "block store: {} packs; {} no longer needed ({:.1f} MiB), {} of them repacked first "
      "({:.1f} MiB of blocks still used copied into new packs){}; {}\n",
      r.packs, r.doomed.size(), r.doomed_bytes / 1048576.0, r.repacked,
      r.repacked_bytes / 1048576.0,
      r.revived ? fmt::format(", {} condemned packs revived", r.revived) : "", outcome);
}

void expire_logs(const archive::Archive& archive, const std::set<std::string>& gone, bool dry_run) {
  // A diff or incr being taken reads the log from its parent's start, which may be about to go.
  if (auto running = archive::backups_in_progress(archive); !running.empty()) {
    fmt::print(
        "log: kept, since backup {} is in progress; the next expire removes what no kept "
        "backup needs\n",
        fmt::join(running, ", "));
    return;
  }
  auto logs = archive::logs_to_expire(archive, gone);
  if (logs.empty())
    fmt::print("log: all of it is still needed, from each source's oldest kept backup on\n");
  for (const auto& log : logs) {
    fmt::print(
        "log of {} source {}: {} {} ({:.1f} MiB of log) {}; kept from {} on, which its "
        "oldest kept backup needs\n",
        log.engine, log.source_id, log.files,
        fmt::format("{}{}", log.engine == "mysql" ? "binlog file" : "WAL segment",
                    log.files == 1 ? "" : "s"),
        log.log_bytes / 1048576.0, dry_run ? "would be removed" : "removed", log.kept_from);
    if (!dry_run) archive::remove_expired_log(archive, log);
  }
}

int run_expire(const ExpireArgs& a) {
  auto policy = policy_of(a);
  auto archive = open_archive(a.archive, SpoolUse::kNone);
  archive.check_exists();
  if (!a.dry_run) archive::remove_abandoned_backups(archive);
  auto backups = archive::summarize_backups(archive);
  auto expired = archive::backups_to_expire(backups, policy, now_us());
  std::set<std::string> gone;
  for (const auto& b : expired) gone.insert(b.id);
  print_backups(a.dry_run ? "would expire" : "expire", expired);
  fmt::print("{} of {} backups {}kept\n", backups.size() - expired.size(), backups.size(),
             a.dry_run ? "would be " : "");
  if (!a.dry_run)
    for (const auto& b : expired) archive::remove_complete_backup(archive, b.id);
  auto hooks = archive::retention_sweep_hooks(archive, a.dry_run ? gone : std::set<std::string>{});
  auto report = archive::sweep_blocks(archive.store(), hooks, {.dry_run = a.dry_run});
  print_sweep(report, a.dry_run);
  if (!a.keep_log) expire_logs(archive, a.dry_run ? gone : std::set<std::string>{}, a.dry_run);
  return kExitOk;
}

}  // namespace

CommandRunner add_expire_command(CLI::App& app) {
  auto a = std::make_shared<ExpireArgs>();
  auto* cmd = app.add_subcommand(
      "expire",
      "Remove the base backups a retention policy lets go, then the stored blocks no remaining "
      "backup uses, then the archived log from before each source's oldest kept backup. Every "
      "backup is complete on its own: expiring one never breaks another");
  add_archive_options(cmd, a->archive, SpoolUse::kNone);
  auto* keep = cmd->add_option("--keep", a->keep, "Keep the N newest backups of any type");
  auto* keep_full = cmd->add_option(
      "--keep-full", a->keep_full,
      "Keep the N newest full backups and every backup newer than the oldest of them");
  auto* window =
      cmd->add_option("--recovery-window", a->recovery_window,
                      "Keep what restoring to any moment this far back needs (14d, 36h, 90m)");
  cmd->add_flag("--keep-log", a->keep_log,
                "Keep the archived binlog and WAL from before the oldest kept backup (for audits; "
                "no restore can start there any more)");
  cmd->add_flag("--dry-run", a->dry_run, "Say what would be removed; remove nothing");
  keep->excludes(keep_full)->excludes(window);
  keep_full->excludes(window);
  return [a] { return run_expire(*a); };
}

}  // namespace pitr::tools
