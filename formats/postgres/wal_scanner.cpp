#include "formats/postgres/wal_scanner.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "formats/crc32c.hpp"
#include "formats/postgres/wal_record.hpp"

namespace pitr::postgres {
namespace {

constexpr std::size_t kShortPageHeader = 24;  // MAXALIGN(sizeof(XLogPageHeaderData))
constexpr std::size_t kLongPageHeader = 40;   // MAXALIGN(sizeof(XLogLongPageHeaderData))
constexpr std::uint16_t kFirstIsContRecord = 0x0001;
constexpr std::uint16_t kLongHeader = 0x0002;
constexpr std::size_t kRecordHeader = 24;  // sizeof(XLogRecord)
constexpr std::uint32_t kMaxRecord = 1020u * 1024 * 1024;

constexpr std::uint8_t kRmXlog = 0, kRmXact = 1;
constexpr std::uint8_t kXlogSwitch = 0x40, kXlogRestorePoint = 0x70;
constexpr std::uint8_t kXactOpMask = 0x70, kXactHasInfo = 0x80;
constexpr std::uint8_t kXactCommit = 0x00, kXactAbort = 0x20, kXactCommitPrepared = 0x30,
                       kXactAbortPrepared = 0x40;

Lsn align8(Lsn v) {
  return (v + 7) & ~Lsn{7};
}

std::string lsn_text(Lsn lsn) {
  return format_lsn(lsn);
}

// xl_xact_commit/abort after xact_time: walks the optional parts up to the two-phase xid.
std::uint32_t prepared_xid(ByteCursor& c, bool commit, std::uint16_t magic) {
  auto xinfo = c.u32();
  if (xinfo & 0x01) c.skip(8);                          // dbinfo
  if (xinfo & 0x02) c.skip(4 * std::size_t{c.u32()});   // subxacts
  if (xinfo & 0x04) c.skip(12 * std::size_t{c.u32()});  // relfilenodes
  if (xinfo & 0x100) c.skip((magic >= kWalMagicPg17 ? 16 : 12) * std::size_t{c.u32()});  // stats
  if (commit && (xinfo & 0x08)) c.skip(16 * std::size_t{c.u32()});  // invalidations
  if (!(xinfo & 0x10)) throw DecodeError("prepared transaction record without its xid");
  return c.u32();
}

}  // namespace

Bytes wal_record_main_data(Bytes record, std::uint16_t page_magic) {
  return decode_wal_record(record, page_magic).main_data;
}

void WalScanner::start_at(Lsn lsn) {
  started_ = true;
  ended_ = false;
  pos_ = lsn;
  header_.clear();
  record_.clear();
  skip_ = 0;
  skip_then_align_ = false;
  // Mid-page: whatever record is in progress began before us; resume at the next page.
  if (lsn % kWalPageSize != 0) skip_ = kWalPageSize - lsn % kWalPageSize;
  skipping_unknown_ = skip_ > 0;
}

WalScanner::OpenRecord WalScanner::open_record() const {
  if (!record_.empty()) return {true, true, record_lsn_};
  if (skipping_unknown_) return {true, false, 0};
  return {};
}

void WalScanner::feed(Lsn lsn, Bytes data, const WalEventSink& sink) {
  if (!started_ || lsn != pos_) start_at(lsn);
  while (!data.empty() && !ended_) {
    std::size_t n;
    if (skip_ > 0) {
      n = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, data.size()));
      skip_ -= n;
      pos_ += n;
      if (skip_ == 0 && skip_then_align_) {
        skip_then_align_ = false;
        skipping_unknown_ = false;
        skip_ = align8(pos_) - pos_;
      }
    } else if (pos_ % kWalPageSize == 0 || !header_.empty()) {
      n = consume_page_header(data);
    } else {
      n = consume_record_bytes(data, sink);
    }
    data = data.subspan(n);
  }
}

