#include "formats/binlog/event_splitter.hpp"

#include <algorithm>
#include <string>

namespace pitr::binlog {

EventSplitter::EventSplitter(std::uint64_t start_offset, std::size_t max_whole)
    : offset_(start_offset),
      max_whole_(std::max<std::size_t>(max_whole, kEventHeaderSize)),
      magic_left_(start_offset == 0 ? sizeof kBinlogMagic : 0) {}

void EventSplitter::emit(const Sink& sink, Bytes bytes, bool whole) {
  sink(StreamedEvent{current_offset_, current_, bytes, whole});
}

void EventSplitter::feed(Bytes chunk, const Sink& sink) {
  if (magic_left_) {
    auto n = std::min<std::size_t>(magic_left_, chunk.size());
    magic_left_ -= n;
    offset_ += n;
    chunk = chunk.subspan(n);
  }
  while (!chunk.empty()) {
    if (skip_) {  // the tail of an oversized event
      auto n = std::min<std::uint64_t>(skip_, chunk.size());
      skip_ -= n;
      offset_ += n;
      chunk = chunk.subspan(n);
      continue;
    }
    if (pending_.size() < kEventHeaderSize) {
      auto n = std::min(kEventHeaderSize - pending_.size(), chunk.size());
      pending_.insert(pending_.end(), chunk.begin(), chunk.begin() + static_cast<long>(n));
      chunk = chunk.subspan(n);
      if (pending_.size() < kEventHeaderSize) return;
      current_ = decode_event_header(pending_);
      current_offset_ = offset_;
      if (current_.event_size < kEventHeaderSize)
        throw DecodeError("event at offset " + std::to_string(offset_) + " declares size " +
                          std::to_string(current_.event_size));
    }
    std::size_t want = std::min<std::uint64_t>(current_.event_size, max_whole_);
    auto n = std::min(want - pending_.size(), chunk.size());
    pending_.insert(pending_.end(), chunk.begin(), chunk.begin() + static_cast<long>(n));
    chunk = chunk.subspan(n);
    if (pending_.size() < want) return;
    bool whole = want == current_.event_size;
    emit(sink, pending_, whole);
    offset_ += pending_.size();
    skip_ = current_.event_size - pending_.size();
    pending_.clear();
  }
}

}  // namespace pitr::binlog
