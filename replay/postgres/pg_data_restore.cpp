#include "replay/postgres/pg_data_restore.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "archive/file_io.hpp"
#include "archive/pg_backup_tars.hpp"
#include "capture/child_process.hpp"
#include "replay/os_account.hpp"
#include "replay/tar_extractor.hpp"

namespace pitr::replay {
namespace {

namespace fs = std::filesystem;

void extract(archive::PgBackupTars& tars, const archive::PgBackupManifest& backup,
             const archive::PgBackupArchive& a, const fs::path& root, PgDataResult& result) {
  TarExtractor tar(root);
  tars.read(backup, a, [&](Bytes b) { tar.feed(b); });
  tar.finish();
  result.files += tar.files();
}

// tablespace_map lines are "<oid> <location>"; locations move as the map says.
void rewrite_tablespace_map(const fs::path& pgdata,
                            const std::map<std::string, std::string>& moved) {
  auto path = pgdata / "tablespace_map";
  if (!fs::exists(path) || moved.empty()) return;
  std::istringstream in(archive::read_small_file(path));
  std::string line, out;
  while (std::getline(in, line)) {
    auto space = line.find(' ');
    if (space != std::string::npos)
      if (auto it = moved.find(line.substr(space + 1)); it != moved.end())
        line = line.substr(0, space + 1) + it->second;
    out += line + "\n";
  }
  archive::write_file_atomically(path, as_bytes(out));
}

}  // namespace

void write_private_file(const fs::path& path, const std::string& content,
                        const std::string& run_as) {
  // A fresh name opened exclusively and never through a symlink, then renamed over the
  // target (which replaces a symlink there, never what it points to): the directory may be
  // writable by the server's OS user, and this may run as root.
  static thread_local std::mt19937_64 random{std::random_device{}()};
  auto tmp = fs::path(path).concat(fmt::format(".{:016x}.tmp", random()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) archive::throw_errno("cannot create", tmp);
  try {
    if (!run_as.empty()) {
      auto acct = account_of(run_as);
      if (::fchown(fd, acct.uid, acct.gid) != 0) archive::throw_errno("chown", tmp);
    }
    for (std::size_t done = 0; done < content.size();) {
      auto n = ::write(fd, content.data() + done, content.size() - done);
      if (n < 0 && errno != EINTR) archive::throw_errno("write", tmp);
      if (n > 0) done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) archive::throw_errno("fsync", tmp);
    ::close(fd);
    fd = -1;
    fs::rename(tmp, path);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  archive::fsync_directory(path.parent_path());
}

namespace {

std::string last_line_with(const fs::path& log, const std::string& needle) {
  std::ifstream in(log);
  std::string found;
  for (std::string l; std::getline(in, l);)
    if (l.find(needle) != std::string::npos) found = l;
  return found;
}

fs::path server_bin(const std::string& version) {
  fs::path bin = fs::path("/usr/lib/postgresql") / version / "bin";
  if (!fs::exists(bin / "pg_ctl"))
    throw std::runtime_error(
        fmt::format("PostgreSQL {} is not installed here ({} missing); the "
                    "backup needs that major version",
                    version, (bin / "pg_ctl").string()));
  return bin;
}

// recovery.signal goes early in promotion; the control file says "in production" once the
// server accepts writes (in English whatever language the caller's locale asks for).
bool in_production(const fs::path& bin, const fs::path& pgdata) {
  auto command = "LC_ALL=C " + shell_quote((bin / "pg_controldata").string()) + " -D " +
                 shell_quote(pgdata.string()) + " 2>/dev/null";
  std::unique_ptr<FILE, decltype(&::pclose)> pipe(::popen(command.c_str(), "r"), &::pclose);
  if (!pipe) return false;
  char line[512];
  while (std::fgets(line, sizeof line, pipe.get()))
    if (std::string_view(line).starts_with("Database cluster state:"))
      return std::string_view(line).find("in production") != std::string_view::npos;
  return false;
}

}  // namespace

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

PgDataResult write_restored_pgdata(const archive::Archive& archive, const PgRestorePlan& plan,
                                   const PgDataOptions& o) {
  require_empty_directory(o.pgdata, "data directory");
  std::map<std::string, fs::path> locations;
  for (const auto& a : plan.backup.archives) {
    if (a.tablespace_oid.empty()) continue;
    auto it = o.tablespace_map.find(a.tablespace_path);
    locations[a.name] =
        it == o.tablespace_map.end() ? fs::path(a.tablespace_path) : fs::path(it->second);
    require_empty_directory(locations[a.name], "tablespace location");
  }
  fs::create_directories(o.pgdata);
  fs::permissions(o.pgdata, fs::perms::owner_all, fs::perm_options::replace);
  PgDataResult result;
  archive::PgBackupTars tars(archive);
  for (const auto& a : plan.backup.archives) {
    auto root = a.tablespace_oid.empty() ? o.pgdata : locations.at(a.name);
    fs::create_directories(root);
    if (o.progress)
      fmt::print(stderr, "pitr restore: extracting {} into {}\n", a.name, root.string());
    extract(tars, plan.backup, a, root, result);
  }
  rewrite_tablespace_map(o.pgdata, o.tablespace_map);
  fs::create_directories(o.pgdata / "pg_wal" / "archive_status");
  std::ofstream conf(o.pgdata / "postgresql.auto.conf", std::ios::app);
  conf << "\n# Added by pitr restore: " << plan.description << "\n"
       << "restore_command = " << conf_quote(o.restore_command) << "\n"
       << plan.recovery_settings;
  conf.close();
  if (!conf) throw archive::IoError("cannot write " + (o.pgdata / "postgresql.auto.conf").string());
  archive::write_file_atomically(o.pgdata / "recovery.signal", {});
  result.pg_version = archive::read_small_file(o.pgdata / "PG_VERSION");
  while (!result.pg_version.empty() &&
         std::isspace(static_cast<unsigned char>(result.pg_version.back())))
    result.pg_version.pop_back();
  if (!o.run_as.empty()) {
    auto acct = account_of(o.run_as);
    chown_tree(o.pgdata, acct);
    for (const auto& [name, loc] : locations) chown_tree(loc, acct);
  }
  archive::sync_filesystem_of(o.pgdata);
  return result;
}

std::string start_restored_server(const PgServerStart& o) {
  auto bin = server_bin(o.pg_version);
  auto log = o.pgdata / "pitr-restore.log";
  std::vector<std::string> argv;
  if (!o.run_as.empty()) argv = {"runuser", "-u", o.run_as, "--"};
  for (std::string a :
       {(bin / "pg_ctl").string(), std::string("-D"), o.pgdata.string(), std::string("-l"),
        log.string(), std::string("-o"),
        fmt::format("-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={}", o.port,
                    shell_quote(o.pgdata.string())),
        std::string("start")})
    argv.push_back(a);
  if (capture::run_to_end({.argv = argv}) != 0)
    throw std::runtime_error("pg_ctl could not start the restored server; its log says:\n" +
                             capture::tail_of_log(log, 20));
  auto started = std::chrono::steady_clock::now();
  auto last_note = started;
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    bool recovering = fs::exists(o.pgdata / "recovery.signal");
    bool running = false;
    if (fs::exists(o.pgdata / "postmaster.pid")) {
      std::ifstream pidfile(o.pgdata / "postmaster.pid");
      pid_t pid = 0;
      pidfile >> pid;
      running = pid > 0 && ::kill(pid, 0) == 0;
    }
    if (!recovering && running && in_production(bin, o.pgdata)) break;
    if (!running && std::chrono::steady_clock::now() - started > std::chrono::seconds(2))
      throw std::runtime_error("the restored server stopped during recovery; its log says:\n" +
                               capture::tail_of_log(log, 20));
    auto now = std::chrono::steady_clock::now();
    if (now - started > o.timeout)
      throw std::runtime_error("recovery did not finish within the timeout; see " + log.string());
    if (o.progress && now - last_note > std::chrono::seconds(5)) {
      last_note = now;
      fmt::print(stderr, "pitr restore: recovering... {}\n",
                 last_line_with(log, "restored log file"));
    }
  }
  std::error_code ignored;
  fs::remove_all(o.pgdata / "pg_wal" / ".pitr-prefetch", ignored);
  auto stop = last_line_with(log, "recovery stopping");
  return stop.empty() ? last_line_with(log, "redo done at") : stop;
}

}  // namespace pitr::replay
