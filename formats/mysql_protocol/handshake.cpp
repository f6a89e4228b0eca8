#include "formats/mysql_protocol/handshake.hpp"

#include "formats/mysql_protocol/packet.hpp"

namespace pitr::mysql_protocol {

InitialHandshake decode_initial_handshake(Bytes payload) {
  ByteCursor c(payload, "server handshake");
  auto protocol = c.u8();
  if (protocol == 0xff)
    throw DecodeError("server refused the connection: " + decode_err_packet(payload).to_string());
  if (protocol != 10)
    throw DecodeError("unsupported protocol version " + std::to_string(protocol) +
                      " in the server handshake (expected 10)");
  InitialHandshake h;
  h.server_version = std::string(c.cstring());
  h.connection_id = c.u32();
  auto part1 = c.bytes(8);
  h.nonce.assign(part1.begin(), part1.end());
  c.u8();  // filler
  h.capabilities = c.u16();
  if (c.empty()) return h;
  h.charset = c.u8();
  c.u16();  // status flags
  h.capabilities |= std::uint64_t{c.u16()} << 16;
  auto auth_data_len = c.u8();
  c.skip(10);  // reserved (MariaDB keeps extended capabilities here)
  if (h.capabilities & kClientSecureConnection) {
    std::size_t len2 = std::max<int>(13, auth_data_len - 8);
    auto part2 = c.bytes(std::min(len2, c.remaining()));
    h.nonce.insert(h.nonce.end(), part2.begin(), part2.end());
    if (!h.nonce.empty() && h.nonce.back() == 0) h.nonce.pop_back();
  }
  if ((h.capabilities & kClientPluginAuth) && !c.empty()) {
    auto rest = as_text(c.rest());
    h.auth_plugin = std::string(rest.substr(0, rest.find('\0')));
  }
  return h;
}

std::vector<std::uint8_t> encode_ssl_request(std::uint32_t capabilities) {
  std::vector<std::uint8_t> out;
  append_le(out, capabilities, 4);
  append_le(out, kMaxPacketSize, 4);
  out.push_back(kCharsetUtf8mb4);
  out.resize(out.size() + 23, 0);
  return out;
}

std::vector<std::uint8_t> encode_handshake_response(const HandshakeResponse& r) {
  auto out = encode_ssl_request(r.capabilities);
  append_text(out, r.user);
  out.push_back(0);
  if (r.capabilities & kClientPluginAuthLenencData) {
    append_lenenc(out, r.auth_response.size());
  } else {
    out.push_back(static_cast<std::uint8_t>(r.auth_response.size()));
  }
  out.insert(out.end(), r.auth_response.begin(), r.auth_response.end());
  if (r.capabilities & kClientPluginAuth) {
    append_text(out, r.auth_plugin);
    out.push_back(0);
  }
  return out;
}

AuthSwitchRequest decode_auth_switch(Bytes payload) {
  ByteCursor c(payload, "auth switch request");
  c.u8();
  AuthSwitchRequest a;
  a.plugin = std::string(c.cstring());
  auto rest = c.rest();
  a.nonce.assign(rest.begin(), rest.end());
  if (!a.nonce.empty() && a.nonce.back() == 0) a.nonce.pop_back();
  return a;
}

}  // namespace pitr::mysql_protocol
