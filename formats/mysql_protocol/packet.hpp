#pragma once
// MySQL client/server protocol framing and the generic OK / ERR / EOF packets.
#include <cstdint>
#include <string>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr::mysql_protocol {

inline constexpr std::size_t kPacketHeaderSize = 4;
// A payload of exactly this size is continued in the next packet.
inline constexpr std::size_t kMaxPacketPayload = 0xffffff;

// Capability flags (the subset pitr uses or must recognise).
enum Capability : std::uint64_t {
  kClientLongPassword = 1,
  kClientFoundRows = 2,
  kClientLongFlag = 4,
  kClientConnectWithDb = 8,
  kClientProtocol41 = 512,
  kClientSsl = 2048,
  kClientTransactions = 8192,
  kClientSecureConnection = 32768,
  kClientMultiResults = 1u << 17,
  kClientPluginAuth = 1u << 19,
  kClientConnectAttrs = 1u << 20,
  kClientPluginAuthLenencData = 1u << 21,
  kClientDeprecateEof = 1u << 24,
};

struct PacketHeader {
  std::uint32_t length = 0;
  std::uint8_t sequence = 0;
};
PacketHeader decode_packet_header(Bytes four_bytes);
void encode_packet_header(std::uint8_t* out, std::uint32_t length, std::uint8_t sequence);

struct ErrPacket {
  std::uint16_t code = 0;
  std::string sql_state;
  std::string message;
  std::string to_string() const;
};

inline bool is_ok_packet(Bytes p) {
  return !p.empty() && p[0] == 0x00;
}
inline bool is_err_packet(Bytes p) {
  return !p.empty() && p[0] == 0xff;
}
// The old-style EOF packet (0xfe and shorter than 9 bytes).
inline bool is_eof_packet(Bytes p) {
  return !p.empty() && p[0] == 0xfe && p.size() < 9;
}

ErrPacket decode_err_packet(Bytes payload);

// Appends a length-encoded integer / string, as the protocol writes them.
void append_lenenc(std::vector<std::uint8_t>& out, std::uint64_t value);
void append_le(std::vector<std::uint8_t>& out, std::uint64_t value, std::size_t bytes);
void append_text(std::vector<std::uint8_t>& out, std::string_view text);

}  // namespace pitr::mysql_protocol
