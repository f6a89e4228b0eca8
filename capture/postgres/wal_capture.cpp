#include "capture/postgres/wal_capture.hpp"

#include <fmt/format.h>

#include <ctime>
#include <functional>
#include <utility>

#include "archive/gap_record.hpp"
#include "capture/capture_fatal.hpp"
#include "capture/capture_supervisor.hpp"
#include "capture/postgres/replication_stream.hpp"
#include "capture/postgres/wal_writer.hpp"
#include "capture/stop_signal.hpp"
#include "formats/postgres/timeline_history.hpp"

namespace pitr::capture {
namespace {

namespace asio = boost::asio;
using postgres::Lsn;
using postgres::TimelineId;
using Clock = std::chrono::steady_clock;

struct ServerState {
  std::uint64_t system_identifier = 0, segment_size = 0;
  TimelineId timeline = 0;
  Lsn xlogpos = 0;
};

struct SlotState {
  Lsn restart_lsn = 0;
  TimelineId restart_timeline = 0;
};

ServerState identify(PgConnection& conn) {
  auto r = conn.exec("IDENTIFY_SYSTEM");
  ServerState s;
  s.system_identifier = std::stoull(PQgetvalue(r.get(), 0, 0));
  s.timeline = static_cast<TimelineId>(std::stoul(PQgetvalue(r.get(), 0, 1)));
  s.xlogpos = postgres::parse_lsn(PQgetvalue(r.get(), 0, 2));
  auto size = conn.exec("SHOW wal_segment_size");
  s.segment_size = parse_postgres_size(PQgetvalue(size.get(), 0, 0));
  if (!postgres::valid_segment_size(s.segment_size))
    throw CaptureFatal(fmt::format("the server reports wal_segment_size {}, which pitr does not "
                                   "understand",
                                   s.segment_size),
                       1);
  return s;
}

std::optional<SlotState> read_slot(PgConnection& conn, const std::string& slot) {
  auto r = conn.exec("READ_REPLICATION_SLOT " + conn.quote_identifier(slot));
  if (PQntuples(r.get()) == 0 || PQgetisnull(r.get(), 0, 0)) return std::nullopt;
  if (std::string(PQgetvalue(r.get(), 0, 0)) != "physical")
    throw CaptureFatal(fmt::format("replication slot {} is a {} slot; pitr needs a physical one "
                                   "(choose another name with --slot)",
                                   slot, PQgetvalue(r.get(), 0, 0)),
                       1);
  SlotState s;
  if (!PQgetisnull(r.get(), 0, 1)) s.restart_lsn = postgres::parse_lsn(PQgetvalue(r.get(), 0, 1));
  if (!PQgetisnull(r.get(), 0, 2))
    s.restart_timeline = static_cast<TimelineId>(std::stoul(PQgetvalue(r.get(), 0, 2)));
  return s;
}

// `renew_lost`: a slot the server invalidated (max_slot_wal_keep_size) is dropped and made
// again, so that it keeps WAL from now on.
SlotState ensure_slot(PgConnection& conn, const std::string& slot, bool renew_lost, bool& created) {
  created = false;
  if (auto s = read_slot(conn, slot)) {
    if (s->restart_lsn || !renew_lost) return *s;
    conn.exec("DROP_REPLICATION_SLOT " + conn.quote_identifier(slot));
  }
  conn.exec("CREATE_REPLICATION_SLOT " + conn.quote_identifier(slot) + " PHYSICAL RESERVE_WAL");
  created = true;
  auto s = read_slot(conn, slot);
  if (!s) throw PgError("replication slot " + slot + " vanished right after it was created");
  return *s;
}

std::string fetch_history(PgConnection& conn, TimelineId timeline) {
  auto r = conn.exec(fmt::format("TIMELINE_HISTORY {}", timeline));
  return std::string(PQgetvalue(r.get(), 0, 1),
                     static_cast<std::size_t>(PQgetlength(r.get(), 0, 1)));
}

std::int64_t postgres_now() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return postgres::unix_micros_to_postgres(us.count());
}

void log_line(const WalCaptureOptions& o, const std::string& message) {
  if (!o.quiet) fmt::print(stderr, "pitr capture: {}\n", message);
}

class Session {
 public:
  Session(const WalCaptureOptions& o, PgConnection& conn, asio::io_context& io, StopSignal& stop,
          WalWriter& writer, std::uint64_t segment_size)
      : o_(o),
        conn_(conn),
        stream_(conn, io),
        stop_(stop),
        writer_(writer),
        segment_size_(segment_size) {
    stop_.on_stop([this] { stream_.cancel(); });
  }
  ~Session() { stop_.on_stop(nullptr); }

