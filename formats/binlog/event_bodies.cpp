#include "formats/binlog/event_bodies.hpp"

#include "formats/binlog/event_header.hpp"
#include "formats/binlog/event_types.hpp"

namespace pitr::binlog {
namespace {

// A cursor positioned after the common header, over header + post-header + body.
ByteCursor body_cursor(Bytes event, const FormatDescription& fd, const char* what) {
  ByteCursor c(event, what);
  c.skip(fd.common_header_length);
  return c;
}

// Skips to the end of the post-header as declared by the FDE, after `read` bytes of it.
void finish_post_header(ByteCursor& c, const FormatDescription& fd, std::uint8_t type,
                        std::size_t read) {
  auto declared = fd.post_header_length(type);
  if (declared > read) c.skip(declared - read);
}

}  // namespace

QueryEvent decode_query(Bytes event, const FormatDescription& fd) {
  auto type = event.size() > 4 ? event[4] : 0;
  ByteCursor c = body_cursor(event, fd, "QUERY_EVENT");
  QueryEvent q;
  q.thread_id = c.u32();
  q.exec_time = c.u32();
  auto db_len = c.u8();
  q.error_code = c.u16();
  std::size_t read = 11;
  std::uint16_t status_len = 0;
  if (fd.post_header_length(type) >= 13 || fd.post_header_lengths.empty()) {
    status_len = c.u16();
    read += 2;
  }
  finish_post_header(c, fd, type, read);
  if (status_len > c.remaining())
    throw DecodeError("QUERY_EVENT: status variables length " + std::to_string(status_len) +
                      " runs past the end of the event (" + std::to_string(c.remaining()) +
                      " bytes left)");
  q.status_vars = c.bytes(status_len);
  q.database = c.text(db_len);
  if (c.u8() != 0) throw DecodeError("QUERY_EVENT: database name is not NUL-terminated");
  q.compressed = type == static_cast<std::uint8_t>(EventType::kMariaQueryCompressed);
  auto text = c.rest();
  if (!q.compressed) q.query = as_text(text);
  return q;
}

RotateEvent decode_rotate(Bytes event, const FormatDescription& fd) {
  ByteCursor c = body_cursor(event, fd, "ROTATE_EVENT");
  RotateEvent r;
  r.position = c.u64();
  finish_post_header(c, fd, static_cast<std::uint8_t>(EventType::kRotate), 8);
  r.next_file = std::string(as_text(c.rest()));
  if (r.next_file.empty()) throw DecodeError("ROTATE_EVENT: empty file name");
  return r;
}

std::uint64_t decode_xid(Bytes event, const FormatDescription& fd) {
  ByteCursor c = body_cursor(event, fd, "XID_EVENT");
  finish_post_header(c, fd, static_cast<std::uint8_t>(EventType::kXid), 0);
  return c.u64();
}

MysqlGtidEvent decode_mysql_gtid(Bytes event, const FormatDescription& fd) {
  ByteCursor c = body_cursor(event, fd, "GTID_LOG_EVENT");
  MysqlGtidEvent g;
  g.anonymous = event[4] == static_cast<std::uint8_t>(EventType::kAnonymousGtid);
  c.u8();  // commit flags
  auto sid = c.bytes(16);
  std::copy(sid.begin(), sid.end(), g.gtid.sid.begin());
  g.gtid.gno = c.u64();
  // Logical clock (MySQL 5.7+): type byte 2, then last_committed and sequence_number.
  if (c.remaining() >= 17 && c.u8() == 2) {
    g.last_committed = c.u64();
    g.sequence_number = c.u64();
  }
  return g;
}

MariaGtidEvent decode_maria_gtid(Bytes event, const FormatDescription& fd) {
  ByteCursor c = body_cursor(event, fd, "GTID_EVENT");
  MariaGtidEvent g;
  g.gtid.seq = c.u64();
  g.gtid.domain = c.u32();
  g.gtid.server_id = static_cast<std::uint32_t>(load_le(event.data() + 5, 4));
  g.flags = c.u8();
  if (g.flags & kMariaGtidGroupCommitId) g.commit_id = c.u64();  // right after the flags
  return g;
}

std::vector<MariaGtid> decode_maria_gtid_list(Bytes event, const FormatDescription& fd) {
  ByteCursor c = body_cursor(event, fd, "GTID_LIST_EVENT");
  auto count = c.u32() & 0x0fffffffu;  // top 4 bits are flags
  c.need(static_cast<std::size_t>(count) * 16);
  std::vector<MariaGtid> list;
  for (std::uint32_t i = 0; i < count; ++i) {
    MariaGtid g;
    g.domain = c.u32();
    g.server_id = c.u32();
    g.seq = c.u64();
    list.push_back(g);
  }
  return list;
}

MysqlGtidSet decode_previous_gtids(Bytes event, const FormatDescription& fd) {
  ByteCursor c = body_cursor(event, fd, "PREVIOUS_GTIDS_LOG_EVENT");
  MysqlGtidSet set;
  auto sids = c.u64();
  for (std::uint64_t i = 0; i < sids; ++i) {
    Uuid uuid{};
    auto raw = c.bytes(16);
    std::copy(raw.begin(), raw.end(), uuid.begin());
    auto intervals = c.u64();
    c.need(intervals * 16);
    for (std::uint64_t k = 0; k < intervals; ++k) {
      auto first = c.u64();
      auto end = c.u64();
      if (end <= first) throw DecodeError("PREVIOUS_GTIDS_LOG_EVENT: empty interval");
      set.add_interval(format_uuid(uuid), first, end - 1);
    }
  }
  return set;
}

RowsEventHeader decode_rows_header(Bytes event, const FormatDescription& fd) {
  auto type = event[4];
  ByteCursor c = body_cursor(event, fd, "rows event");
  RowsEventHeader r;
  auto post = fd.post_header_length(type);
  std::size_t id_size = post == 6 ? 4 : 6;
  r.table_id = c.uint(id_size);
  r.flags = c.u16();
  return r;
}

TableMapEvent decode_table_map(Bytes event, const FormatDescription& fd) {
  auto type = static_cast<std::uint8_t>(EventType::kTableMap);
  ByteCursor c = body_cursor(event, fd, "TABLE_MAP_EVENT");
  TableMapEvent t;
  std::size_t id_size = fd.post_header_length(type) == 6 ? 4 : 6;
  t.table_id = c.uint(id_size);
  c.u16();
  finish_post_header(c, fd, type, id_size + 2);
  t.database = c.text(c.u8());
  c.u8();
  t.table = c.text(c.u8());
  c.u8();
  return t;
}

std::string_view decode_rows_query(Bytes event, const FormatDescription& fd) {
  ByteCursor c = body_cursor(event, fd, "ROWS_QUERY_LOG_EVENT");
  if (event[4] == static_cast<std::uint8_t>(EventType::kRowsQuery)) c.u8();  // legacy length
  return as_text(c.rest());
}

}  // namespace pitr::binlog
