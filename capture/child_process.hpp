#pragma once
// A program pitr runs (mariabackup, mariadbd): argv without a shell, stdin from /dev/null,
// stdout to a pipe pitr reads (or /dev/null), stderr to a log file (or pitr's own), and no
// other descriptor of pitr's (archive files, sockets). A child still running when its
// ChildProcess is destroyed (an exception unwinding) is killed and reaped, so a failure
// never leaves one behind.
#include <sys/types.h>

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace pitr::capture {

struct ChildOptions {
  std::vector<std::string> argv = {};
  bool pipe_stdout = false;
  std::filesystem::path stderr_log = {};  // empty: pitr's own stderr
  bool own_session = false;               // setsid(): a terminal's Ctrl-C does not reach it
  // Otherwise it gets `death_signal` when pitr ends, however it ends (PR_SET_PDEATHSIG).
  // Either way it gets SIGTERM when pitr is interrupted (capture/interruption.hpp) until
  // detach().
  bool outlives_pitr = false;
  int death_signal = SIGTERM;
  // Runs as this user and group (pitr runs as root): switched before the program starts, so
  // that the parent-death signal survives (a program's own setuid would clear it).
  std::optional<std::pair<uid_t, gid_t>> run_as = std::nullopt;
};

class ChildProcess {
 public:
  // Throws std::runtime_error naming the program when it cannot be started (not installed,
  // not executable).
  explicit ChildProcess(ChildOptions options);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads up to `size` bytes of its stdout; 0 at its end.
  std::size_t read(std::uint8_t* into, std::size_t size);
  // Waits for it to end: its exit status, or 128 + the signal that ended it.
  int wait();
  // Asks it to stop (SIGTERM); wait() then reaps it.
  void terminate();
  bool running();
  // Lets it run on after this object (and pitr) are gone: a server left for the DBA.
  void detach();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdout_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

// Runs a program to its end; its exit status (as ChildProcess::wait).
int run_to_end(ChildOptions options);

// The last `lines` lines of a log file (for an error message).
std::string tail_of_log(const std::filesystem::path& log, std::size_t lines);

}  // namespace pitr::capture
