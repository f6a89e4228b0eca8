#include "capture/mysql/mysql_connection.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>

#include <cstring>
#include <optional>

#include "capture/stop_signal.hpp"
#include "formats/mysql_protocol/auth_scramble.hpp"
#include "formats/mysql_protocol/commands.hpp"

namespace pitr::capture {

namespace asio = boost::asio;
namespace mp = mysql_protocol;
using asio::ip::tcp;

namespace {

constexpr std::size_t kReadChunk = 256 * 1024;
constexpr std::uint32_t kClientCapabilities = mp::kClientLongPassword | mp::kClientLongFlag |
                                              mp::kClientProtocol41 | mp::kClientTransactions |
                                              mp::kClientSecureConnection | mp::kClientPluginAuth |
                                              mp::kClientPluginAuthLenencData;

// caching_sha2_password "more data" markers.
constexpr std::uint8_t kRequestPublicKey = 0x02;
constexpr std::uint8_t kFastAuthSuccess = 0x03;
constexpr std::uint8_t kPerformFullAuth = 0x04;

}  // namespace

SslMode parse_ssl_mode(const std::string& text) {
  if (text == "disabled") return SslMode::kDisabled;
  if (text == "preferred") return SslMode::kPreferred;
  if (text == "required") return SslMode::kRequired;
  if (text == "verify-ca") return SslMode::kVerifyCa;
  if (text == "verify-identity") return SslMode::kVerifyIdentity;
  throw std::invalid_argument("unknown --ssl-mode '" + text +
                              "' (disabled, preferred, required, verify-ca, verify-identity)");
}

ServerError::ServerError(const mp::ErrPacket& err, const std::string& context)
    : std::runtime_error(context + ": server " + err.to_string()), code_(err.code) {}

MysqlConnection::MysqlConnection(asio::io_context& io, const MysqlEndpoint& endpoint,
                                 StopSignal* stop)
    : io_(io),
      endpoint_(endpoint),
      stop_(stop),
      tls_context_(asio::ssl::context::tls_client),
      stream_(io, tls_context_) {
  if (stop_) stop_->on_stop([this] { cancel(); });
  connect();
  authenticate();
}

MysqlConnection::~MysqlConnection() {
  if (stop_) stop_->on_stop(nullptr);
  boost::system::error_code ignored;
  stream_.next_layer().close(ignored);
}

void MysqlConnection::cancel() {
  boost::system::error_code ignored;
  stream_.next_layer().cancel(ignored);
}

std::string MysqlConnection::tls_cipher() const {
  if (!tls_active_) return {};
  auto* ssl = const_cast<asio::ssl::stream<tcp::socket>&>(stream_).native_handle();
  return fmt::format("{} {}", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
}

template <class Initiate>
std::size_t MysqlConnection::await(Initiate&& initiate, std::chrono::milliseconds timeout,
                                   const char* what) {
  std::optional<boost::system::error_code> result;
  std::size_t transferred = 0;
  initiate([&](const boost::system::error_code& ec, std::size_t n = 0) {
    result = ec;
    transferred = n;
  });
  io_.restart();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (!result) {
    if (std::chrono::steady_clock::now() >= deadline && !timed_out) {
      timed_out = true;
      cancel();
    }
    io_.run_one_until(timed_out ? std::chrono::steady_clock::now() + std::chrono::seconds(5)
                                : deadline);
  }
  if (stop_ && stop_->requested()) throw Interrupted();
  if (timed_out)
    throw ConnectionError(fmt::format("{}:{}: no answer for {} s while {}", endpoint_.host,
                                      endpoint_.port, timeout.count() / 1000, what));
  if (*result)
    throw ConnectionError(fmt::format("{}:{}: connection lost while {}: {}", endpoint_.host,
                                      endpoint_.port, what, result->message()));
  return transferred;
}

void MysqlConnection::connect() {
  tcp::resolver resolver(io_);
  tcp::resolver::results_type endpoints;
  await(
      [&](auto handler) {
        resolver.async_resolve(endpoint_.host, std::to_string(endpoint_.port),
                               [&, handler](const boost::system::error_code& ec, auto results) {
                                 endpoints = results;
                                 handler(ec, 0);
                               });
      },
      endpoint_.connect_timeout, "resolving the host name");
  await(
      [&](auto handler) {
        asio::async_connect(stream_.next_layer(), endpoints,
                            [handler](const boost::system::error_code& ec, const tcp::endpoint&) {
                              handler(ec, 0);
                            });
      },
      endpoint_.connect_timeout, "connecting");
  stream_.next_layer().set_option(tcp::no_delay(true));
}

void MysqlConnection::fill(std::size_t n, std::chrono::milliseconds timeout) {
  if (rend_ - rpos_ >= n) return;
  if (rpos_ > 0) {
    std::memmove(rbuf_.data(), rbuf_.data() + rpos_, rend_ - rpos_);
    rend_ -= rpos_;
    rpos_ = 0;
  }
  if (rbuf_.size() < std::max(n, kReadChunk)) rbuf_.resize(std::max(n, kReadChunk));
  while (rend_ < n) {
    auto buffer = asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_);
    rend_ += await(
        [&](auto handler) {
          if (tls_active_)
            stream_.async_read_some(buffer, handler);
          else
            stream_.next_layer().async_read_some(buffer, handler);
        },
        timeout, "reading from the server");
  }
}

Bytes MysqlConnection::read_packet(std::chrono::milliseconds timeout) {
  fill(mp::kPacketHeaderSize, timeout);
  auto header = mp::decode_packet_header({rbuf_.data() + rpos_, mp::kPacketHeaderSize});
  if (header.sequence != sequence_)
    throw ConnectionError(
        fmt::format("packet out of order from the server (sequence {}, "
                    "expected {})",
                    header.sequence, sequence_));
  sequence_ = static_cast<std::uint8_t>(header.sequence + 1);
  fill(mp::kPacketHeaderSize + header.length, timeout);
  Bytes payload{rbuf_.data() + rpos_ + mp::kPacketHeaderSize, header.length};
  rpos_ += mp::kPacketHeaderSize + header.length;
  return payload;
}

void MysqlConnection::write_packet(Bytes payload) {
  // A payload of 16 MiB - 1 or more is split; pitr never sends one that large.
  if (payload.size() >= mp::kMaxPacketPayload)
    throw std::invalid_argument("command packet too large");
  std::vector<std::uint8_t> packet(mp::kPacketHeaderSize + payload.size());
  mp::encode_packet_header(packet.data(), static_cast<std::uint32_t>(payload.size()), sequence_++);
  std::copy(payload.begin(), payload.end(), packet.begin() + mp::kPacketHeaderSize);
  await(
      [&](auto handler) {
        if (tls_active_)
          asio::async_write(stream_, asio::buffer(packet), handler);
        else
          asio::async_write(stream_.next_layer(), asio::buffer(packet), handler);
      },
      endpoint_.read_timeout, "writing to the server");
}

void MysqlConnection::send_command(const std::vector<std::uint8_t>& payload) {
  sequence_ = 0;
  write_packet(payload);
}

void MysqlConnection::start_tls() {
  auto mode = endpoint_.ssl_mode;
  if (mode == SslMode::kVerifyCa || mode == SslMode::kVerifyIdentity) {
    // The SSL object was created with the context's settings: set the mode on the stream.
    stream_.set_verify_mode(asio::ssl::verify_peer);
    if (!endpoint_.ssl_ca.empty())
      tls_context_.load_verify_file(endpoint_.ssl_ca);
    else
      tls_context_.set_default_verify_paths();
    if (mode == SslMode::kVerifyIdentity)
      stream_.set_verify_callback(asio::ssl::host_name_verification(endpoint_.host));
  } else {
    stream_.set_verify_mode(asio::ssl::verify_none);
  }
  SSL_set_tlsext_host_name(stream_.native_handle(), endpoint_.host.c_str());
  auto request = mp::encode_ssl_request(kClientCapabilities | mp::kClientSsl);
  write_packet(request);
  try {
    await([&](auto handler) { stream_.async_handshake(asio::ssl::stream_base::client, handler); },
          endpoint_.connect_timeout, "negotiating TLS");
  } catch (const ConnectionError& e) {
    throw ConnectionError(std::string(e.what()) +
                          (mode >= SslMode::kVerifyCa
                               ? " (is --ssl-ca the CA that signed the server's certificate, and "
                                 "does the certificate name the host you connect to?)"
                               : ""));
  }
  tls_active_ = true;
}

void MysqlConnection::authenticate() {
  auto hello = read_packet(endpoint_.connect_timeout);
  try {
    server_ = mp::decode_initial_handshake(hello);
  } catch (const DecodeError& e) {
    throw ConnectionError(fmt::format("{}:{}: {}", endpoint_.host, endpoint_.port, e.what()));
  }
  bool server_tls = server_.capabilities & mp::kClientSsl;
  if (endpoint_.ssl_mode != SslMode::kDisabled) {
    if (server_tls)
      start_tls();
    else if (endpoint_.ssl_mode != SslMode::kPreferred)
      throw ConnectionError(fmt::format("{}:{} does not offer TLS, but --ssl-mode requires it",
                                        endpoint_.host, endpoint_.port));
  }
  std::string plugin = server_.auth_plugin == mp::kCachingSha2Password
                           ? std::string(mp::kCachingSha2Password)
                           : std::string(mp::kNativePassword);
  mp::HandshakeResponse response;
  response.capabilities = static_cast<std::uint32_t>(
      (kClientCapabilities | (tls_active_ ? std::uint64_t{mp::kClientSsl} : 0)) &
      (server_.capabilities | mp::kClientSsl));
  response.user = endpoint_.user;
  response.auth_plugin = plugin;
  response.auth_response = mp::scramble_for_plugin(plugin, endpoint_.password, server_.nonce);
  write_packet(mp::encode_handshake_response(response));
  handle_auth_result(plugin, server_.nonce);
}

void MysqlConnection::handle_auth_result(std::string plugin, std::vector<std::uint8_t> nonce) {
  const auto context = fmt::format("authenticating as '{}' at {}:{}", endpoint_.user,
                                   endpoint_.host, endpoint_.port);
  while (true) {
    auto reply = read_packet(endpoint_.connect_timeout);
    if (reply.empty()) throw ConnectionError(context + ": empty packet");
    switch (reply[0]) {
      case 0x00:
        return;
      case 0xff:
        throw ServerError(mp::decode_err_packet(reply), context);
      case 0xfe: {  // AuthSwitchRequest
        auto request = mp::decode_auth_switch(reply);
        plugin = request.plugin;
        nonce = request.nonce;
        auto proof = mp::scramble_for_plugin(plugin, endpoint_.password, nonce);
        write_packet(proof);
        break;
      }
      case 0x01:  // AuthMoreData
        if (plugin != mp::kCachingSha2Password || reply.size() < 2)
          throw ConnectionError(context + ": unexpected authentication data from the server");
        if (reply[1] == kFastAuthSuccess) break;  // the OK packet follows
        if (reply[1] != kPerformFullAuth)
          throw ConnectionError(context + ": unknown caching_sha2_password state");
        caching_sha2_full_auth(nonce);
        break;
      default:
        throw ConnectionError(context + ": unexpected packet during authentication");
    }
  }
}

void MysqlConnection::caching_sha2_full_auth(const std::vector<std::uint8_t>& nonce) {
  if (tls_active_) {  // the channel is private: the password goes as is
    std::vector<std::uint8_t> clear(endpoint_.password.begin(), endpoint_.password.end());
    clear.push_back(0);
    write_packet(clear);
    return;
  }
  std::uint8_t request = kRequestPublicKey;
  write_packet({&request, 1});
  auto key = read_packet(endpoint_.connect_timeout);
  if (key.empty() || key[0] != 0x01)
    throw ConnectionError("the server did not send its RSA public key for caching_sha2_password");
  auto encrypted = mp::rsa_encrypt_password(as_text(key.subspan(1)), endpoint_.password, nonce);
  write_packet(encrypted);
}

mp::ResultSet MysqlConnection::query(std::string_view sql) {
  send_command(mp::encode_query(sql));
  auto context = fmt::format("query '{}'", sql);
  auto first = read_packet();
  if (mp::is_err_packet(first)) throw ServerError(mp::decode_err_packet(first), context);
  mp::ResultSet rs;
  if (mp::is_ok_packet(first)) return rs;
  auto columns = mp::decode_column_count(first);
  for (std::uint64_t i = 0; i < columns; ++i)
    rs.columns.push_back(mp::decode_column_name(read_packet()));
  if (!mp::is_eof_packet(read_packet())) throw ConnectionError(context + ": malformed result set");
  while (true) {
    auto row = read_packet();
    if (mp::is_eof_packet(row)) return rs;
    if (mp::is_err_packet(row)) throw ServerError(mp::decode_err_packet(row), context);
    rs.rows.push_back(mp::decode_text_row(row, columns));
  }
}

void MysqlConnection::execute(std::string_view sql) {
  auto rs = query(sql);
  if (!rs.columns.empty()) throw ConnectionError(fmt::format("'{}' returned rows", sql));
}

}  // namespace pitr::capture
