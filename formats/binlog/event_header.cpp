#include "formats/binlog/event_header.hpp"

namespace pitr::binlog {

EventHeader decode_event_header(Bytes bytes) {
  ByteCursor c(bytes, "event header");
  EventHeader h;
  h.timestamp = c.u32();
  h.type = c.u8();
  h.server_id = c.u32();
  h.event_size = c.u32();
  h.log_pos = c.u32();
  h.flags = c.u16();
  return h;
}

}  // namespace pitr::binlog
