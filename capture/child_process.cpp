#include "capture/child_process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "capture/interruption.hpp"

namespace pitr::capture {
namespace {

// The children that must not outlive pitr, for the signal handler: slots of pids, 0 free.
std::array<std::atomic<pid_t>, 64> g_children;
static_assert(std::atomic<pid_t>::is_always_lock_free);

void remember_child(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t free = 0;
    if (slot.compare_exchange_strong(free, pid)) return;
  }
}

void forget_child(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t mine = pid;
    if (slot.compare_exchange_strong(mine, 0)) return;
  }
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

int open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 65536;
  return static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1u << 20));
}

// A wait status as a number: the exit status, or 128 + the signal that ended the process.
int exit_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// pitr's environment but the passwords it was given: a helper (or a server left running)
// would otherwise keep them readable in /proc/<pid>/environ.
std::vector<char*> environment_without_secrets() {
  std::vector<char*> env;
  for (char** e = environ; *e; ++e) {
    std::string_view v(*e);
    if (!v.starts_with("PITR_PASSWORD=") && !v.starts_with("MYSQL_PWD=") &&
        !v.starts_with("PGPASSWORD="))
      env.push_back(*e);
  }
  env.push_back(nullptr);
  return env;
}

struct ChildSetup {
  bool own_session = false;
  pid_t die_with = 0;  // pitr's pid, when the child is to end with it
  int death_signal = SIGTERM;
  int max_fd = 0;  // above every descriptor pitr may hold
  std::optional<std::pair<uid_t, gid_t>> run_as;
  sigset_t mask{};  // pitr's signal mask before fork blocked SIGINT and SIGTERM
};

// pitr's handlers for SIGINT and SIGTERM are not the child's, even before exec resets them
// (ignored signals stay ignored, as exec keeps them).
void default_interruption_signals() {
  for (int signal : {SIGINT, SIGTERM, SIGPIPE}) {
    struct sigaction current {};
    ::sigaction(signal, nullptr, &current);
    if (current.sa_handler != SIG_IGN || signal == SIGPIPE) ::signal(signal, SIG_DFL);
  }
}

[[noreturn]] void fail_in_child(int report) {
  int error = errno;
  [[maybe_unused]] auto n = ::write(report, &error, sizeof error);
  ::_exit(127);
}

// Every descriptor above stderr closes at exec (the report pipe already does).
void close_on_exec_above_stderr(int max_fd) {
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  for (int fd = 3; fd < max_fd; ++fd) {  // kernels before 5.11
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(char* const* argv, char* const* env, int out, int log, int report,
                             const ChildSetup& setup) {
  default_interruption_signals();
  ::sigprocmask(SIG_SETMASK, &setup.mask, nullptr);
  if (setup.own_session) ::setsid();
  if (setup.run_as && (::setgroups(0, nullptr) != 0 || ::setgid(setup.run_as->second) != 0 ||
                       ::setuid(setup.run_as->first) != 0))
    fail_in_child(report);
  if (setup.die_with) {  // after the user switch, which would clear it
    ::prctl(PR_SET_PDEATHSIG, setup.death_signal);
    if (::getppid() != setup.die_with) ::_exit(127);  // pitr ended before the line above
  }
  close_on_exec_above_stderr(setup.max_fd);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);  // dup2 clears the flag on the copies
  ::dup2(null, STDIN_FILENO);
  ::dup2(out >= 0 ? out : null, STDOUT_FILENO);
  if (log >= 0) ::dup2(log, STDERR_FILENO);
  ::execvpe(argv[0], argv, env);
  fail_in_child(report);
}

}  // namespace

