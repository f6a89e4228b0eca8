#include "replay/mariadb/private_server.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <thread>

#include "capture/interruption.hpp"
#include "capture/mysql/sql_session.hpp"
#include "capture/scratch_dir.hpp"
#include "formats/hex.hpp"
#include "formats/sql/sql_literal.hpp"
#include "replay/os_account.hpp"

namespace pitr::replay {
namespace {

namespace fs = std::filesystem;

std::string random_hex(std::size_t bytes) {
  std::random_device random;
  std::vector<std::uint8_t> b(bytes);
  for (auto& x : b) x = static_cast<std::uint8_t>(random());
  return to_hex(b);
}

std::string server_config(const PrivateServerOptions& o, const fs::path& init_file,
                          const fs::path& error_log) {
  // backup-my.cnf first: its [mysqld] settings (page size, log size, undo) and then ours.
  return fmt::format(
      "{}\n[mysqld]\ndatadir={}\nport={}\nbind-address=127.0.0.1\nskip-name-resolve\n"
      "socket={}\npid-file={}\nlog-error={}\n{}log-bin={}\nserver-id=1\n"
      "binlog-format=ROW\ninit-file={}\n",
      o.server_options, o.datadir.string(), o.port, (o.datadir / "pitr-restore.sock").string(),
      (o.datadir / "pitr-restore.pid").string(), error_log.string(),
      // Another user is switched to before it starts (capture::ChildOptions::run_as); pitr's
      // TMPDIR may be private to pitr's user, so that one's temporary files go to /tmp.
      o.run_as.empty() ? (::geteuid() == 0 ? "user=root\n" : "") : "tmpdir=/tmp\n",
      o.binlog_basename, init_file.string());
}

}  // namespace

std::uint16_t free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("cannot create a socket to find a free port");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof a;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot find a free port on 127.0.0.1");
  return ntohs(a.sin_port);
}

PrivateMariadb::PrivateMariadb(const PrivateServerOptions& o)
    : error_log_(o.datadir / "pitr-restore.err") {
  endpoint_.host = "127.0.0.1";
  endpoint_.port = o.port;
  endpoint_.user = "pitr_restore_" + random_hex(4);
  endpoint_.password = random_hex(16);
  endpoint_.ssl_mode = capture::SslMode::kDisabled;
  capture::ScratchDir scratch("mariadbd");
  auto account = sql::quote_string(endpoint_.user) + "@'127.0.0.1'";
  auto init = scratch.write(
      "init.sql", fmt::format("SET sql_log_bin=0;\nCREATE OR REPLACE USER {} IDENTIFIED BY {};\n"
                              "GRANT ALL PRIVILEGES ON *.* TO {} WITH GRANT OPTION;\n",
                              account, sql::quote_string(endpoint_.password), account));
  auto config = scratch.write("server.cnf", server_config(o, init, error_log_));
  capture::ChildOptions server{.argv = {o.mariadbd, "--defaults-file=" + config.string()},
                               .stderr_log = error_log_,
                               .own_session = true,
                               .outlives_pitr = o.outlives_pitr,
                               // A mariadbd that gets SIGTERM while it starts can hang there
                               // for good (MariaDB 10.11: init_slave() waits with the signal
                               // pending, before its signal thread exists; seen in CI). The
                               // private server of a pitr that died holds nothing to keep.
                               .death_signal = SIGKILL};
  if (!o.run_as.empty()) {
    auto user = account_of(o.run_as);
    std::ofstream(error_log_, std::ios::app).close();  // the server, as that user, appends too
    ::chown(error_log_.c_str(), user.uid, user.gid);
    chown_tree(scratch.path(), user);
    server.run_as = {user.uid, user.gid};
  }
  server_ = std::make_unique<capture::ChildProcess>(std::move(server));
  wait_until_ready(o);
}

void PrivateMariadb::wait_until_ready(const PrivateServerOptions& o) {
  auto deadline = std::chrono::steady_clock::now() + o.start_timeout;
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    capture::throw_if_interrupted();
    if (!server_->running())
      throw std::runtime_error(fmt::format(
          "the server started on the restored data directory stopped; the end of its error "
          "log ({}):\n{}",
          error_log_.string(), capture::tail_of_log(error_log_, 15)));
    try {
      capture::SqlSession probe(endpoint_, "the restored server");
      return;
    } catch (const std::exception& e) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error(fmt::format(
            "the server started on the restored data directory did not accept connections "
            "within {} s ({}); the end of its error log:\n{}",
            o.start_timeout.count(), e.what(), capture::tail_of_log(error_log_, 15)));
    }
  }
}

void PrivateMariadb::continue_gtid_state(const std::string& gtid_position) {
  capture::SqlSession s(endpoint_, "the restored server");
  s.execute("RESET MASTER");
  s.execute("SET GLOBAL gtid_binlog_state = " + sql::quote_string(gtid_position));
}

void PrivateMariadb::let_go(bool stop) {
  capture::SqlSession s(endpoint_, "the restored server");
  s.execute("SET sql_log_bin=0");
  s.execute("DROP USER " + sql::quote_string(endpoint_.user) + "@'127.0.0.1'");
  if (!stop) return;
  try {
    s.execute("SHUTDOWN");  // the session outlives its dropped account
  } catch (const std::exception&) {
    // The server may close the connection before it answers.
  }
}

void PrivateMariadb::shutdown() {
  if (!server_) return;
  let_go(true);
  if (auto status = server_->wait(); status != 0)
    throw std::runtime_error(fmt::format(
        "the restored server did not shut down cleanly (exit status {}); its error log: {}", status,
        error_log_.string()));
  server_.reset();
}

void PrivateMariadb::release() {
  let_go(false);
  server_->detach();
  server_.reset();
}

PrivateMariadb::~PrivateMariadb() {
  if (!server_) return;
  try {
    shutdown();
  } catch (...) {
    // Already failing: the ChildProcess kills what did not stop.
  }
}

}  // namespace pitr::replay
