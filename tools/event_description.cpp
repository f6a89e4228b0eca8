#include "tools/event_description.hpp"

#include "formats/binlog/event_bodies.hpp"
#include "formats/binlog/event_types.hpp"
#include "formats/binlog/transaction_payload.hpp"

namespace pitr::tools {

using binlog::EventType;

nlohmann::json describe_event(const binlog::Event& ev, const binlog::FormatDescription& fd) {
  nlohmann::json j = nlohmann::json::object();
  const auto data = ev.data;
  switch (static_cast<EventType>(ev.header.type)) {
    case EventType::kQuery:
    case EventType::kMariaQueryCompressed: {
      auto q = binlog::decode_query(data, fd);
      if (!q.database.empty()) j["db"] = std::string(q.database);
      j["query"] = q.compressed ? std::string("(compressed)") : std::string(q.query);
      break;
    }
    case EventType::kXid:
      j["xid"] = binlog::decode_xid(data, fd);
      break;
    case EventType::kGtid:
    case EventType::kAnonymousGtid: {
      auto g = binlog::decode_mysql_gtid(data, fd);
      j["gtid"] = g.anonymous ? std::string("ANONYMOUS") : g.gtid.to_string();
      if (g.last_committed) j["last_committed"] = *g.last_committed;
      if (g.sequence_number) j["sequence_number"] = *g.sequence_number;
      break;
    }
    case EventType::kMariaGtid: {
      auto g = binlog::decode_maria_gtid(data, fd);
      j["gtid"] = g.gtid.to_string();
      j["standalone"] = g.standalone();
      if (g.commit_id) j["commit_id"] = *g.commit_id;
      break;
    }
    case EventType::kRotate: {
      auto r = binlog::decode_rotate(data, fd);
      j["next_file"] = r.next_file;
      j["next_file_pos"] = r.position;
      break;
    }
    case EventType::kFormatDescription:
      j["server_version"] = fd.server_version;
      j["checksum"] = fd.checksum == binlog::ChecksumAlgorithm::kCrc32 ? "CRC32" : "NONE";
      break;
    case EventType::kTableMap: {
      auto t = binlog::decode_table_map(data, fd);
      j["table"] = std::string(t.database) + "." + std::string(t.table);
      j["table_id"] = t.table_id;
      break;
    }
    case EventType::kMariaAnnotateRows:
    case EventType::kRowsQuery:
      j["query"] = std::string(binlog::decode_rows_query(data, fd));
      break;
    case EventType::kMariaGtidList: {
      std::string list;
      for (auto& g : binlog::decode_maria_gtid_list(data, fd))
        list += (list.empty() ? "" : ",") + g.to_string();
      j["gtid_list"] = list;
      break;
    }
    case EventType::kPreviousGtids:
      j["gtid_set"] = binlog::decode_previous_gtids(data, fd).to_string();
      break;
    case EventType::kTransactionPayload: {
      auto p = binlog::decode_transaction_payload(data, fd);
      j["compression"] = p.compression == binlog::PayloadCompression::kZstd ? "zstd" : "none";
      j["uncompressed_size"] = p.uncompressed_size;
      break;
    }
    default:
      if (binlog::is_rows_event(ev.header.type))
        j["table_id"] = binlog::decode_rows_header(data, fd).table_id;
      break;
  }
  return j;
}

}  // namespace pitr::tools
