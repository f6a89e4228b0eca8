#include "capture/interruption.hpp"

#include <signal.h>
#include <string.h>

#include <atomic>
#include <string>

namespace pitr::capture {
namespace {

std::atomic<int> g_signal{0};
std::atomic<int> g_scopes{0};
static_assert(std::atomic<int>::is_always_lock_free);

void end_now(int signal) {
  ::signal(signal, SIG_DFL);
  ::raise(signal);
}

extern "C" void on_interruption(int signal) {
  int none = 0;
  if (!g_signal.compare_exchange_strong(none, signal)) return end_now(signal);  // the second
  if (terminate_children_from_signal_handler() == 0 && g_scopes.load() == 0) end_now(signal);
}

}  // namespace

InterruptedError::InterruptedError(int signal)
    : std::runtime_error(std::string("interrupted by SIG") + ::sigabbrev_np(signal)),
      signal_(signal) {}

void stop_on_interruption() {
  struct sigaction action = {};
  action.sa_handler = on_interruption;
  ::sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

std::optional<int> interruption() {
  if (auto s = g_signal.load()) return s;
  return std::nullopt;
}

void throw_if_interrupted() {
  if (auto s = interruption()) throw InterruptedError(*s);
}

InterruptibleScope::InterruptibleScope() {
  ++g_scopes;
}
InterruptibleScope::~InterruptibleScope() {
  --g_scopes;
}

}  // namespace pitr::capture
