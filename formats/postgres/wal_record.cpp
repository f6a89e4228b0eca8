#include "formats/postgres/wal_record.hpp"

#include <fmt/format.h>

namespace pitr::postgres {
namespace {

constexpr std::uint8_t kMaxBlockId = 32;  // XLR_MAX_BLOCK_ID
constexpr std::uint8_t kForkMask = 0x0F, kHasImage = 0x10, kHasData = 0x20, kSameRel = 0x80;
constexpr std::uint8_t kImageHasHole = 0x01;

bool image_compressed(std::uint8_t bimg_info, std::uint16_t page_magic) {
  return page_magic >= kWalMagicPg15 ? (bimg_info & 0x1C) != 0 : (bimg_info & 0x02) != 0;
}

}  // namespace

RelFile read_rel_file(ByteCursor& c) {
  RelFile f;
  f.spc = c.u32();
  f.db = c.u32();
  f.rel = c.u32();
  return f;
}

WalRecordParts decode_wal_record(Bytes record, std::uint16_t page_magic) {
  ByteCursor c(record, "WAL record");
  WalRecordParts parts;
  if (c.u32() != record.size())
    throw DecodeError("WAL record: its length field does not match the bytes given");
  parts.xid = c.u32();
  c.skip(8);  // xl_prev
  parts.info = c.u8();
  parts.rmid = c.u8();
  c.skip(2 + 4);  // padding, CRC
  // The headers end where the bytes left are exactly the data they declared: a record need
  // not have main data (a full-page image has none), and block data may hold any byte.
  std::uint64_t declared = 0;
  std::uint32_t main_len = 0;
  int last_block = -1;
  while (record.size() - c.offset() > declared) {
    auto id = c.u8();
    if (id == 255 || id == 254) {
      main_len = id == 255 ? c.u8() : c.u32();
      break;
    }
    if (id == 253) {  // replication origin
      c.skip(2);
      continue;
    }
    if (id == 252) {  // top-level xid
      c.skip(4);
      continue;
    }
    if (id > kMaxBlockId || id <= last_block)
      throw DecodeError(fmt::format("WAL record: invalid block id {} (after {})", id, last_block));
    last_block = id;
    WalBlockRef b;
    auto fork_flags = c.u8();
    auto data_len = c.u16();
    if (((fork_flags & kHasData) != 0) != (data_len != 0))
      throw DecodeError("WAL record: a block's data flag and length disagree");
    declared += data_len;
    if (fork_flags & kHasImage) {
      b.has_image = true;
      declared += c.u16();  // the image's stored length
      c.skip(2);            // hole offset
      auto bimg_info = c.u8();
      if ((bimg_info & kImageHasHole) && image_compressed(bimg_info, page_magic)) c.skip(2);
    }
    if (fork_flags & kSameRel) {
      if (parts.blocks.empty()) throw DecodeError("WAL record: SAME_REL on its first block");
      b.file = parts.blocks.back().file;
    } else {
      b.file = read_rel_file(c);
    }
    auto fork = fork_flags & kForkMask;
    if (fork > static_cast<int>(Fork::kInit))
      throw DecodeError(fmt::format("WAL record: invalid fork number {}", fork));
    b.fork = static_cast<Fork>(fork);
    b.block = c.u32();
    parts.blocks.push_back(b);
  }
  if (declared + main_len != record.size() - c.offset())
    throw DecodeError("WAL record: its data does not add up to its length");
  parts.main_data = record.subspan(record.size() - main_len);
  return parts;
}

}  // namespace pitr::postgres
