#include "capture/mysql/binlog_capture.hpp"

#include <fmt/format.h>

#include <ctime>
#include <functional>
#include <utility>

#include "archive/gap_record.hpp"
#include "capture/capture_supervisor.hpp"
#include "capture/mysql/binlog_stream.hpp"
#include "capture/mysql/server_identity.hpp"
#include "formats/binlog/checksum.hpp"
#include "formats/binlog/event_bodies.hpp"
#include "formats/binlog/event_types.hpp"

namespace pitr::capture {

namespace asio = boost::asio;
using binlog::EventType;

namespace {

constexpr std::uint16_t kErrMasterFatalReadingBinlog = 1236;
constexpr std::size_t kKeptPrefix = 4096;  // bytes of a huge event kept for the tracker

// Errors about the account that retrying cannot fix: access denied (1044, 1045, 1227, 1698),
// host not allowed (1130), authentication plugin not supported (1251), password expired
// (1862), account locked (3118, MariaDB 4151).
bool is_refusal(std::uint16_t code) {
  for (std::uint16_t refusal : {1044, 1045, 1130, 1227, 1251, 1698, 1862, 3118, 4151})
    if (code == refusal) return true;
  return false;
}

void log(const std::string& message) {
  fmt::print(stderr, "pitr capture: {}\n", message);
}

bool is_type(const binlog::EventHeader& h, EventType t) {
  return h.type == static_cast<std::uint8_t>(t);
}

// Checks a binlog event's CRC32 while its bytes pass through in pieces.
class StreamingChecksum {
 public:
  StreamingChecksum(std::uint32_t event_size, bool enabled)
      : size_(event_size), enabled_(enabled) {}
  void update(Bytes piece) {
    if (!enabled_) return;
    auto body_end = size_ - binlog::kChecksumSize;
    auto start = seen_;
    seen_ += piece.size();
    if (start < body_end)
      crc_.update(piece.first(std::min<std::uint64_t>(piece.size(), body_end - start)));
    for (auto pos = std::max(start, body_end); pos < seen_; ++pos)
      tail_[pos - body_end] = piece[pos - start];
  }
  void check(const binlog::EventHeader& h, const std::string& file, std::uint64_t offset) const {
    if (!enabled_) return;
    auto stored = static_cast<std::uint32_t>(load_le(tail_, 4));
    if (stored != crc_.value())
      throw ConnectionError(fmt::format(
          "checksum mismatch in {} at {}:{} received from the server (stored {:08x}, computed "
          "{:08x}); the event was not archived",
          binlog::event_type_name(h.type), file, offset, stored, crc_.value()));
  }

 private:
  std::uint64_t size_;
  bool enabled_;
  std::uint64_t seen_ = 0;
  binlog::EventCrc crc_;
  std::uint8_t tail_[4] = {};
};

// One replication session: turns the event stream into archive writes.
class Session {
 public:
  Session(const ServerIdentity& server, SegmentWriter& writer, const LogPosition& start,
          bool gtid_start, std::function<void()> on_first_event)
      : on_first_event_(std::move(on_first_event)),
        writer_(writer),
        wait_for_gtid_(gtid_start),
        pending_file_(start.file),
        pending_position_(start.offset) {
    fd_.checksum = server.binlog_checksum == "CRC32" ? binlog::ChecksumAlgorithm::kCrc32
                                                     : binlog::ChecksumAlgorithm::kOff;
  }

  // Returns when a non-blocking dump caught up.
  void run(BinlogStream& stream, const StopSignal& stop, bool non_blocking) {
    while (!stop.requested()) {
      auto ev = stream.next_event();
      if (!ev && non_blocking) return;
      if (!ev) throw ConnectionError("the server ended the binlog stream (shutting down?)");
      handle(stream, *ev);
      if (auto sealed = writer_.take_sealed())
        log(fmt::format("sealed {} [{}, {}): {} events, {} transactions", sealed->file,
                        sealed->start, sealed->end, sealed->events, sealed->transactions));
    }
  }

