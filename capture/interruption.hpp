#pragma once
// SIGINT and SIGTERM during a one-shot command (backup, restore). While pitr runs a program
// that must not outlive it (mariabackup, a private mariadbd) or is inside an
// InterruptibleScope, the first signal stops those programs (SIGTERM, which shuts a server
// down cleanly) and makes pitr unwind through its ordinary failure path: temporary files
// holding secrets are removed, a half-restored directory is emptied, nothing half-written is
// listed. Otherwise, and at a second signal, pitr ends at once, as without handlers (what it
// writes is safe against that: temporary names, pending backups). Capture has its own clean
// stop (capture/stop_signal.hpp).
#include <optional>
#include <stdexcept>

namespace pitr::capture {

class InterruptedError : public std::runtime_error {
 public:
  explicit InterruptedError(int signal);
  int signal() const { return signal_; }

 private:
  int signal_;
};

// Installs the handlers; call once, before any work.
void stop_on_interruption();

// The signal that interrupted pitr, if one did.
std::optional<int> interruption();

// Throws InterruptedError once a signal came: for long loops that run no program.
void throw_if_interrupted();

// Work that calls throw_if_interrupted() often enough to unwind on a signal.
class InterruptibleScope {
 public:
  InterruptibleScope();
  ~InterruptibleScope();
  InterruptibleScope(const InterruptibleScope&) = delete;
  InterruptibleScope& operator=(const InterruptibleScope&) = delete;
};

// Called from the signal handler (async-signal-safe): SIGTERM to every program pitr runs that
// must not outlive it (capture/child_process.cpp keeps the list); how many there were.
int terminate_children_from_signal_handler();

}  // namespace pitr::capture