  // Returns true when an end condition (--stop-at-end, --end-lsn) was reached. Calls
  // `on_streaming` once the server sends WAL: it had the start point.
  bool run(WalPosition position, std::function<void()> on_streaming) {
    timeline_ = position.timeline;
    start(position.lsn);
    while (!stop_.requested()) {
      auto item = stream_.next(deadline());
      if (!std::holds_alternative<NothingYet>(item)) last_received_ = Clock::now();
      bool archiving = std::holds_alternative<postgres::XLogData>(item);
      if (archiving && on_streaming) std::exchange(on_streaming, nullptr)();
      if (auto* d = std::get_if<postgres::XLogData>(&item)) {
        writer_.note_server_end(d->wal_end);
        writer_.write(timeline_, d->start, d->data);
        if (reached_end(d->wal_end)) return true;
      } else if (auto* k = std::get_if<postgres::Keepalive>(&item)) {
        writer_.note_server_end(k->wal_end);
        if (k->reply_requested) report(false);
        if (reached_end(k->wal_end)) return true;
      } else if (auto* e = std::get_if<TimelineEnd>(&item)) {
        switch_timeline(*e);
      } else {
        auto silent = Clock::now() - last_received_;
        if (silent >= 3 * o_.heartbeat)
          throw PgError(
              fmt::format("no answer from the server for {} s (a network cut, or a "
                          "frozen server)",
                          std::chrono::duration_cast<std::chrono::seconds>(silent).count()));
        report(o_.stop_at_end || silent >= o_.heartbeat);  // a reply proves the link alive
      }
    }
    report(false);
    return false;
  }

 private:
  void start(Lsn lsn) {
    auto ended = stream_.start(timeline_, lsn, o_.slot);
    while (ended) ended = switch_timeline(*ended);
    last_sync_ = last_status_ = last_received_ = Clock::now();
  }

  std::optional<TimelineEnd> switch_timeline(const TimelineEnd& e) {
    writer_.end_timeline();
    writer_.store_history(e.next_timeline, fetch_history(conn_, e.next_timeline));
    log(fmt::format("timeline {} ended at {}; continuing on timeline {}", timeline_,
                    postgres::format_lsn(e.next_start), e.next_timeline));
    timeline_ = e.next_timeline;
    auto ended =
        stream_.start(timeline_, postgres::segment_start(e.next_start, segment_size_), o_.slot);
    last_sync_ = last_status_ = Clock::now();
    return ended;
  }

  Clock::time_point deadline() const {
    bool dirty = writer_.written() > writer_.synced();
    if (o_.sync && dirty) return Clock::now();
    auto d = last_status_ + o_.status_interval;
    if (dirty) d = std::min(d, last_sync_ + std::chrono::seconds(1));
    if (o_.stop_at_end) d = std::min(d, last_status_ + std::chrono::seconds(1));
    return std::min(d, std::max(last_received_, last_status_) + o_.heartbeat);
  }

  bool reached_end(Lsn server_end) {
    bool end = (o_.end_lsn && writer_.written() >= *o_.end_lsn) ||
               (o_.stop_at_end && writer_.written() >= server_end);
    if (end) report(false);
    return end;
  }

  // Makes what arrived durable, then tells the server how far that is.
  void report(bool ask_reply) {
    auto flushed = writer_.sync();
    last_sync_ = last_status_ = Clock::now();
    stream_.send_status({writer_.written(), flushed, 0, postgres_now(), ask_reply});
  }

  void log(const std::string& message) const { log_line(o_, message); }

  const WalCaptureOptions& o_;
  PgConnection& conn_;
  ReplicationStream stream_;
  StopSignal& stop_;
  WalWriter& writer_;
  std::uint64_t segment_size_;
  TimelineId timeline_ = 0;
  Clock::time_point last_sync_, last_status_, last_received_;
};

// The server is on a newer timeline than the archive (it was promoted, or restored from
// this archive): where the archive's timeline ended in the server's history decides where
// to go on. When the archive already holds the old timeline past that point, that WAL stays
// (it is the old timeline's history) and capture continues on the child timeline.
WalPosition follow_branch(PgConnection& conn, const ServerState& server, WalWriter& writer,
                          WalPosition at) {
  if (server.timeline <= at.timeline) return at;
  auto history = postgres::parse_timeline_history(fetch_history(conn, server.timeline));
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (history[i].parent != at.timeline) continue;
    auto child = i + 1 < history.size() ? history[i + 1].parent : server.timeline;
    if (at.lsn < history[i].switch_point) return at;  // the server streams up to the switch
    writer.end_timeline();
    if (child != server.timeline) writer.store_history(child, fetch_history(conn, child));
    return {child, postgres::segment_start(history[i].switch_point, server.segment_size)};
  }
  throw CaptureFatal(fmt::format("the server's timeline {} does not descend from the archive's "
                                 "timeline {}; start a new archive for it",
                                 server.timeline, at.timeline),
                     1);
}

// SQLSTATEs that say what a failure is, in whatever language the server speaks.
constexpr const char* kUndefinedFile = "58P01";  // "requested WAL segment ... removed"
constexpr const char* kInsufficientPrivilege = "42501";
constexpr const char* kInvalidCatalogName = "3D000";

