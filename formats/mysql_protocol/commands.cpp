#include "formats/mysql_protocol/commands.hpp"

#include <stdexcept>

#include "formats/mysql_protocol/packet.hpp"

namespace pitr::mysql_protocol {

std::vector<std::uint8_t> encode_query(std::string_view sql) {
  std::vector<std::uint8_t> out{kComQuery};
  append_text(out, sql);
  return out;
}

std::vector<std::uint8_t> encode_register_replica(const RegisterReplica& r) {
  if (r.hostname.size() > 255) throw std::invalid_argument("replica host name too long");
  std::vector<std::uint8_t> out{kComRegisterSlave};
  append_le(out, r.server_id, 4);
  out.push_back(static_cast<std::uint8_t>(r.hostname.size()));
  append_text(out, r.hostname);
  out.push_back(0);  // user
  out.push_back(0);  // password
  append_le(out, r.port, 2);
  append_le(out, 0, 4);  // replication rank
  append_le(out, 0, 4);  // master id
  return out;
}

std::vector<std::uint8_t> encode_binlog_dump(const BinlogDump& d) {
  if (d.position > 0xffffffffu)
    throw std::invalid_argument("COM_BINLOG_DUMP cannot start past 4 GiB; use GTID positioning");
  std::vector<std::uint8_t> out{kComBinlogDump};
  append_le(out, d.position, 4);
  append_le(out, d.flags, 2);
  append_le(out, d.server_id, 4);
  append_text(out, d.file);
  return out;
}

std::vector<std::uint8_t> encode_binlog_dump_gtid(const BinlogDump& d,
                                                  const std::vector<std::uint8_t>& gtid_set) {
  std::vector<std::uint8_t> out{kComBinlogDumpGtid};
  append_le(out, d.flags | kDumpThroughGtid, 2);
  append_le(out, d.server_id, 4);
  append_le(out, d.file.size(), 4);
  append_text(out, d.file);
  append_le(out, d.position, 8);
  append_le(out, gtid_set.size(), 4);
  out.insert(out.end(), gtid_set.begin(), gtid_set.end());
  return out;
}

}  // namespace pitr::mysql_protocol
