#pragma once
// SIGINT/SIGTERM delivered through the capture's Asio loop: records that a stop was asked
// for and cancels whatever network operation is waiting, so shutdown is immediate.
// Boost 1.74 with g++ 12 needs <utility> before Asio.
#include <utility>

#include <boost/asio.hpp>
#include <chrono>
#include <functional>

namespace pitr::capture {

class StopSignal {
 public:
  explicit StopSignal(boost::asio::io_context& io);
  bool requested() const { return requested_; }
  // What to call when the signal arrives (typically: cancel the current socket).
  void on_stop(std::function<void()> cancel) { cancel_ = std::move(cancel); }
  int signal_number() const { return signal_; }

 private:
  void arm();
  boost::asio::signal_set signals_;
  bool requested_ = false;
  int signal_ = 0;
  std::function<void()> cancel_;
};

// Waits `duration` on `io`, returning early when a stop is requested.
void sleep_interruptible(boost::asio::io_context& io, StopSignal& stop,
                         std::chrono::milliseconds duration);

}  // namespace pitr::capture
