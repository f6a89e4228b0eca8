#include "replay/postgres/pg_restore_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "archive/file_io.hpp"
#include "formats/iso_time.hpp"
#include "formats/postgres/timeline_history.hpp"
#include "formats/postgres/wal_scanner.hpp"

namespace pitr::replay {
namespace {

using archive::WalSegmentRecord;
using postgres::Lsn;
using postgres::TimelineId;
using Kind = PgRestoreTarget::Kind;

struct Step {
  TimelineId timeline = 0;
  Lsn begin = 0;  // first LSN on this timeline
};

// What recovery along one timeline history can read, from a starting LSN on.
class WalView {
 public:
  WalView(const archive::WalSourceListing& l, TimelineId timeline) : l_(l) {
    std::vector<postgres::TimelineSwitch> history;
    if (timeline > 1) {
      auto it = l.histories.find(timeline);
      if (it == l.histories.end())
        throw std::runtime_error(fmt::format(
            "the archive lacks the history file of timeline {} ({}); capture stores it when it "
            "follows a timeline switch",
            timeline, postgres::history_file_name(timeline)));
      history = postgres::parse_timeline_history(it->second);
    }
    Lsn begin = 0;
    for (const auto& h : history) {
      chain_.push_back({h.parent, begin});
      begin = h.switch_point;
    }
    chain_.push_back({timeline, begin});
    for (const auto& p : l.pieces()) files_[{p.timeline, p.segment}] = p;
  }

  std::uint64_t size() const { return l_.source.segment_size; }

  // The file recovery reads for `segment`: the newest timeline that began at or before it.
  const archive::WalPiece* file_for(std::uint64_t segment) const {
    for (auto it = chain_.rbegin(); it != chain_.rend(); ++it) {
      if (postgres::segment_of(it->begin, size()) > segment) continue;
      auto f = files_.find({it->timeline, segment});
      if (f != files_.end()) return &f->second;
    }
    return nullptr;
  }

  // Walks the contiguous WAL from `from`; calls `each` per segment file; returns the end.
  template <typename Each>
  Lsn walk(Lsn from, Each&& each) const {
    Lsn end = from;
    for (auto s = postgres::segment_of(from, size());; ++s) {
      const auto* f = file_for(s);
      if (!f) break;
      each(*f);
      end = f->end;
      if (f->end != (s + 1) * size()) break;
    }
    return end;
  }

