#pragma once
// The one reconnect loop of every capture (MySQL/MariaDB binlog, PostgreSQL WAL): the sole-
// writer lock or lease, the signal that stops it, the check that a reconnect reached the same
// server, backoff, and what a gap means (recorded once, then exit 3 or, with --accept-gap,
// one more try from the server's oldest point). An engine runs one session at a time and
// says what its failures mean, from server error codes (MySQL error numbers, PostgreSQL
// SQLSTATEs), never from message text: a server speaking another language behaves the same.
#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string>

#include "archive/archive.hpp"
#include "archive/gap_record.hpp"
#include "capture/stop_signal.hpp"

namespace pitr::capture {

// What a failed session means.
struct Verdict {
  enum class Kind {
    kRetry,  // the network, a restart, a killed connection: reconnect after a backoff
    kGap,    // the server no longer has what the archive needs next
    kFatal,  // retrying cannot help: credentials, privileges, a configuration
  };
  Kind kind = Kind::kRetry;
  std::string advice;  // kFatal: what to do, said after the error (the exit code is 1)

  static Verdict retry() { return {Kind::kRetry, {}}; }
  static Verdict gap() { return {Kind::kGap, {}}; }
  static Verdict fatal(std::string advice = {}) { return {Kind::kFatal, std::move(advice)}; }
};

// What one session sees of the loop.
class SessionContext {
 public:
  SessionContext(boost::asio::io_context& io, StopSignal& stop, const archive::Archive& archive,
                 std::optional<std::string>& source_id, bool after_gap)
      : io(io), stop(stop), archive(archive), after_gap(after_gap), source_id_(source_id) {}

  boost::asio::io_context& io;
  StopSignal& stop;
  const archive::Archive& archive;  // written through the lease, when there is one
  // A gap was just recorded and accepted: start from the configured start or the server's
  // oldest point, not from the archive's end.
  const bool after_gap;

  // The server answered as `source_id`: a later failure is not a failure to connect. Throws
  // CaptureFatal when earlier sessions of this capture reached another server (`where` names
  // the endpoint).
  void identified(const std::string& source_id, const std::string& where);
  bool is_connected() const { return connected_; }
  // The session archived its first bytes: it is past its start point, and backoff restarts.
  void streaming() { streaming_ = true; }
  bool is_streaming() const { return streaming_; }

 private:
  std::optional<std::string>& source_id_;
  bool connected_ = false, streaming_ = false;
};

class CaptureEngine {
 public:
  virtual ~CaptureEngine() = default;
  // Connects, identifies the server, and streams into ctx.archive until the stop signal
  // (returns false) or an end condition such as --stop-at-end (returns true). Leaves the
  // archive consistent (open segments fsynced) however it ends.
  virtual bool run_session(SessionContext& ctx) = 0;
  // What `failure`, thrown by the last run_session, means; `ever_connected`: some session of
  // this capture reached and identified the server.
  virtual Verdict classify(const std::exception& failure, bool ever_connected) const = 0;
  // For a gap: where the archive stops, and a sentence on where it goes on.
  virtual archive::GapRecord gap(const std::exception& failure) const = 0;
  virtual std::string gap_help(const archive::GapRecord& gap) const = 0;
};

struct SupervisorOptions {
  archive::Archive archive;
  std::chrono::seconds lease_time{30};
  std::chrono::milliseconds max_backoff{30000};
  bool accept_gap = false;
  std::function<void(const std::string&)> log;
};

// Runs sessions until one ends or a stop signal; throws CaptureFatal.
void supervise(CaptureEngine& engine, const SupervisorOptions& options);

}  // namespace pitr::capture
