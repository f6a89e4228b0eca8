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

}  // namespace pitr::capture
