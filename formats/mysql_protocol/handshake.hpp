#pragma once
// Connection phase: the server's HandshakeV10, the client's SSLRequest and
// HandshakeResponse41, and the AuthSwitchRequest.
#include <cstdint>
#include <string>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr::mysql_protocol {

struct InitialHandshake {
  std::string server_version;
  std::uint32_t connection_id = 0;
  std::vector<std::uint8_t> nonce;  // the 20-byte auth plugin data ("scramble")
  std::uint64_t capabilities = 0;
  std::uint8_t charset = 0;
  std::string auth_plugin;

  bool is_mariadb() const { return server_version.find("MariaDB") != std::string::npos; }
};
InitialHandshake decode_initial_handshake(Bytes payload);

inline constexpr std::uint8_t kCharsetUtf8mb4 = 45;
inline constexpr std::uint32_t kMaxPacketSize = 1u << 30;

std::vector<std::uint8_t> encode_ssl_request(std::uint32_t capabilities);

struct HandshakeResponse {
  std::uint32_t capabilities = 0;
  std::string user;
  std::vector<std::uint8_t> auth_response;
  std::string auth_plugin;
};
std::vector<std::uint8_t> encode_handshake_response(const HandshakeResponse& r);

struct AuthSwitchRequest {
  std::string plugin;
  std::vector<std::uint8_t> nonce;
};
AuthSwitchRequest decode_auth_switch(Bytes payload);

}  // namespace pitr::mysql_protocol
