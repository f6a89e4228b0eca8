#include "formats/postgres/replication_messages.hpp"

#include <fmt/format.h>

namespace pitr::postgres {

std::uint64_t load_be(const std::uint8_t* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = v << 8 | p[i];
  return v;
}

void store_be(std::uint8_t* p, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) p[n - 1 - i] = static_cast<std::uint8_t>(v >> (8 * i));
}

ServerMessage parse_server_message(Bytes m) {
  if (m.empty()) throw DecodeError("empty replication message");
  auto need = [&](std::size_t n, const char* what) {
    if (m.size() < n)
      throw DecodeError(
          fmt::format("{} message of {} bytes is shorter than {}", what, m.size(), n));
  };
  if (m[0] == 'w') {
    need(25, "XLogData");
    XLogData d;
    d.start = load_be(m.data() + 1, 8);
    d.wal_end = load_be(m.data() + 9, 8);
    d.send_time = static_cast<std::int64_t>(load_be(m.data() + 17, 8));
    d.data = m.subspan(25);
    return d;
  }
  if (m[0] == 'k') {
    need(18, "keepalive");
    Keepalive k;
    k.wal_end = load_be(m.data() + 1, 8);
    k.send_time = static_cast<std::int64_t>(load_be(m.data() + 9, 8));
    k.reply_requested = m[17] != 0;
    return k;
  }
  throw DecodeError(fmt::format("unknown replication message type {:#04x}", m[0]));
}

std::vector<std::uint8_t> encode_standby_status(const StandbyStatus& s) {
  std::vector<std::uint8_t> out(34);
  out[0] = 'r';
  store_be(out.data() + 1, s.written, 8);
  store_be(out.data() + 9, s.flushed, 8);
  store_be(out.data() + 17, s.applied, 8);
  store_be(out.data() + 25, static_cast<std::uint64_t>(s.now), 8);
  out[33] = s.reply_requested ? 1 : 0;
  return out;
}

}  // namespace pitr::postgres
