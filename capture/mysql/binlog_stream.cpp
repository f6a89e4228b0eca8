#include "capture/mysql/binlog_stream.hpp"

#include <fmt/format.h>

#include "formats/binlog/gtid.hpp"
#include "formats/mysql_protocol/commands.hpp"

namespace pitr::capture {

namespace mp = mysql_protocol;

namespace {

std::string sql_string(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

BinlogStream::BinlogStream(MysqlConnection& c, const ServerIdentity& server,
                           const DumpRequest& request)
    : connection_(c),
      timeout_(
          std::max<std::chrono::milliseconds>(request.heartbeat * 3, std::chrono::seconds(10))) {
  // Events must arrive exactly as the server wrote them, checksums included.
  c.execute("SET @master_binlog_checksum = @@global.binlog_checksum");
  auto period_ns = std::chrono::nanoseconds(request.heartbeat).count();
  c.execute(fmt::format("SET @master_heartbeat_period = {}", period_ns));
  if (server.mariadb) {
    // Capability 4 (GTID): the server sends its events unchanged instead of rewriting
    // them for an old replica.
    c.execute("SET @mariadb_slave_capability = 4");
    if (request.gtid) {
      c.execute("SET @slave_connect_state = " + sql_string(*request.gtid));
      c.execute("SET @slave_gtid_strict_mode = 0");
      c.execute("SET @slave_gtid_ignore_duplicates = 0");
    }
  }
  c.send_command(mp::encode_register_replica({request.replica_server_id, "pitr", 0}));
  auto reply = c.read_packet();
  if (mp::is_err_packet(reply))
    throw ServerError(mp::decode_err_packet(reply), "registering as a replica");

  mp::BinlogDump dump{request.replica_server_id, request.file, request.position, 0};
  if (request.non_blocking) dump.flags |= mp::kDumpNonBlock;
  if (server.mariadb) dump.flags |= mp::kDumpSendAnnotateRows;
  if (request.gtid && !server.mariadb) {
    dump.file.clear();
    dump.position = 4;
    c.send_command(
        mp::encode_binlog_dump_gtid(dump, binlog::MysqlGtidSet::parse(*request.gtid).encode()));
  } else {
    if (request.gtid) {
      dump.file.clear();
      dump.position = 4;
    }
    c.send_command(mp::encode_binlog_dump(dump));
  }
}

std::optional<EventStart> BinlogStream::next_event() {
  if (continued_ || remaining_)
    throw std::logic_error("next_event() called before the previous event was read whole");
  auto packet = connection_.read_packet(timeout_);
  if (packet.empty()) throw ConnectionError("empty packet in the binlog stream");
  if (packet[0] == 0xff) throw ServerError(mp::decode_err_packet(packet), "reading the binlog");
  if (mp::is_eof_packet(packet)) return std::nullopt;
  if (packet[0] != 0x00) throw ConnectionError("unexpected packet in the binlog stream");
  auto bytes = packet.subspan(1);
  if (bytes.size() < binlog::kEventHeaderSize)
    throw ConnectionError(
        fmt::format("binlog stream packet of {} bytes is too short for an event", bytes.size()));
  EventStart ev{binlog::decode_event_header(bytes), bytes, false};
  if (ev.header.event_size < binlog::kEventHeaderSize || bytes.size() > ev.header.event_size)
    throw ConnectionError(fmt::format("event size {} does not match its packet ({} bytes)",
                                      ev.header.event_size, bytes.size()));
  continued_ = packet.size() == mp::kMaxPacketPayload;
  remaining_ = ev.header.event_size - bytes.size();
  ev.more = remaining_ > 0 || continued_;
  if (remaining_ > 0 && !continued_)
    throw ConnectionError(
        fmt::format("event of {} bytes arrived with only {}", ev.header.event_size, bytes.size()));
  return ev;
}

std::optional<Bytes> BinlogStream::next_chunk() {
  if (!continued_) {
    if (remaining_) throw ConnectionError("event ended early in the binlog stream");
    return std::nullopt;
  }
  auto packet = connection_.read_packet(timeout_);
  continued_ = packet.size() == mp::kMaxPacketPayload;
  if (packet.size() > remaining_)
    throw ConnectionError("event continues past its declared size in the binlog stream");
  remaining_ -= packet.size();
  return packet;
}

}  // namespace pitr::capture