std::size_t WalScanner::consume_page_header(Bytes data) {
  auto page_start = pos_ - header_.size();
  bool long_header = page_start % segment_size_ == 0;
  auto want = long_header ? kLongPageHeader : kShortPageHeader;
  auto n = std::min(want - header_.size(), data.size());
  header_.insert(header_.end(), data.begin(), data.begin() + static_cast<long>(n));
  pos_ += n;
  if (header_.size() < want) return n;
  ByteCursor c(header_, "WAL page header");
  auto magic = c.u16();
  auto info = c.u16();
  c.skip(4);  // timeline
  auto page_addr = c.u64();
  auto rem_len = c.u32();
  header_.clear();
  if (magic == 0 && page_addr == 0) {
    ended_ = true;
    return n;
  }
  if ((magic >> 8) != 0xD1 || (magic_ != 0 && magic != magic_))
    throw DecodeError(fmt::format("WAL page at {} has magic {:#x}, not a WAL page of this server",
                                  lsn_text(page_start), magic));
  magic_ = magic;
  if (page_addr != page_start)
    throw DecodeError(fmt::format("WAL page at {} says it belongs at {}", lsn_text(page_start),
                                  lsn_text(page_addr)));
  if (long_header) {
    if (!(info & kLongHeader))
      throw DecodeError(
          fmt::format("WAL segment at {} lacks its long header", lsn_text(page_start)));
    c.skip(4);  // alignment of xlp_sysid
    system_id_ = c.u64();
    if (c.u32() != segment_size_ || c.u32() != kWalPageSize)
      throw DecodeError(fmt::format(
          "WAL segment at {} was written with another segment or page size", lsn_text(page_start)));
  }
  auto page_left = kWalPageSize - pos_ % kWalPageSize;
  if (info & kFirstIsContRecord) {
    if (!record_.empty()) {
      if (rem_len != load_le(record_.data(), 4) - record_.size())
        throw DecodeError(fmt::format(
            "WAL page at {} continues a record with {} bytes, expected {}", lsn_text(page_start),
            rem_len, load_le(record_.data(), 4) - record_.size()));
    } else {
      skip_ = std::min<std::uint64_t>(rem_len, page_left);
      skip_then_align_ = rem_len <= page_left;
      skipping_unknown_ = true;
      if (skip_ == 0) skip_ = align8(pos_) - pos_;
    }
  } else {
    record_.clear();  // a record the server abandoned (crash) and wrote over
    skipping_unknown_ = false;
  }
  return n;
}

std::size_t WalScanner::consume_record_bytes(Bytes data, const WalEventSink& sink) {
  if (record_.empty()) {
    record_lsn_ = pos_;
    skipping_unknown_ = false;
  }
  auto page_left = kWalPageSize - pos_ % kWalPageSize;
  std::size_t want = 4;
  if (record_.size() >= 4) want = static_cast<std::size_t>(load_le(record_.data(), 4));
  auto n = std::min({want - record_.size(), data.size(), static_cast<std::size_t>(page_left)});
  record_.insert(record_.end(), data.begin(), data.begin() + static_cast<long>(n));
  pos_ += n;
  if (record_.size() == 4) {
    auto total = load_le(record_.data(), 4);
    if (total == 0) {
      ended_ = true;
      record_.clear();
      return n;
    }
    if (total < kRecordHeader || total > kMaxRecord)
      throw DecodeError(fmt::format("WAL record at {} has an impossible length {}",
                                    lsn_text(record_lsn_), total));
  } else if (record_.size() == want) {
    finish_record(sink);
  }
  return n;
}

void WalScanner::finish_record(const WalEventSink& sink) {
  Bytes rec(record_);
  Crc32c crc;
  crc.update(rec.subspan(kRecordHeader));
  crc.update(rec.first(20));
  if (crc.value() != load_le(rec.data() + 20, 4))
    throw DecodeError(fmt::format("WAL record at {} fails its CRC check", lsn_text(record_lsn_)));
  ++records_;
  last_end_ = pos_;
  if (record_sink_) record_sink_(record_lsn_, decode_wal_record(rec, magic_));
  if (raw_record_sink_) raw_record_sink_(record_lsn_, rec, magic_);
  decode_record(record_lsn_, rec, sink);
  record_.clear();
  bool switched = rec[17] == kRmXlog && (rec[16] & 0xF0) == kXlogSwitch;
  if (switched && pos_ % segment_size_ != 0)
    skip_ = segment_start(pos_, segment_size_) + segment_size_ - pos_;  // the rest is padding
  else
    skip_ = align8(pos_) - pos_;
}

void WalScanner::decode_record(Lsn lsn, Bytes rec, const WalEventSink& sink) {
  auto info = rec[16], rmid = rec[17];
  bool restore_point = rmid == kRmXlog && (info & 0xF0) == kXlogRestorePoint;
  if (rmid != kRmXact && !restore_point) return;
  ByteCursor c(wal_record_main_data(rec, magic_), "WAL record main data");
  WalEvent e;
  e.lsn = lsn;
  e.end = pos_;
  e.xid = static_cast<std::uint32_t>(load_le(rec.data() + 4, 4));
  e.time = static_cast<std::int64_t>(c.u64());
  if (restore_point) {
    e.kind = WalEventKind::kRestorePoint;
    auto name = c.bytes(std::min<std::size_t>(64, c.remaining()));
    e.name = std::string(as_text(name).substr(0, as_text(name).find('\0')));
    sink(e);
    return;
  }
  auto op = info & kXactOpMask;
  if (op != kXactCommit && op != kXactAbort && op != kXactCommitPrepared &&
      op != kXactAbortPrepared)
    return;
  e.kind = (op == kXactCommit || op == kXactCommitPrepared) ? WalEventKind::kCommit
                                                            : WalEventKind::kAbort;
  if ((op == kXactCommitPrepared || op == kXactAbortPrepared) && (info & kXactHasInfo))
    e.xid = prepared_xid(c, op == kXactCommitPrepared, magic_);
  sink(e);
}

}  // namespace pitr::postgres
