// pitr wal-fetch: PostgreSQL's restore_command. Exit 0 with the file in place, 1 when the
// archive does not have it (recovery then knows the archive ends there), and 128 when the
// archive has it but it is damaged, which makes recovery stop instead of ending early.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "replay/postgres/wal_fetch.hpp"
#include "tools/archive_options.hpp"
#include "tools/commands.hpp"

namespace pitr::tools {
namespace {

struct WalFetchArgs {
  replay::WalFetchRequest request;
  ArchiveArgs archive;
  std::string destination;
  unsigned prefetch = 8;
};

// Decompresses the following segments in a detached process, one at a time across calls
// (a lock file in the spool), while recovery replays the segment just served.
// Best effort: the segment asked for is already served, so no failure here (the store
// unreachable, say) may change the exit code, which recovery would read as "not archived".
void start_prefetch(const replay::WalFetchRequest& r, unsigned count) noexcept try {
  if (count == 0) return;
  auto names = replay::segments_to_prefetch(r, count);
  if (names.empty()) return;
  auto spool = replay::prefetch_spool(r.destination);
  std::filesystem::create_directories(spool);
  pid_t child = ::fork();
  if (child != 0) {
    if (child > 0) ::waitpid(child, nullptr, 0);
    return;
  }
  ::setsid();
  if (::fork() != 0) ::_exit(0);
  int null = ::open("/dev/null", O_RDWR);
  ::dup2(null, STDIN_FILENO);
  ::dup2(null, STDOUT_FILENO);
  ::dup2(null, STDERR_FILENO);
  int lock = ::open((spool / ".lock").c_str(), O_CREAT | O_RDWR, 0600);
  if (lock < 0 || ::flock(lock, LOCK_EX | LOCK_NB) != 0) ::_exit(0);
  try {
    replay::prefetch_segments(r, names);
  } catch (...) {
    // The next wal-fetch serves from the archive directly and reports any damage.
  }
  ::_exit(0);
} catch (...) {
}

int run_wal_fetch(WalFetchArgs& a) {
  a.request.destination = a.destination;
  try {
    // Any failure but "not archived" must stop recovery, or it would end early.
    a.request.archive = open_archive(a.archive, SpoolUse::kOptional);
    auto outcome = replay::fetch_wal(a.request);
    if (outcome == replay::FetchOutcome::kNotInArchive) return kExitFailure;
  } catch (const std::exception& e) {
    fmt::print(stderr, "pitr wal-fetch: {}: {}\n", a.request.name, e.what());
    return kExitWalUnreadable;
  }
  start_prefetch(a.request, a.prefetch);
  return kExitOk;
}

}  // namespace

CommandRunner add_wal_fetch_command(CLI::App& app) {
  auto a = std::make_shared<WalFetchArgs>();
  auto* cmd = app.add_subcommand(
      "wal-fetch",
      "PostgreSQL restore_command: copy WAL segment or history file NAME from the archive to "
      "PATH.\nExit 0 when served, 1 when the archive does not have it, 128 when it is damaged "
      "(recovery stops). Prefetches the next segments in the background.\n"
      "  restore_command = 'pitr wal-fetch --archive /backups/db1 %f %p'");
  add_archive_options(cmd, a->archive, SpoolUse::kOptional);
  // --source: what restore_command said before the archived source's id was --source-id
  // everywhere; servers restored then still call it so.
  cmd->add_option("--source-id,--source", a->request.source,
                  "The archived source, pg-<system identifier>, when the archive holds several "
                  "PostgreSQL systems");
  cmd->add_option("--prefetch", a->prefetch, "Segments to prefetch after this one (default 8)");
  cmd->add_option("name", a->request.name, "WAL file name (%f)")->required();
  cmd->add_option("path", a->destination, "Where to write it (%p)")->required();
  return [a] { return run_wal_fetch(*a); };
}

}  // namespace pitr::tools