// Credentials, pg_hba.conf, the REPLICATION attribute, a database that does not exist:
// retrying will not help.
bool is_refusal(const PgError& e) {
  const auto& code = e.sqlstate();
  return code.starts_with("28") || code == kInsufficientPrivilege || code == kInvalidCatalogName;
}

// The PostgreSQL side of the capture supervisor: one replication session at a time.
class WalEngine : public CaptureEngine {
 public:
  explicit WalEngine(const WalCaptureOptions& o) : o_(o) {}

  bool run_session(SessionContext& ctx) override {
    std::optional<WalWriter> writer;
    archived_ = 0;
    position_ = {};
    replicating_ = false;
    try {
      PgConnection conn(o_.endpoint, true);
      // As silent as the stream may be (Session::run): a server frozen between the commands
      // before streaming must not hang capture.
      conn.set_answer_timeout(3 * o_.heartbeat);
      auto server = identify(conn);
      archive::WalSource source{archive::wal_source_id(server.system_identifier),
                                server.system_identifier, server.segment_size};
      ctx.identified(source.source_id, conn.describe());
      source_id_ = source.source_id;
      archive::remember_wal_source(ctx.archive, source);
      writer.emplace(ctx.archive, source, o_.compression);
      auto resume = writer->recover();
      if (server.timeline > 1 && !writer->has_history(server.timeline))
        writer->store_history(server.timeline, fetch_history(conn, server.timeline));
      std::string slot_note = "without a replication slot";
      std::optional<SlotState> slot;
      if (!o_.slot.empty()) {
        bool created = false;
        slot = ensure_slot(conn, o_.slot, ctx.after_gap, created);
        slot_note = fmt::format(
            "{} slot {} ({})", created ? "created" : "using", o_.slot,
            slot->restart_lsn
                ? fmt::format("retains {} MiB of WAL",
                              (server.xlogpos - std::min(server.xlogpos, slot->restart_lsn)) >> 20)
                : std::string("invalidated by the server: it keeps no WAL"));
      }
      if (resume && !ctx.after_gap) {
        position_ = follow_branch(conn, server, *writer, *resume);
      } else {
        if (ctx.after_gap) writer->end_timeline();  // the archive's last segment stops at the gap
        auto from = slot && slot->restart_lsn ? slot->restart_lsn : server.xlogpos;
        position_ = {slot && slot->restart_timeline ? slot->restart_timeline : server.timeline,
                     postgres::segment_start(from, server.segment_size)};
      }
      log(fmt::format(
          "connected to PostgreSQL {} (system {}, timeline {}), {}; {} at {} on "
          "timeline {}{}",
          conn.describe(), server.system_identifier, server.timeline, slot_note,
          resume && !ctx.after_gap ? "resuming" : "starting", postgres::format_lsn(position_.lsn),
          position_.timeline, o_.sync ? " (synchronous)" : ""));
      Session session(o_, conn, ctx.io, ctx.stop, *writer, server.segment_size);
      replicating_ = true;
      bool ended = session.run(position_, [&] { ctx.streaming(); });
      writer->finish();
      if (ended)
        log(fmt::format("archived through {}; stopping", postgres::format_lsn(writer->written())));
      return ended;
    } catch (...) {
      if (writer) {
        archived_ = writer->written();
        writer->finish();
      }
      throw;
    }
  }

  Verdict classify(const std::exception& failure, bool ever_connected) const override {
    const auto* e = dynamic_cast<const PgError*>(&failure);
    if (!e) return Verdict::fatal();  // the archive itself failed: nothing to retry against
    // A file missing for START_REPLICATION or the stream is WAL; before, it is something else
    // (a timeline history), worth another try.
    if (e->sqlstate() == kUndefinedFile && replicating_) return Verdict::gap();
    if (!ever_connected && (o_.stop_at_end || o_.end_lsn || is_refusal(*e)))
      return Verdict::fatal();
    return Verdict::retry();
  }

  archive::GapRecord gap(const std::exception& failure) const override {
    // Where the archive stops (the server may also drop WAL mid-stream without a slot).
    auto at = archived_ ? archived_ : position_.lsn;
    return {source_id_,
            "",
            at,
            postgres::format_lsn(at),
            static_cast<std::uint64_t>(std::time(nullptr)),
            failure.what()};
  }

  std::string gap_help(const archive::GapRecord& gap) const override {
    return fmt::format(
        "The server no longer has the WAL capture needs (from {}); it was "
        "removed while capture was stopped, or the slot was invalidated "
        "(max_slot_wal_keep_size).",
        gap.wanted_file);
  }

 private:
  void log(const std::string& m) const { log_line(o_, m); }

  const WalCaptureOptions& o_;
  std::string source_id_;
  WalPosition position_;
  postgres::Lsn archived_ = 0;  // how far the last session archived
  bool replicating_ = false;    // the last session got as far as START_REPLICATION
};

}  // namespace

void WalCapture::run() {
  WalEngine engine(options_);
  supervise(engine, {options_.archive, options_.lease_time, options_.max_backoff,
                     options_.accept_gap, [&](const std::string& m) { log_line(options_, m); }});
}

}  // namespace pitr::capture
