#include "capture/stop_signal.hpp"

#include <csignal>

namespace pitr::capture {

StopSignal::StopSignal(boost::asio::io_context& io) : signals_(io, SIGINT, SIGTERM) {
  arm();
}

void StopSignal::arm() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    requested_ = true;
    signal_ = signal;
    if (cancel_) cancel_();
    arm();
  });
}

void sleep_interruptible(boost::asio::io_context& io, StopSignal& stop,
                         std::chrono::milliseconds duration) {
  boost::asio::steady_timer timer(io, duration);
  bool done = false;
  stop.on_stop([&] { timer.cancel(); });
  timer.async_wait([&](const boost::system::error_code&) { done = true; });
  io.restart();
  while (!done) io.run_one();
  stop.on_stop(nullptr);
}

}  // namespace pitr::capture