ChildProcess::ChildProcess(ChildOptions o) {
  if (o.argv.empty()) throw std::invalid_argument("ChildProcess: no program");
  std::vector<char*> argv;
  for (auto& a : o.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2] = {-1, -1}, report[2] = {-1, -1};
  if (o.pipe_stdout && ::pipe2(out, O_CLOEXEC) != 0)
    throw std::runtime_error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
  if (::pipe2(report, O_CLOEXEC) != 0) {
    close_fd(out[0]);
    close_fd(out[1]);
    throw std::runtime_error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
  }
  int log = -1;
  if (!o.stderr_log.empty())
    log = ::open(o.stderr_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  auto env = environment_without_secrets();
  ChildSetup setup{o.own_session, o.outlives_pitr ? 0 : ::getpid(), o.death_signal,
                   open_files_limit(), o.run_as};
  // SIGINT and SIGTERM wait until the child is on the list the handler stops.
  sigset_t interruptions;
  ::sigemptyset(&interruptions);
  ::sigaddset(&interruptions, SIGINT);
  ::sigaddset(&interruptions, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &interruptions, &setup.mask);
  pid_ = ::fork();
  if (pid_ == 0) exec_child(argv.data(), env.data(), out[1], log, report[1], setup);
  int fork_error = errno;
  if (pid_ > 0) remember_child(pid_);
  ::pthread_sigmask(SIG_SETMASK, &setup.mask, nullptr);
  close_fd(out[1]);
  close_fd(report[1]);
  close_fd(log);
  stdout_ = out[0];
  if (pid_ < 0) {
    close_fd(stdout_);
    close_fd(report[0]);
    throw std::runtime_error(
        fmt::format("cannot start {}: {}", o.argv[0], std::strerror(fork_error)));
  }
  int exec_error = 0;
  auto n = ::read(report[0], &exec_error, sizeof exec_error);
  close_fd(report[0]);
  if (n == sizeof exec_error) {
    wait();
    close_fd(stdout_);
    throw std::runtime_error(
        fmt::format("cannot run {}: {}{}", o.argv[0], std::strerror(exec_error),
                    exec_error == ENOENT ? " (is it installed and on PATH?)" : ""));
  }
}

ChildProcess::~ChildProcess() {
  close_fd(stdout_);
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    try {
      wait();
    } catch (const std::exception&) {
      // Reaped elsewhere (SIGCHLD ignored): nothing is left to wait for.
    }
  }
}

std::size_t ChildProcess::read(std::uint8_t* into, std::size_t size) {
  while (true) {
    auto n = ::read(stdout_, into, size);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR)
      throw std::runtime_error(
          fmt::format("reading from process {}: {}", pid_, std::strerror(errno)));
  }
}

namespace {

// Reaps a child that has ended. It leaves the handler's list first: once reaped, its pid
// may be another process's.
int reap(pid_t pid) {
  forget_child(pid);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error("waitpid: " + std::string(std::strerror(errno)));
  return exit_code(status);
}

// Whether the child has ended, without reaping it.
bool has_ended(pid_t pid, bool block) {
  siginfo_t info{};
  while (::waitid(P_PID, pid, &info, WEXITED | WNOWAIT | (block ? 0 : WNOHANG)) < 0)
    if (errno != EINTR) throw std::runtime_error("waitid: " + std::string(std::strerror(errno)));
  return info.si_pid == pid;
}

}  // namespace

int ChildProcess::wait() {
  if (reaped_) return status_;
  has_ended(pid_, true);
  status_ = reap(pid_);
  reaped_ = true;
  return status_;
}

void ChildProcess::terminate() {
  if (!reaped_) ::kill(pid_, SIGTERM);
}

bool ChildProcess::running() {
  if (reaped_) return false;
  if (!has_ended(pid_, false)) return true;
  status_ = reap(pid_);
  reaped_ = true;
  return false;
}

void ChildProcess::detach() {
  forget_child(pid_);
  reaped_ = true;
}

int run_to_end(ChildOptions options) {
  return ChildProcess(std::move(options)).wait();
}

std::string tail_of_log(const std::filesystem::path& log, std::size_t lines) {
  std::ifstream in(log);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "  " + l + "\n";
  return out;
}

int terminate_children_from_signal_handler() {
  int stopped = 0;
  for (auto& slot : g_children)
    if (pid_t pid = slot.load(); pid > 0) stopped += ::kill(pid, SIGTERM) == 0;
  return stopped;
}

}  // namespace pitr::capture
