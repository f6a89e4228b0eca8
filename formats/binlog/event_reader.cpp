#include "formats/binlog/event_reader.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "formats/binlog/checksum.hpp"
#include "formats/binlog/event_bodies.hpp"
#include "formats/binlog/event_types.hpp"
#include "formats/binlog/transaction_payload.hpp"

namespace pitr::binlog {

BinlogError::BinlogError(const std::string& file, std::uint64_t offset, const std::string& problem)
    : std::runtime_error(fmt::format("{}: at offset {}: {}", file, offset, problem)),
      file_(file),
      offset_(offset) {}

EventReader::EventReader(Bytes data, std::string name, std::uint64_t base, FormatDescription fd,
                         ReaderOptions options)
    : image_(data), name_(std::move(name)), base_(base), fd_(std::move(fd)), options_(options) {}

EventReader::EventReader(Bytes file_image, std::string file_name, ReaderOptions options)
    : EventReader(file_image, std::move(file_name), 0, FormatDescription{}, options) {
  if (image_.size() < sizeof kBinlogMagic ||
      !std::equal(std::begin(kBinlogMagic), std::end(kBinlogMagic), image_.begin()))
    fail("not a binlog file: it does not start with the binlog magic bytes fe 62 69 6e");
  pos_ = sizeof kBinlogMagic;
}

EventReader EventReader::inner_events(Bytes events, std::string context, FormatDescription fd,
                                      ReaderOptions options) {
  fd.checksum = ChecksumAlgorithm::kOff;
  EventReader reader(events, std::move(context), 0, std::move(fd), options);
  reader.inner_ = true;
  return reader;
}

EventReader EventReader::continuation(Bytes events, std::string file_name,
                                      std::uint64_t start_offset, FormatDescription fd,
                                      ReaderOptions options) {
  return EventReader(events, std::move(file_name), start_offset, std::move(fd), options);
}

void EventReader::fail(const std::string& problem) const {
  throw BinlogError(name_, offset(), problem);
}

std::optional<Event> EventReader::next() {
  auto left = image_.size() - pos_;
  if (left == 0) return std::nullopt;
  if (left < kEventHeaderSize)
    fail(fmt::format("truncated event header: {} bytes left, a header needs {}", left,
                     kEventHeaderSize));
  Event ev;
  ev.offset = offset();
  ev.header = decode_event_header(image_.subspan(pos_, kEventHeaderSize));
  if (ev.header.event_size < kEventHeaderSize)
    fail(fmt::format("event size {} is smaller than the event header", ev.header.event_size));
  if (ev.header.event_size > left)
    fail(fmt::format("truncated event: {} ({}) declares {} bytes, only {} left",
                     event_type_name(ev.header.type), ev.header.type, ev.header.event_size, left));
  ev.raw = image_.subspan(pos_, ev.header.event_size);
  if (ev.header.type == static_cast<std::uint8_t>(EventType::kFormatDescription)) {
    try {
      fd_ = decode_format_description(ev.raw);
    } catch (const DecodeError& e) {
      fail(e.what());
    }
    if (inner_) fd_.checksum = ChecksumAlgorithm::kOff;
  }
  bool has_crc_field =
      fd_.checksum == ChecksumAlgorithm::kCrc32 ||
      (ev.header.type == static_cast<std::uint8_t>(EventType::kFormatDescription) &&
       version_has_checksum_byte(fd_.server_version));
  if (has_crc_field && ev.raw.size() < kEventHeaderSize + kChecksumSize)
    fail("event too short to hold its checksum");
  ev.data = has_crc_field ? ev.raw.first(ev.raw.size() - kChecksumSize) : ev.raw;
  if (!is_known_event_type(ev.header.type) && !ev.header.ignorable())
    fail(
        fmt::format("unknown event type {} without the ignorable flag: this binlog was written "
                    "by a server newer than this pitr",
                    ev.header.type));
  if (options_.verify_checksums && fd_.checksum == ChecksumAlgorithm::kCrc32) check_checksum(ev);
  if (options_.decode_bodies) validate_body(ev);
  pos_ += ev.header.event_size;
  return ev;
}

void EventReader::check_checksum(const Event& ev) const {
  auto stored = expected_event_crc(ev.raw);
  auto computed = compute_event_crc(ev.raw);
  if (stored != computed)
    fail(fmt::format("checksum mismatch in {}: stored {:08x}, computed {:08x}",
                     event_type_name(ev.header.type), stored, computed));
}

void EventReader::validate_body(const Event& ev) const {
  try {
    switch (static_cast<EventType>(ev.header.type)) {
      case EventType::kQuery:
      case EventType::kMariaQueryCompressed:
        decode_query(ev.data, fd_);
        break;
      case EventType::kRotate:
        decode_rotate(ev.data, fd_);
        break;
      case EventType::kXid:
        decode_xid(ev.data, fd_);
        break;
      case EventType::kGtid:
      case EventType::kAnonymousGtid:
        decode_mysql_gtid(ev.data, fd_);
        break;
      case EventType::kMariaGtid:
        decode_maria_gtid(ev.data, fd_);
        break;
      case EventType::kMariaGtidList:
        decode_maria_gtid_list(ev.data, fd_);
        break;
      case EventType::kPreviousGtids:
        decode_previous_gtids(ev.data, fd_);
        break;
      case EventType::kTableMap:
        decode_table_map(ev.data, fd_);
        break;
      case EventType::kTransactionPayload:
        decode_transaction_payload(ev.data, fd_);
        break;
      default:
        if (is_rows_event(ev.header.type)) decode_rows_header(ev.data, fd_);
        break;
    }
  } catch (const DecodeError& e) {
    fail(e.what());
  }
}

}  // namespace pitr::binlog
