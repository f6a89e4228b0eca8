#pragma once
// The messages of PostgreSQL's streaming replication sub-protocol, carried in CopyData
// (protocol-replication.html): XLogData and keepalives from the server, standby status
// updates from the client. All integers are big-endian.
#include <cstdint>
#include <variant>
#include <vector>

#include "formats/byte_cursor.hpp"
#include "formats/postgres/lsn.hpp"

namespace pitr::postgres {

struct XLogData {
  Lsn start = 0;    // LSN of the first byte of `data`
  Lsn wal_end = 0;  // the server's current end of WAL
  std::int64_t send_time = 0;
  Bytes data;  // points into the message
};

struct Keepalive {
  Lsn wal_end = 0;
  std::int64_t send_time = 0;
  bool reply_requested = false;
};

using ServerMessage = std::variant<XLogData, Keepalive>;

// Throws DecodeError for an unknown type or a short message.
ServerMessage parse_server_message(Bytes message);

struct StandbyStatus {
  Lsn written = 0, flushed = 0, applied = 0;
  std::int64_t now = 0;  // PostgreSQL timestamp
  bool reply_requested = false;
};

std::vector<std::uint8_t> encode_standby_status(const StandbyStatus& status);

std::uint64_t load_be(const std::uint8_t* p, std::size_t n);
void store_be(std::uint8_t* p, std::uint64_t v, std::size_t n);

}  // namespace pitr::postgres
