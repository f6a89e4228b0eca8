#pragma once
// A client connection speaking the MySQL protocol over Boost.Asio (plain TCP or TLS):
// handshake, authentication (mysql_native_password, caching_sha2_password), text
// queries, and raw packet reads for the replication stream. Every wait has a deadline.
// Not thread-safe: one connection belongs to the thread running its io_context.
// Boost 1.74 with g++ 12 needs <utility> before Asio.
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "formats/mysql_protocol/handshake.hpp"
#include "formats/mysql_protocol/packet.hpp"
#include "formats/mysql_protocol/result_set.hpp"

namespace pitr::capture {

class StopSignal;

enum class SslMode { kDisabled, kPreferred, kRequired, kVerifyCa, kVerifyIdentity };
SslMode parse_ssl_mode(const std::string& text);

struct MysqlEndpoint {
  std::string host;
  std::uint16_t port = 3306;
  std::string user;
  std::string password;
  SslMode ssl_mode = SslMode::kPreferred;
  std::string ssl_ca;  // CA bundle for verify-ca / verify-identity
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds read_timeout{30000};
};

// The server answered with an ERR packet.
class ServerError : public std::runtime_error {
 public:
  explicit ServerError(const mysql_protocol::ErrPacket& err, const std::string& context);
  std::uint16_t code() const { return code_; }

 private:
  std::uint16_t code_;
};

// The connection broke, timed out or the peer sent something the protocol does not allow.
class ConnectionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// SIGINT/SIGTERM arrived while waiting.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted by signal") {}
};

class MysqlConnection {
 public:
  // Connects, negotiates TLS per the endpoint's mode and authenticates.
  MysqlConnection(boost::asio::io_context& io, const MysqlEndpoint& endpoint, StopSignal* stop);
  ~MysqlConnection();
  MysqlConnection(const MysqlConnection&) = delete;
  MysqlConnection& operator=(const MysqlConnection&) = delete;

  const mysql_protocol::InitialHandshake& server() const { return server_; }
  bool tls_active() const { return tls_active_; }
  std::string tls_cipher() const;

  mysql_protocol::ResultSet query(std::string_view sql);
  void execute(std::string_view sql);  // a statement answered with OK

  // Starts a new command (sequence 0) and sends it.
  void send_command(const std::vector<std::uint8_t>& payload);
  // One physical packet's payload, valid until the next read. Waits at most `timeout`.
  Bytes read_packet(std::chrono::milliseconds timeout);
  Bytes read_packet() { return read_packet(endpoint_.read_timeout); }

  // Aborts pending I/O (safe from a signal handler running on the io_context).
  void cancel();

 private:
  void connect();
  void start_tls();
  void authenticate();
  void handle_auth_result(std::string plugin, std::vector<std::uint8_t> nonce);
  void caching_sha2_full_auth(const std::vector<std::uint8_t>& nonce);
  void write_packet(Bytes payload);
  void fill(std::size_t n, std::chrono::milliseconds timeout);
  template <class Initiate>
  std::size_t await(Initiate&& initiate, std::chrono::milliseconds timeout, const char* what);

  boost::asio::io_context& io_;
  MysqlEndpoint endpoint_;
  StopSignal* stop_;
  boost::asio::ssl::context tls_context_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  bool tls_active_ = false;
  mysql_protocol::InitialHandshake server_;
  std::uint8_t sequence_ = 0;
  std::vector<std::uint8_t> rbuf_;
  std::size_t rpos_ = 0, rend_ = 0;
};

}  // namespace pitr::capture
