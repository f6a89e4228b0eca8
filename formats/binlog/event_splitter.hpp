#pragma once
// Cuts a stream of binlog bytes, arriving in chunks of any size, into events. Events up to
// `max_whole` bytes are handed over whole; a larger one only with its first `max_whole`
// bytes, so that memory stays bounded whatever the event size.
#include <cstdint>
#include <functional>
#include <vector>

#include "formats/binlog/event_header.hpp"

namespace pitr::binlog {

struct StreamedEvent {
  std::uint64_t offset = 0;
  EventHeader header;
  Bytes bytes;  // the whole event, or its beginning when !whole
  bool whole = true;
};

class EventSplitter {
 public:
  using Sink = std::function<void(const StreamedEvent&)>;
  // `start_offset` is the file offset of the first byte fed; 0 means the stream begins
  // with the 4-byte binlog magic.
  explicit EventSplitter(std::uint64_t start_offset, std::size_t max_whole = 16u << 20);

  // Throws DecodeError for an event header that cannot be right.
  void feed(Bytes chunk, const Sink& sink);
  // True when the bytes fed so far end exactly after an event.
  bool at_event_boundary() const { return pending_.empty() && skip_ == 0; }
  std::uint64_t offset() const { return offset_; }

 private:
  void emit(const Sink& sink, Bytes bytes, bool whole);

  std::uint64_t offset_;  // file offset of the next byte to be consumed into an event
  std::size_t max_whole_;
  std::size_t magic_left_;
  std::vector<std::uint8_t> pending_;
  std::uint64_t skip_ = 0;  // bytes of an oversized event still to discard
  EventHeader current_;
  std::uint64_t current_offset_ = 0;
};

}  // namespace pitr::binlog
