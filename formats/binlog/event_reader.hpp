#pragma once
// Walks the events of a binlog file image (or of a transaction payload), checking each
// header, length, checksum and the bodies pitr decodes. The first problem stops the walk
// with a BinlogError that names the file and the event's offset.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "formats/binlog/event_header.hpp"
#include "formats/binlog/format_description.hpp"

namespace pitr::binlog {

class BinlogError : public std::runtime_error {
 public:
  BinlogError(const std::string& file, std::uint64_t offset, const std::string& problem);
  const std::string& file() const { return file_; }
  std::uint64_t offset() const { return offset_; }

 private:
  std::string file_;
  std::uint64_t offset_;
};

struct Event {
  std::uint64_t offset = 0;  // where the event starts in the file
  EventHeader header;
  Bytes raw;   // the event as stored, checksum included
  Bytes data;  // header and body, checksum excluded: what the body decoders take

  std::uint64_t end() const { return offset + raw.size(); }
};

struct ReaderOptions {
  bool verify_checksums = true;
  bool decode_bodies = true;  // validate the bodies of the event types pitr understands
};

class EventReader {
 public:
  // A binlog file: the 4-byte magic, then v4 events.
  EventReader(Bytes file_image, std::string file_name, ReaderOptions options = {});
  // Events without magic or checksums, such as the inside of a TRANSACTION_PAYLOAD.
  static EventReader inner_events(Bytes events, std::string context, FormatDescription fd,
                                  ReaderOptions options = {});
  // Events of a file from `start_offset` on, described by the file's `fd`: the rest of a
  // binlog whose beginning is elsewhere (an archive segment after the first).
  static EventReader continuation(Bytes events, std::string file_name, std::uint64_t start_offset,
                                  FormatDescription fd, ReaderOptions options = {});

  // The next event, or nullopt at a clean end of input.
  std::optional<Event> next();
  const FormatDescription& format() const { return fd_; }
  std::uint64_t offset() const { return base_ + pos_; }

 private:
  EventReader(Bytes data, std::string name, std::uint64_t base, FormatDescription fd,
              ReaderOptions options);
  [[noreturn]] void fail(const std::string& problem) const;
  void check_checksum(const Event& event) const;
  void validate_body(const Event& event) const;

  Bytes image_;
  std::string name_;
  std::uint64_t base_;     // file offset of image_[0]
  std::uint64_t pos_ = 0;  // index of the next event in image_
  FormatDescription fd_;
  ReaderOptions options_;
  bool inner_ = false;
};

}  // namespace pitr::binlog
