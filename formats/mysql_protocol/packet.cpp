#include "formats/mysql_protocol/packet.hpp"

#include <fmt/format.h>

namespace pitr::mysql_protocol {

PacketHeader decode_packet_header(Bytes b) {
  ByteCursor c(b, "packet header");
  PacketHeader h;
  h.length = static_cast<std::uint32_t>(c.uint(3));
  h.sequence = c.u8();
  return h;
}

void encode_packet_header(std::uint8_t* out, std::uint32_t length, std::uint8_t sequence) {
  store_le(out, length, 3);
  out[3] = sequence;
}

std::string ErrPacket::to_string() const {
  return sql_state.empty() ? fmt::format("error {}: {}", code, message)
                           : fmt::format("error {} ({}): {}", code, sql_state, message);
}

ErrPacket decode_err_packet(Bytes payload) {
  ByteCursor c(payload, "ERR packet");
  if (c.u8() != 0xff) throw DecodeError("ERR packet: wrong marker byte");
  ErrPacket e;
  e.code = c.u16();
  if (!c.empty() && payload[c.offset()] == '#') {
    c.skip(1);
    e.sql_state = std::string(c.text(5));
  }
  e.message = std::string(as_text(c.rest()));
  return e;
}

void append_le(std::vector<std::uint8_t>& out, std::uint64_t value, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i)
    out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

void append_lenenc(std::vector<std::uint8_t>& out, std::uint64_t v) {
  if (v < 0xfb) {
    out.push_back(static_cast<std::uint8_t>(v));
  } else if (v <= 0xffff) {
    out.push_back(0xfc);
    append_le(out, v, 2);
  } else if (v <= 0xffffff) {
    out.push_back(0xfd);
    append_le(out, v, 3);
  } else {
    out.push_back(0xfe);
    append_le(out, v, 8);
  }
}

void append_text(std::vector<std::uint8_t>& out, std::string_view text) {
  out.insert(out.end(), text.begin(), text.end());
}

}  // namespace pitr::mysql_protocol
