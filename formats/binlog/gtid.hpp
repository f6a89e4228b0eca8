#pragma once
// GTIDs of both families: MySQL "uuid:gno" (optionally tagged) and MariaDB
// "domain-server-seq", and the sets/positions built from them.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace pitr::binlog {

using Uuid = std::array<std::uint8_t, 16>;
std::string format_uuid(const Uuid& uuid);

struct MysqlGtid {
  Uuid sid{};
  std::uint64_t gno = 0;
  std::string tag;  // MySQL 8.4+ tagged GTIDs; empty otherwise
  std::string to_string() const;
};

struct MariaGtid {
  std::uint32_t domain = 0;
  std::uint32_t server_id = 0;
  std::uint64_t seq = 0;
  std::string to_string() const;
};

// MySQL GTID set: per source UUID (and tag), sorted disjoint closed intervals.
class MysqlGtidSet {
 public:
  void add(const MysqlGtid& gtid);
  void add_interval(const std::string& source, std::uint64_t first, std::uint64_t last);
  bool empty() const { return sets_.empty(); }
  std::string to_string() const;
  // Parses "uuid:1-5:7,uuid2:3"; throws std::invalid_argument on bad text.
  static MysqlGtidSet parse(const std::string& text);
  // Encoding used by COM_BINLOG_DUMP_GTID (same as PREVIOUS_GTIDS_LOG_EVENT body).
  std::vector<std::uint8_t> encode() const;

 private:
  std::map<std::string, std::vector<std::pair<std::uint64_t, std::uint64_t>>> sets_;
};

// MariaDB GTID position: the last GTID seen per replication domain.
class MariaGtidPosition {
 public:
  void add(const MariaGtid& gtid) { last_[gtid.domain] = gtid; }
  bool empty() const { return last_.empty(); }
  std::string to_string() const;
  static MariaGtidPosition parse(const std::string& text);

 private:
  std::map<std::uint32_t, MariaGtid> last_;
};

}  // namespace pitr::binlog