 private:
  void handle(BinlogStream& stream, const EventStart& ev) {
    const auto& h = ev.header;
    if (is_type(h, EventType::kHeartbeat) || is_type(h, EventType::kHeartbeatV2)) {
      writer_.tick();
      return;
    }
    if (is_type(h, EventType::kRotate) && (h.artificial() || h.log_pos == 0)) {
      on_fake_rotate(ev);
      return;
    }
    if (is_type(h, EventType::kFormatDescription)) {
      fd_ = binlog::decode_format_description(ev.first);
      fde_raw_.assign(ev.first.begin(), ev.first.end());
      if (h.log_pos == 0) return;  // re-sent for a replica starting mid-file: not part of it
    }
    if (h.artificial()) return;  // e.g. MariaDB's fake GTID_LIST
    write_event(stream, ev);
  }

  void on_fake_rotate(const EventStart& ev) {
    auto data = ev.first.first(ev.first.size() - fd_.checksum_size());
    auto rotate = binlog::decode_rotate(data, binlog::FormatDescription{});
    pending_file_ = rotate.next_file;
    pending_position_ = rotate.position;
    if (pending_file_ == writer_.file() && !writer_.file_ended() &&
        pending_position_ != writer_.end())
      throw ConnectionError(fmt::format("the server resumes {} at {}, the archive ends at {}",
                                        pending_file_, pending_position_, writer_.end()));
  }

  void start_file_if_needed(const binlog::EventHeader& h) {
    if (writer_.file() == pending_file_ && !writer_.file_ended()) return;
    if (writer_.file() == pending_file_)
      throw ConnectionError(
          fmt::format("the server continued after the end of {} without "
                      "naming the next binlog file",
                      pending_file_));
    std::uint64_t start = h.log_pos ? h.log_pos - h.event_size : pending_position_;
    writer_.begin_file(pending_file_, start <= 4 ? 0 : start);
    if (start > 4) log(fmt::format("archiving {} from offset {}", pending_file_, start));
  }

  static bool is_gtid(const binlog::EventHeader& h) {
    return is_type(h, EventType::kMariaGtid) || is_type(h, EventType::kGtid) ||
           is_type(h, EventType::kAnonymousGtid) || is_type(h, EventType::kGtidTagged);
  }

  void write_event(BinlogStream& stream, const EventStart& ev) {
    const auto& h = ev.header;
    if (on_first_event_) std::exchange(on_first_event_, nullptr)();
    if (wait_for_gtid_) {
      // A dump positioned by GTID first repeats the file's header events, then jumps to
      // the first transaction to send: the archive starts at that transaction.
      if (!is_gtid(h)) return skip(stream, ev);
      if (h.log_pos == 0)
        throw CaptureFatal(
            "the server does not say where the first transaction after "
            "--start-gtid lies in its binlog (end_log_pos 0); start with "
            "--start-file/--start-pos instead",
            1);
      wait_for_gtid_ = false;
    }
    start_file_if_needed(h);
    if (!fde_raw_.empty()) writer_.note_format_description(fde_raw_);
    auto offset = writer_.end();
    if (h.log_pos != 0 && h.log_pos != offset + h.event_size)
      throw ConnectionError(fmt::format(
          "{} event at {}:{} says it ends at {}, expected {}: the stream skipped or repeated bytes",
          binlog::event_type_name(h.type), writer_.file(), offset, h.log_pos,
          offset + h.event_size));
    StreamingChecksum crc(h.event_size, fd_.checksum == binlog::ChecksumAlgorithm::kCrc32);
    crc.update(ev.first);
    writer_.append(ev.first);
    Bytes first = ev.first;
    if (ev.more) {
      prefix_.assign(ev.first.begin(), ev.first.begin() + std::min(ev.first.size(), kKeptPrefix));
      first = prefix_;
      while (auto chunk = stream.next_chunk()) {
        crc.update(*chunk);
        writer_.append(*chunk);
      }
    }
    crc.check(h, writer_.file(), offset);
    writer_.end_event(h, first, fd_);
    if (is_type(h, EventType::kRotate)) {
      auto rotate = binlog::decode_rotate(first.first(first.size() - fd_.checksum_size()), fd_);
      pending_file_ = rotate.next_file;
      pending_position_ = rotate.position;
    }
  }

  static void skip(BinlogStream& stream, const EventStart& ev) {
    if (ev.more)
      while (stream.next_chunk()) {
      }
  }

