#pragma once
// A MariaDB server pitr starts on a restored data directory, to roll it forward with the
// archived binlog: loopback only, its own socket, pid and error log inside the directory,
// the backup's InnoDB settings, and a temporary account with every privilege (created by an
// init file with a random password, never binlogged, dropped before pitr lets go of it).
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "capture/child_process.hpp"
#include "capture/mysql/mysql_connection.hpp"

namespace pitr::replay {

struct PrivateServerOptions {
  std::filesystem::path datadir;
  std::uint16_t port = 0;
  std::string run_as;          // mariadbd --user; empty: the caller (root: root)
  std::string server_options;  // backup-my.cnf: [mysqld] settings the files need
  std::string binlog_basename = "binlog";
  std::string mariadbd = "mariadbd";
  std::chrono::seconds start_timeout{600};
  bool outlives_pitr = false;  // release() will leave it running; else it stops when pitr ends
};

class PrivateMariadb {
 public:
  // Starts the server and waits until the account can connect; throws with the end of the
  // server's error log when it stops or does not answer in time.
  explicit PrivateMariadb(const PrivateServerOptions& options);
  ~PrivateMariadb();  // a server not released is stopped (cleanly if it can be)
  PrivateMariadb(const PrivateMariadb&) = delete;
  PrivateMariadb& operator=(const PrivateMariadb&) = delete;

  const capture::MysqlEndpoint& endpoint() const { return endpoint_; }
  // Starts the server's binlog at the GTID position a backup is consistent at, so that
  // replayed transactions continue it and gtid_binlog_pos matches the source's.
  void continue_gtid_state(const std::string& gtid_position);
  // Drops the account and shuts the server down cleanly, waiting for it.
  void shutdown();
  // Drops the account and leaves the server running for the DBA.
  void release();

 private:
  void wait_until_ready(const PrivateServerOptions& o);
  // Drops the account, and with `stop` shuts the server down.
  void let_go(bool stop);

  std::filesystem::path error_log_;
  capture::MysqlEndpoint endpoint_;
  std::unique_ptr<capture::ChildProcess> server_;
};

// A TCP port on 127.0.0.1 no one listens on now.
std::uint16_t free_loopback_port();

}  // namespace pitr::replay
