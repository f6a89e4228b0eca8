#include "replay/restore_planner.hpp"

#include <fmt/format.h>

#include <set>

#include "archive/binlog_name.hpp"
#include "formats/iso_time.hpp"
#include "replay/transaction_finder.hpp"

namespace pitr::replay {

bool position_less(const LogPoint& a, const LogPoint& b) {
  if (a.file != b.file) return archive::binlog_name_less(a.file, b.file);
  return a.offset < b.offset;
}

std::string RestoreTarget::describe() const {
  switch (kind) {
    case Kind::kLatest:
      return "everything the archive holds";
    case Kind::kTime:
      return "transactions committed at or before " + format_iso_time(time);
    case Kind::kPosition:
      return fmt::format("binlog position {}:{}", file, position);
    case Kind::kGtid:
      return "through GTID " + gtid;
    case Kind::kBeforeGtid:
      return "just before GTID " + gtid;
    case Kind::kBeforeMatch:
      return "just before the first " + match_text + " transaction" +
             (since ? " since " + format_iso_time(*since) : "");
  }
  return "";
}

namespace {

std::string which_source(const archive::BinlogArchive& archive,
                         const std::optional<std::string>& source_id) {
  std::vector<std::string> sources;
  for (const auto& log : archive.logs())
    if (sources.empty() || sources.back() != log.source_id) sources.push_back(log.source_id);
  if (source_id) {
    if (std::find(sources.begin(), sources.end(), *source_id) == sources.end())
      throw PlanError("the archive has no binlogs of source " + *source_id);
    return *source_id;
  }
  if (sources.empty()) throw PlanError("the archive holds no binlogs yet: nothing to restore");
  if (sources.size() > 1)
    throw PlanError(fmt::format("the archive holds several sources ({}); name one with --source-id",
                                fmt::join(sources, ", ")));
  return sources.front();
}

// The newest moment capture is known to have been up to date: when it last wrote.
std::int64_t last_capture_time(const archive::BinlogArchive& archive, const std::string& source) {
  std::int64_t latest = 0;
  for (const auto& log : archive.logs()) {
    if (log.source_id != source) continue;
    for (const auto& s : log.segments) latest = std::max<std::int64_t>(latest, s.record.sealed_at);
    for (const auto& p : log.partials) latest = std::max(latest, p.file->modified_at());
  }
  return latest;
}

// The source's logs from `from` on: no restore needs what lies before its oldest backup, so
// the planner reads none of it (in object storage, every log read is downloaded).
std::function<bool(const archive::ArchivedLog&)> logs_from(const std::string& source_id,
                                                           const std::optional<LogPoint>& from) {
  return [source_id, from](const archive::ArchivedLog& log) {
    return log.source_id == source_id &&
           (!from || !archive::binlog_name_less(log.file, from->file));
  };
}

// The source's complete backups, oldest first.
std::vector<archive::BackupManifest> backups_of(const archive::BinlogArchive& archive,
                                                const std::string& source_id) {
  auto all = archive::list_backups(archive.archive());
  std::erase_if(all, [&](const auto& b) { return b.source_id != source_id; });
  return all;
}

LogPoint position_of(const archive::BackupManifest& b) {
  return {b.binlog_file, b.binlog_position};
}

// Where the planner starts reading: the log before the one the source's oldest base backup
// is consistent in (the transaction that ends at the backup's position may be there), if the
// source has a backup.
std::optional<LogPoint> oldest_position(const std::vector<archive::BackupManifest>& backups) {
  std::optional<LogPoint> oldest;
  for (const auto& b : backups)
    if (!oldest || position_less(position_of(b), *oldest)) oldest = position_of(b);
  return oldest;
}

std::optional<LogPoint> oldest_backup(const archive::BinlogArchive& archive,
                                      const std::string& source_id,
                                      const std::vector<archive::BackupManifest>& backups) {
  auto oldest = oldest_position(backups);
  if (!oldest) return oldest;
  const archive::ArchivedLog* before = nullptr;
  for (const auto* log : archive.logs_of(source_id))
    if (archive::binlog_name_less(log->file, oldest->file)) before = log;
  return before ? LogPoint{before->file, 0} : oldest;
}

// Counts, during the planner's one walk over the archive, how many of the walked
// transactions start before each backup's position, so that what a plan applies is known
// once its backup is chosen, without a second walk and in memory that does not grow with
// the archive. Transactions are added in archive order.
class StartCounter {
 public:
  explicit StartCounter(const std::vector<archive::BackupManifest>& backups) {
    for (const auto& b : backups) positions_.push_back(position_of(b));
    std::sort(positions_.begin(), positions_.end(), position_less);
  }
  void add(const TransactionRecord& r) {
    LogPoint start{r.file, r.start};
    while (before_.size() < positions_.size() && !position_less(start, positions_[before_.size()]))
      before_.push_back(started_);
    ++started_;
  }
  std::uint64_t started() const { return started_; }
  // How many walked transactions start before `backup`'s position (after the walk).
  std::uint64_t started_before(const LogPoint& backup) const {
    for (std::size_t i = 0; i < positions_.size(); ++i)
      if (!position_less(positions_[i], backup) && !position_less(backup, positions_[i]))
        return i < before_.size() ? before_[i] : started_;
    throw std::logic_error("a backup the planner did not count");
  }

