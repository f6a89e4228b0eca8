#pragma once
// Command packets pitr sends: COM_QUERY, COM_REGISTER_SLAVE and the binlog dumps.
#include <cstdint>
#include <string>
#include <vector>

namespace pitr::mysql_protocol {

enum Command : std::uint8_t {
  kComQuit = 0x01,
  kComQuery = 0x03,
  kComBinlogDump = 0x12,
  kComRegisterSlave = 0x15,
  kComBinlogDumpGtid = 0x1e,
};

// COM_BINLOG_DUMP flags.
inline constexpr std::uint16_t kDumpNonBlock = 0x01;
inline constexpr std::uint16_t kDumpSendAnnotateRows = 0x02;  // MariaDB
inline constexpr std::uint16_t kDumpThroughGtid = 0x04;       // MySQL COM_BINLOG_DUMP_GTID

std::vector<std::uint8_t> encode_query(std::string_view sql);

struct RegisterReplica {
  std::uint32_t server_id = 0;
  std::string hostname;
  std::uint16_t port = 0;
};
std::vector<std::uint8_t> encode_register_replica(const RegisterReplica& r);

struct BinlogDump {
  std::uint32_t server_id = 0;
  std::string file;
  std::uint64_t position = 4;
  std::uint16_t flags = 0;
};
std::vector<std::uint8_t> encode_binlog_dump(const BinlogDump& d);
// MySQL GTID auto-positioning: `gtid_set` is the encoded set of GTIDs already held.
std::vector<std::uint8_t> encode_binlog_dump_gtid(const BinlogDump& d,
                                                  const std::vector<std::uint8_t>& gtid_set);

}  // namespace pitr::mysql_protocol