  std::function<void()> on_first_event_;
  SegmentWriter& writer_;
  bool wait_for_gtid_;
  std::string pending_file_;
  std::uint64_t pending_position_;
  binlog::FormatDescription fd_;
  std::vector<std::uint8_t> prefix_;
  std::vector<std::uint8_t> fde_raw_;  // the last FORMAT_DESCRIPTION_EVENT received
};

// The MySQL/MariaDB side of the capture supervisor: one replication session at a time.
class BinlogEngine : public CaptureEngine {
 public:
  explicit BinlogEngine(const CaptureOptions& o) : o_(o) {}

  bool run_session(SessionContext& ctx) override {
    std::optional<SegmentWriter> writer;
    archived_ = {};
    wanted_ = {};
    try {
      MysqlConnection connection(ctx.io, o_.endpoint, &ctx.stop);
      auto server = identify_server(connection);
      ctx.identified(server.source_id(), fmt::format("{}:{} ({})", o_.endpoint.host,
                                                     o_.endpoint.port, server.describe()));
      source_id_ = server.source_id();
      writer.emplace(ctx.archive, source_id_, o_.policy);
      auto resume = writer->recover();
      DumpRequest request{o_.replica_server_id, "", 4, std::nullopt, o_.stop_at_end, o_.heartbeat};
      LogPosition position;
      if (resume && !ctx.after_gap) {
        position = *resume;
      } else if (o_.start_position) {
        position = *o_.start_position;
      } else if (o_.start_gtid) {
        request.gtid = o_.start_gtid;
      } else {
        auto logs = list_binlogs(connection);
        if (logs.empty()) throw CaptureFatal("the server lists no binary logs", 1);
        position = {logs.front(), 4};
      }
      wanted_ = position;
      request.file = position.file;
      request.position = position.offset;
      log(fmt::format("connected to {}{}; {}", server.describe(),
                      connection.tls_active() ? " over " + connection.tls_cipher() : "",
                      request.gtid ? "starting at GTID " + *request.gtid
                                   : fmt::format("{} at {}:{}", resume ? "resuming" : "starting",
                                                 position.file, position.offset)));
      BinlogStream stream(connection, server, request);
      Session session(server, *writer, position, request.gtid.has_value(),
                      [&] { ctx.streaming(); });
      session.run(stream, ctx.stop, request.non_blocking);
      writer->finish();
      if (ctx.stop.requested()) return false;
      log("caught up with the server; stopping (--stop-at-end)");
      return true;
    } catch (...) {
      if (writer) {
        archived_ = {writer->file(), writer->end()};
        writer->finish();
      }
      throw;
    }
  }

  Verdict classify(const std::exception& failure, bool ever_connected) const override {
    if (const auto* e = dynamic_cast<const ServerError*>(&failure)) {
      if (e->code() == kErrMasterFatalReadingBinlog) return Verdict::gap();
      if (is_refusal(e->code()) && !ever_connected)
        return Verdict::fatal(
            "Check the user and the password (PITR_PASSWORD or --password-file); the user "
            "needs REPLICATION SLAVE and REPLICATION CLIENT (BINLOG MONITOR on MariaDB).");
      return Verdict::retry();
    }
    if (dynamic_cast<const ConnectionError*>(&failure))
      return !ever_connected && o_.stop_at_end ? Verdict::fatal() : Verdict::retry();
    return Verdict::fatal();  // the archive itself failed: nothing to retry against
  }

  archive::GapRecord gap(const std::exception& failure) const override {
    return {source_id_,
            archived_.file,
            archived_.offset,
            wanted_.file,
            static_cast<std::uint64_t>(std::time(nullptr)),
            failure.what()};
  }

  std::string gap_help(const archive::GapRecord& gap) const override {
    return fmt::format(
        "The server no longer has the binlog capture needs ({}:{}); it was "
        "probably purged while capture was stopped.",
        gap.wanted_file, wanted_.offset);
  }

 private:
  const CaptureOptions& o_;
  std::string source_id_;
  LogPosition archived_, wanted_;  // the last session's archive end, and where it asked for
};

}  // namespace

void BinlogCapture::run() {
  BinlogEngine engine(options_);
  supervise(engine, {options_.archive, options_.lease_time, options_.max_backoff,
                     options_.accept_gap, log});
}

}  // namespace pitr::capture