 private:
  const archive::WalSourceListing& l_;
  std::vector<Step> chain_;
  std::map<std::pair<TimelineId, std::uint64_t>, archive::WalPiece> files_;
};

// Transaction ends and restore points in the WAL of one piece.
void scan_events(const archive::WalSourceListing& l, const archive::WalPiece& piece,
                 const postgres::WalEventSink& sink) {
  postgres::WalScanner scanner(l.source.segment_size);
  Lsn at = piece.start;
  l.read(piece, [&](Bytes b) {
    scanner.feed(at, b, sink);
    at += b.size();
  });
}

const archive::WalSourceListing& pick_source(const std::vector<archive::WalSourceListing>& all,
                                             const std::string& wanted) {
  if (all.empty()) throw std::runtime_error("the archive holds no PostgreSQL WAL");
  for (const auto& l : all)
    if (l.source.source_id == wanted) return l;
  if (!wanted.empty()) throw std::runtime_error("the archive holds no WAL of " + wanted);
  if (all.size() > 1)
    throw std::runtime_error(
        "the archive holds WAL of several PostgreSQL systems; name one with --source");
  return all.front();
}

TimelineId newest_timeline(const archive::WalSourceListing& l) {
  auto pieces = l.pieces();
  return pieces.empty() ? 1 : pieces.back().timeline;
}

std::string describe_backup(const archive::PgBackupManifest& b) {
  return fmt::format("backup {} (consistent at {}, {})", b.id, postgres::format_lsn(b.end_lsn),
                     format_postgres_time(b.finished_at));
}

// A stretch of contiguous WAL read from a backup's start, and its newest commit time.
struct Stretch {
  Lsn start = 0, end = 0;
  std::optional<std::int64_t> last_time;
};

// Reads one piece for what locates the target: commit times, the xid, the restore point.
void find_target(const archive::WalSourceListing& listing, const archive::WalPiece& f,
                 const PgRestoreTarget& t, std::optional<std::int64_t>& last_time,
                 std::optional<Lsn>& target_lsn) {
  if (f.record && t.kind == Kind::kTime) {  // the index has the times
    if (f.record->last_commit_time)
      last_time = std::max(last_time.value_or(0), *f.record->last_commit_time);
    return;
  }
  if (f.record && t.kind == Kind::kName) {
    for (const auto& p : f.record->restore_points)
      if (p.name == t.name && !target_lsn) target_lsn = p.lsn;
    return;
  }
  if (target_lsn) return;
  scan_events(listing, f, [&](const postgres::WalEvent& e) {
    if (e.kind == postgres::WalEventKind::kRestorePoint) {
      if (t.kind == Kind::kName && e.name == t.name && !target_lsn) target_lsn = e.lsn;
      return;
    }
    if (t.kind == Kind::kTime)
      last_time = std::max(last_time.value_or(0), postgres::postgres_to_unix_micros(e.time));
    if (t.kind == Kind::kXid && e.xid == t.xid && !target_lsn) target_lsn = e.lsn;
  });
}

// A time target after the last commit before a gap: what happened in the lost WAL before
// that time cannot be known.
void refuse_time_in_gap(const std::vector<Stretch>& stretches, const archive::PgBackupManifest& b,
                        std::int64_t time) {
  // Stretches begin at backup starts, in order: b's is the last one beginning at or before it.
  auto next = std::upper_bound(stretches.begin(), stretches.end(), b.start_lsn,
                               [](Lsn lsn, const Stretch& s) { return lsn < s.start; });
  if (next == stretches.begin() || next == stretches.end()) return;  // no gap after b's WAL
  const auto& s = *std::prev(next);
  if (s.last_time && time <= *s.last_time) return;
  throw std::runtime_error(fmt::format(
      "{} falls in a gap: the archive lacks the WAL after {} (see pitr status), so what "
      "committed before that moment cannot be known. Restorable: up to {}, or from {} on",
      format_postgres_time(time), postgres::format_lsn(s.end),
      s.last_time ? format_postgres_time(*s.last_time) : "the backup's end",
      postgres::format_lsn(next->start)));
}

}  // namespace

std::string conf_quote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

PgRestorePlan plan_pg_restore(const archive::Archive& archive, const PgRestoreTarget& t) {
  auto sources = archive::list_wal_sources(archive);
  const auto& listing = pick_source(sources, t.source);
  PgRestorePlan plan;
  plan.source_id = listing.source.source_id;
  plan.timeline = t.timeline.value_or(newest_timeline(listing));
  WalView view(listing, plan.timeline);

  std::vector<archive::PgBackupManifest> backups;
  for (auto& b : archive::list_pg_backups(archive))
    if (b.source_id == plan.source_id) backups.push_back(std::move(b));
  if (backups.empty())
    throw std::runtime_error("the archive holds no base backup of " + plan.source_id +
                             "; take one with pitr backup");
  if (t.backup) {
    std::erase_if(backups, [&](const auto& b) { return b.id != *t.backup; });
    if (backups.empty())
      throw std::runtime_error(fmt::format(
          "the archive holds no PostgreSQL base backup {} of {} (pitr status lists them)",
          *t.backup, plan.source_id));
  }

  // Where the target lies, in WAL, when that can be known before choosing a backup. Each
  // stretch of contiguous WAL that a backup starts in is read once (a gap ends a stretch).
  std::optional<Lsn> target_lsn;
  std::vector<Stretch> stretches;
  if (t.kind == Kind::kLsn) target_lsn = t.lsn;
  if (t.kind == Kind::kXid || t.kind == Kind::kName || t.kind == Kind::kTime) {
    for (const auto& b : backups) {
      if (!stretches.empty() && b.start_lsn < stretches.back().end) continue;
      Stretch stretch{b.start_lsn, b.start_lsn, std::nullopt};
      stretch.end = view.walk(b.start_lsn, [&](const archive::WalPiece& f) {
        find_target(listing, f, t, stretch.last_time, target_lsn);
      });
      stretches.push_back(stretch);
    }
    if (t.kind == Kind::kXid && !target_lsn)
      throw std::runtime_error(fmt::format(
          "transaction {} does not commit or abort in the archived WAL after the oldest backup",
          t.xid));
    if (t.kind == Kind::kName && !target_lsn)
      throw std::runtime_error(
          fmt::format("no restore point named '{}' in the archived WAL after the oldest backup "
                      "(create one with SELECT pg_create_restore_point('{}'))",
                      t.name, t.name));
    std::optional<std::int64_t> last_time;
    for (const auto& st : stretches)
      if (st.last_time) last_time = std::max(last_time.value_or(0), *st.last_time);
    if (t.kind == Kind::kTime && (!last_time || t.time > *last_time))
      throw std::runtime_error(fmt::format(
          "{} is after the newest transaction in the archive ({}); restore to the latest state "
          "instead (no target), or wait for capture to archive more",
          format_postgres_time(t.time), last_time ? format_postgres_time(*last_time) : "none"));
  }

  // The newest backup consistent before the target whose WAL reaches it.
  for (auto it = backups.rbegin(); it != backups.rend(); ++it) {
    const auto& b = *it;
    if (t.kind == Kind::kTime && b.finished_at > t.time) continue;
    if (target_lsn && b.end_lsn > *target_lsn) continue;
    if (t.kind == Kind::kTime) refuse_time_in_gap(stretches, b, t.time);
    auto end = view.walk(b.start_lsn, [](const archive::WalPiece&) {});
    if (end < b.end_lsn)
      throw std::runtime_error(fmt::format(
          "the archive lacks WAL between {} and {} that {} needs to become consistent; is "
          "capture running?",
          postgres::format_lsn(end), postgres::format_lsn(b.end_lsn), describe_backup(b)));
    plan.backup = b;
    plan.archive_end = end;
    break;
  }
  if (plan.backup.id.empty())
    throw std::runtime_error(fmt::format(
        "no base backup is consistent before the target; the {} is {}",
        t.backup ? "one chosen with --backup" : "oldest", describe_backup(backups.front())));
  plan.target_lsn = target_lsn.value_or(plan.archive_end);
  if (plan.target_lsn > plan.archive_end)
    throw std::runtime_error(fmt::format(
        "the target {} lies beyond the WAL archived after {} (it ends at {}{})",
        postgres::format_lsn(plan.target_lsn), describe_backup(plan.backup),
        postgres::format_lsn(plan.archive_end),
        view.file_for(postgres::segment_of(plan.archive_end, view.size()) + 1) ? ", then a gap"
                                                                               : ""));

  std::string target_line, what;
  switch (t.kind) {
    case Kind::kLatest:
      what = "the end of the archived WAL";
      break;
    case Kind::kImmediate:
      target_line = "recovery_target = 'immediate'";
      what = "the moment the backup became consistent";
      break;
    case Kind::kTime:
      target_line = "recovery_target_time = " + conf_quote(format_postgres_time(t.time));
      what = format_postgres_time(t.time);
      break;
    case Kind::kLsn:
      target_line = "recovery_target_lsn = " + conf_quote(postgres::format_lsn(t.lsn));
      what = "LSN " + postgres::format_lsn(t.lsn);
      break;
    case Kind::kXid:
      target_line = fmt::format("recovery_target_xid = '{}'", t.xid);
      what =
          fmt::format("transaction {} (ends at {})", t.xid, postgres::format_lsn(plan.target_lsn));
      break;
    case Kind::kName:
      target_line = "recovery_target_name = " + conf_quote(t.name);
      what = fmt::format("restore point '{}' ({})", t.name, postgres::format_lsn(plan.target_lsn));
      break;
  }
  if (!target_line.empty()) plan.recovery_settings += target_line + "\n";
  plan.recovery_settings += t.timeline
                                ? fmt::format("recovery_target_timeline = '{}'\n", *t.timeline)
                                : "recovery_target_timeline = 'latest'\n";
  plan.recovery_settings += "recovery_target_action = 'promote'\n";
  plan.description =
      fmt::format("{} of {}, then WAL on timeline {} to {} (archive holds WAL to {})",
                  describe_backup(plan.backup), plan.source_id, plan.timeline, what,
                  postgres::format_lsn(plan.archive_end));
  return plan;
}

}  // namespace pitr::replay