 private:
  std::vector<LogPoint> positions_;    // sorted
  std::vector<std::uint64_t> before_;  // per position reached so far
  std::uint64_t started_ = 0;
};

// A position that is no transaction's start or end stops at `last` (the transaction before
// it) or before `next` (the one after it). That is right only if no data changes between
// them and the position: it must lie in the sealed part of its file (segments are sealed at
// transaction boundaries; the open tail may hold a transaction not yet complete), and with
// nothing after it archived, in the file of the transaction before it (the files between
// could be missing or hold a recorded gap).
void check_between(const archive::ArchivedLog& log, const RestoreTarget& t,
                   const TransactionRecord& chosen, bool stop_before) {
  bool boundary = chosen.file == t.file && (chosen.start == t.position || chosen.end == t.position);
  if (boundary || (stop_before && chosen.file == t.file)) return;  // archived around it
  if (t.position > log.sealed_end())
    throw PlanError(fmt::format(
        "{}:{} is beyond the sealed part of {} (offset {}); give a transaction's end (`pitr "
        "find` lists them) or wait until capture seals the segment",
        t.file, t.position, t.file, log.sealed_end()));
  if (!stop_before && chosen.file != t.file)
    throw PlanError(fmt::format(
        "{}:{} is after the last archived transaction, which ends at {}:{}; restore to that "
        "position instead",
        t.file, t.position, chosen.file, chosen.end));
}

// Where a walked transaction lies against a --to-position target.
enum class AgainstPosition { kBefore, kEndsAt, kAtOrAfter };

AgainstPosition against_position(const TransactionRecord& r, const RestoreTarget& t) {
  if (r.file == t.file && r.end == t.position) return AgainstPosition::kEndsAt;
  if (r.file == t.file && r.start < t.position && t.position < r.end)
    throw PlanError(fmt::format(
        "{}:{} is inside transaction {} ({}:{} to {}); give its start to stop before it or its "
        "end to include it (`pitr find` lists transactions)",
        t.file, t.position, r.gtid.value_or("(no GTID)"), r.file, r.start, r.end));
  // At its start, or between it and the one before (after a Binlog_checkpoint, say, or where
  // SHOW MASTER STATUS stood): what lies between them changes no data, so stopping before it
  // is stopping there.
  if (!position_less({r.file, r.start}, {t.file, t.position})) return AgainstPosition::kAtOrAfter;
  return AgainstPosition::kBefore;
}

// What the walk found about the transactions before the stop point.
struct WalkResult {
  std::uint64_t started_before_stop = 0;  // walked transactions that start before it
  std::uint32_t last_commit_time = 0;     // of the last of them
};

// The backup --to-gtid G names by its GTID position: one of a MariaDB server with a single
// replication domain whose last transaction is G (so nothing after G is in it), of the
// method asked for (and the backup asked for, if one is). Its own position becomes the
// plan's stop, even when G lies in an earlier binlog file or before what the archive keeps.
const archive::BackupManifest* stop_where_backup_ends(
    const std::vector<archive::BackupManifest>& backups, const RestoreTarget& t,
    RestorePlan& plan) {
  if (t.kind != RestoreTarget::Kind::kGtid) return nullptr;
  for (const auto& b : backups)
    if (b.gtid_position == t.gtid && b.method == t.method && (!t.backup || b.id == *t.backup) &&
        b.gtid_position.find_first_of(",:") == std::string::npos) {
      plan.stop = position_of(b);
      plan.stop_reason =
          fmt::format("stops where base backup {} ends: with transaction {}", b.id, t.gtid);
      return &b;
    }
  return nullptr;
}

// Resolves the target to a stop point by walking the archived transactions from about the
// oldest backup on (a target before it cannot be restored anyway), counting their starts.
WalkResult resolve_stop(const archive::BinlogArchive& archive, const RestoreTarget& t,
                        RestorePlan& plan, const std::vector<archive::BackupManifest>& backups,
                        StartCounter& counter) {
  using Kind = RestoreTarget::Kind;
  std::optional<TransactionRecord> chosen;
  bool stop_before = false, later_exists = false;
  std::uint64_t chosen_index = 0;
  std::uint32_t previous_commit = 0, commit_before_chosen = 0;
  if (stop_where_backup_ends(backups, t, plan)) return {};  // nothing walked, none applied
  auto from = oldest_backup(archive, plan.source_id, backups);
  const archive::ArchivedLog* target_log = nullptr;
  if (t.kind == Kind::kPosition) {
    target_log = &archive.find(t.file, plan.source_id);  // refuses a file it does not hold
    if (from && position_less({t.file, t.position}, *from)) {
      auto oldest = *oldest_position(backups);
      throw PlanError(fmt::format("{}:{} is before the oldest base backup ({}:{})", t.file,
                                  t.position, oldest.file, oldest.offset));
    }
  }
  for_each_transaction(
      archive,
      [&](const TransactionRecord& r) {
        auto index = counter.started();
        auto commit_before = std::exchange(previous_commit, r.commit_time);
        counter.add(r);
        auto choose = [&](bool before) {
          chosen = r;
          stop_before = before;
          chosen_index = index;
          commit_before_chosen = commit_before;
        };
        switch (t.kind) {
          case Kind::kLatest:
            choose(false);
            break;
          case Kind::kTime:
            if (r.commit_time > t.time) {
              later_exists = true;
              return false;
            }
            choose(false);
            break;
          case Kind::kPosition: {
            auto where = against_position(r, t);
            choose(where == AgainstPosition::kAtOrAfter);  // before it: the last one so far
            if (where != AgainstPosition::kBefore) return false;
            break;
          }
          case Kind::kGtid:
          case Kind::kBeforeGtid:
            if (r.gtid == t.gtid) {
              choose(t.kind == Kind::kBeforeGtid);
              return false;
            }
            break;
          case Kind::kBeforeMatch:
            if (t.since && r.commit_time < *t.since) break;
            for (const auto& c : r.changes)
              if (t.match->matches(c)) {
                choose(true);
                return false;
              }
            break;
        }
        return true;
      },
      logs_from(plan.source_id, from));
  if (!chosen) {
    auto after =
        from ? fmt::format(" after the oldest base backup ({}:{})", from->file, from->offset)
             : std::string();
    switch (t.kind) {
      case Kind::kTime:
        if (from)
          throw PlanError(fmt::format(
              "no base backup is consistent at or before {}: the archive of {} has no "
              "transaction committed by then from {} on, where its oldest base backup lies; "
              "take backups regularly with `pitr backup`",
              format_iso_time(t.time), plan.source_id, from->file));
        throw PlanError(fmt::format(
            "no archived transaction was committed at or before {}: the target is before the "
            "archive",
            format_iso_time(t.time)));
      case Kind::kPosition:
        throw PlanError(
            fmt::format("{}:{} is not the start or end of an archived transaction{} (list them "
                        "with `pitr find`)",
                        t.file, t.position, after));
      case Kind::kBeforeMatch:
        throw PlanError(fmt::format("no archived transaction{} matches {}", after, t.match_text));
      default:
        throw PlanError(
            fmt::format("the archive has no transaction with GTID {}{}", t.gtid, after));
    }
  }
  if (target_log) check_between(*target_log, t, *chosen, stop_before);
  if (t.kind == Kind::kTime && !later_exists && t.time > last_capture_time(archive, plan.source_id))
    throw PlanError(
        fmt::format("{} is after the archive's end (its last transaction was "
                    "committed at {}, and capture has seen nothing later); omit the "
                    "target to restore everything archived",
                    format_iso_time(t.time), format_iso_time(chosen->commit_time)));
  plan.stop = {chosen->file, stop_before ? chosen->start : chosen->end};
  WalkResult walk;
  walk.started_before_stop = stop_before ? chosen_index : chosen_index + 1;
  walk.last_commit_time = stop_before ? commit_before_chosen : chosen->commit_time;
  plan.stop_reason =
      fmt::format("{} transaction {} at {}:{} committed {}",
                  stop_before ? "stops before" : "includes", chosen->gtid.value_or("(no GTID)"),
                  chosen->file, chosen->start, format_iso_time(chosen->commit_time));
  return walk;
}

void choose_backup(const std::vector<archive::BackupManifest>& backups,
                   const std::optional<std::string>& wanted, const std::string& method,
                   RestorePlan& plan) {
  std::optional<archive::BackupManifest> best;
  std::string oldest;
  for (const auto& b : backups) {
    if (wanted && b.id != *wanted) continue;
    if (b.method != method) {
      if (wanted)
        throw PlanError(fmt::format(
            "base backup {} is {}: restore it with {}", b.id, b.method,
            b.method == "physical" ? "--datadir DIR" : "--target mysql://... or --sql-out FILE"));
      continue;
    }
    auto at = position_of(b);
    if (wanted && position_less(plan.stop, at))
      throw PlanError(fmt::format(
          "base backup {} is consistent at {}:{}, after the target; choose an older backup or "
          "a later target",
          b.id, at.file, at.offset));
    if (oldest.empty())
      oldest = fmt::format(" (the oldest is {} at {}:{})", b.id, at.file, at.offset);
    if (position_less(plan.stop, at)) continue;
    if (!best || position_less(position_of(*best), at)) best = b;
  }
  if (!best && wanted)
    throw PlanError(
        fmt::format("the archive holds no MySQL/MariaDB base backup {} of {} (pitr "
                    "status lists them)",
                    *wanted, plan.source_id));
  if (!best)
    throw PlanError(
        fmt::format("no {}base backup of {} is consistent before the target{}; take "
                    "backups regularly with `pitr backup{}`",
                    method == "physical" ? "physical " : "", plan.source_id, oldest,
                    method == "physical" ? " --method physical" : ""));
  plan.backup = *best;
}

void check_continuity(const archive::BinlogArchive& archive, RestorePlan& plan) {
  LogPoint from{plan.backup.binlog_file, plan.backup.binlog_position};
  const archive::ArchivedLog* previous = nullptr;
  for (const auto& log : archive.logs()) {
    if (log.source_id != plan.source_id) continue;
    if (archive::binlog_name_less(log.file, from.file)) continue;
    if (archive::binlog_name_less(plan.stop.file, log.file)) break;
    if (!previous) {
      if (log.file != from.file || log.start() > from.offset)
        throw PlanError(
            fmt::format("the archive does not hold {} from offset {}, where backup {} "
                        "is consistent; the binlog between them is missing",
                        from.file, from.offset, plan.backup.id));
    } else if (!previous->complete() || log.start() != 0 ||
               (previous->next_file && *previous->next_file != log.file)) {
      throw PlanError(
          fmt::format("the archive has a gap between {} and {}: a segment is missing, "
                      "so no restore can cross it (`pitr verify` lists it)",
                      previous->file, log.file));
    }
    auto expected = log.start();
    for (const auto& s : log.segments) {
      if (s.record.start != expected)
        throw PlanError(
            fmt::format("the archive is missing {} bytes {}..{}: a segment is gone, "
                        "so no restore can cross it (`pitr verify` lists it)",
                        log.file, expected, s.record.start));
      expected = s.record.end;
    }
    plan.files.push_back(log.file);
    previous = &log;
  }
  if (plan.files.empty() || plan.files.back() != plan.stop.file)
    throw PlanError("the archive does not reach the target from backup " + plan.backup.id);
  for (const auto& gap : archive.gaps())
    if (gap.source_id == plan.source_id && !archive::binlog_name_less(gap.after_file, from.file) &&
        archive::binlog_name_less(gap.after_file, plan.stop.file))
      throw PlanError(
          fmt::format("the archive has a recorded gap after {}:{}; no restore can "
                      "cross it",
                      gap.after_file, gap.after_position));
}

// The source of an archive's base backups when it holds none of their binlog (backups
// taken without capture); none when it holds binlog of the source asked for, or any.
std::optional<std::string> source_without_binlog(const archive::BinlogArchive& archive,
                                                 const std::optional<std::string>& source_id) {
  for (const auto& log : archive.logs())
    if (!source_id || log.source_id == *source_id) return std::nullopt;
  std::set<std::string> sources;
  for (const auto& b : archive::list_backups(archive.archive()))
    if (!source_id || b.source_id == *source_id) sources.insert(b.source_id);
  if (sources.size() > 1)
    throw PlanError(
        fmt::format("the archive holds backups of several sources ({}); name one "
                    "with --source-id",
                    fmt::join(sources, ", ")));
  if (sources.empty()) return std::nullopt;
  return *sources.begin();
}

// A backup alone, at its own moment: all there is to restore without the binlog.
RestorePlan backup_alone(const archive::BinlogArchive& archive, const RestoreTarget& target,
                         const std::string& source_id) {
  RestorePlan plan;
  plan.source_id = source_id;
  auto backups = backups_of(archive, source_id);
  if (const auto* b = stop_where_backup_ends(backups, target, plan)) {
    plan.backup = *b;
    return plan;
  }
  if (target.kind != RestoreTarget::Kind::kLatest)
    throw PlanError(fmt::format(
        "the archive holds base backups of {} but none of its binlog (is `pitr capture` "
        "running?): without it only a backup's own moment can be restored; omit the target "
        "(the newest backup) or give --backup ID",
        source_id));
  for (const auto& b : backups)
    if (position_less(plan.stop, position_of(b))) plan.stop = position_of(b);
  choose_backup(backups, target.backup, target.method, plan);
  plan.stop = position_of(plan.backup);
  plan.stop_reason = "the backup alone: the archive holds none of its source's binlog";
  return plan;
}

}  // namespace

RestorePlan plan_restore(const archive::BinlogArchive& archive, const RestoreTarget& target,
                         const std::optional<std::string>& source_id) {
  if (auto alone = source_without_binlog(archive, source_id))
    return backup_alone(archive, target, *alone);
  RestorePlan plan;
  plan.source_id = which_source(archive, source_id);
  auto backups = backups_of(archive, plan.source_id);
  StartCounter counter(backups);
  auto walk = resolve_stop(archive, target, plan, backups, counter);
  choose_backup(backups, target.backup, target.method, plan);
  check_continuity(archive, plan);
  plan.transactions = walk.started_before_stop - counter.started_before(position_of(plan.backup));
  plan.last_commit_time = plan.transactions ? walk.last_commit_time : 0;
  return plan;
}

std::string describe_plan(const RestorePlan& p) {
  return fmt::format(
      "restore plan for source {}:\n"
      "  1. {} base backup {} (consistent at {}:{}, GTID position '{}', taken {})\n"
      "  2. apply {} archived transaction(s) from {}:{} to {}:{} (binlog files {})\n"
      "  target: {}\n",
      p.source_id,
      p.backup.method == "physical" ? "rebuild the data directory of physical" : "load logical",
      p.backup.id, p.backup.binlog_file, p.backup.binlog_position, p.backup.gtid_position,
      format_iso_time(static_cast<std::int64_t>(p.backup.consistent_at)), p.transactions,
      p.backup.binlog_file, p.backup.binlog_position, p.stop.file, p.stop.offset,
      fmt::join(p.files, ", "), p.stop_reason);
}

}  // namespace pitr::replay
