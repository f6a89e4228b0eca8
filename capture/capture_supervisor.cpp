#include "capture/capture_supervisor.hpp"

#include <fmt/format.h>

#include "archive/archive_layout.hpp"
#include "capture/capture_fatal.hpp"
#include "capture/sole_writer.hpp"

namespace pitr::capture {

void SessionContext::identified(const std::string& source_id, const std::string& where) {
  if (source_id_ && *source_id_ != source_id)
    throw CaptureFatal(fmt::format("the server at {} is now {}, not {} which this capture "
                                   "started with; start a new capture for it",
                                   where, source_id, *source_id_),
                       1);
  source_id_ = source_id;
  connected_ = true;
}

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{500};

}  // namespace

void supervise(CaptureEngine& engine, const SupervisorOptions& o) {
  boost::asio::io_context io;
  StopSignal stop(io);
  o.archive.create_or_check();
  SoleWriter sole_writer(o.archive, o.lease_time, o.log);
  const auto& archive = sole_writer.archive();
  std::optional<std::string> source_id;
  bool ever_connected = false, after_gap = false;
  auto backoff = kFirstBackoff;
  while (!stop.requested()) {
    SessionContext ctx(io, stop, archive, source_id, after_gap);
    try {
      if (engine.run_session(ctx)) return;
      break;
    } catch (const CaptureFatal&) {
      throw;
    } catch (const std::exception& e) {
      if (stop.requested()) break;
      ever_connected = ever_connected || ctx.is_connected();
      if (ctx.is_streaming()) backoff = kFirstBackoff;
      auto verdict = engine.classify(e, ever_connected);
      if (verdict.kind == Verdict::Kind::kFatal)
        throw CaptureFatal(
            verdict.advice.empty() ? e.what() : fmt::format("{}\n{}", e.what(), verdict.advice), 1);
      if (verdict.kind == Verdict::Kind::kGap) {
        auto gap = engine.gap(e);
        archive::record_gap_once(archive, gap);
        auto recorded = archive.describe() + "/" + archive::layout::gaps_prefix();
        if (!o.accept_gap)
          throw CaptureFatal(fmt::format("{}\n{} The archive now has a gap (recorded in {}). To "
                                         "go on archiving past it, restart capture with "
                                         "--accept-gap, then take a new base backup.",
                                         e.what(), engine.gap_help(gap), recorded),
                             kExitGap);
        if (after_gap && !ctx.is_streaming())  // where it went on is gone as well
          throw CaptureFatal(fmt::format("{}\nThe point capture was to go on from after the gap "
                                         "is gone from the server too; start it from one the "
                                         "server still has (or without a start option, from "
                                         "its oldest).",
                                         e.what()),
                             kExitGap);
        auto stops_at = gap.after_file.empty()
                            ? gap.wanted_file
                            : fmt::format("{}:{}", gap.after_file, gap.after_position);
        o.log(
            fmt::format("--accept-gap: going on past the gap (the archive stops at {}); "
                        "restores cannot cross it, so take a new base backup",
                        stops_at));
        after_gap = true;
        continue;  // at once: the server's oldest point is there now
      }
      o.log(fmt::format("{}; reconnecting in {} ms", e.what(), backoff.count()));
    }
    after_gap = after_gap && !ctx.is_streaming();
    sleep_interruptible(io, stop, backoff);
    backoff = std::min(backoff * 2, o.max_backoff);
  }
  o.log(fmt::format("stopped by signal {}; archive is consistent", stop.signal_number()));
}

}  // namespace pitr::capture
