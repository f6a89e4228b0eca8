#pragma once
#include <cstdint>
#include <vector>

#include "formats/byte_cursor.hpp"
#include "formats/crc32c.hpp"
#include "formats/postgres/lsn.hpp"
#include "formats/postgres/wal_record.hpp"
#include "formats/postgres/wal_scanner.hpp"

namespace pitr::test {

using postgres::kWalPageSize;
using postgres::Lsn;

// Builds WAL the way the server lays it out: 8 KiB pages with headers (a long one at the
// segment start), records 8-byte aligned, continuation across pages.
class WalBuilder {
 public:
  explicit WalBuilder(std::uint64_t segment_size) : segment_size_(segment_size) {}

  Lsn add(std::uint32_t xid, std::uint8_t rmid, std::uint8_t info,
          const std::vector<std::uint8_t>& main) {
    std::vector<std::uint8_t> rec;
    rec.reserve(32 + main.size());
    rec.resize(24);
    if (main.size() < 256) {
      rec.push_back(255);
      rec.push_back(static_cast<std::uint8_t>(main.size()));
    } else {
      rec.push_back(254);
      rec.resize(rec.size() + 4);
      store_le(rec.data() + rec.size() - 4, main.size(), 4);
    }
    rec.insert(rec.end(), main.begin(), main.end());
    store_le(rec.data() + 4, xid, 4);
    rec[16] = info;
    rec[17] = rmid;
    return add_record(std::move(rec));
  }
  // A whole record as given (header fields but length and CRC already set), laid out in pages.
  Lsn add_record(std::vector<std::uint8_t> rec) {
    store_le(rec.data(), rec.size(), 4);
    Crc32c crc;
    crc.update(Bytes(rec).subspan(24));
    crc.update(Bytes(rec).first(20));
    store_le(rec.data() + 20, crc.value(), 4);
    while (wal_.size() % 8) put(0, false);
    if (wal_.size() % kWalPageSize == 0) page_header(0);
    Lsn at = wal_.size();
    for (std::size_t i = 0; i < rec.size(); ++i) {
      if (wal_.size() % kWalPageSize == 0) page_header(static_cast<std::uint32_t>(rec.size() - i));
      wal_.push_back(rec[i]);
    }
    return at;
  }
  const std::vector<std::uint8_t>& bytes() const { return wal_; }

 private:
  void put(std::uint8_t b, bool) { wal_.push_back(b); }
  void page_header(std::uint32_t remaining) {
    bool is_long = wal_.size() % segment_size_ == 0;
    std::vector<std::uint8_t> h(is_long ? 40 : 24, 0);
    store_le(h.data(), 0xD110, 2);
    store_le(h.data() + 2, (remaining ? 1 : 0) | (is_long ? 2 : 0), 2);
    store_le(h.data() + 4, 1, 4);
    store_le(h.data() + 8, wal_.size(), 8);
    store_le(h.data() + 16, remaining, 4);
    if (is_long) {
      store_le(h.data() + 24, 42, 8);
      store_le(h.data() + 32, segment_size_, 4);
      store_le(h.data() + 36, kWalPageSize, 4);
    }
    wal_.insert(wal_.end(), h.begin(), h.end());
  }
  std::uint64_t segment_size_;
  std::vector<std::uint8_t> wal_;
};

inline std::vector<std::uint8_t> commit_body(std::int64_t time) {
  std::vector<std::uint8_t> b(8);
  store_le(b.data(), static_cast<std::uint64_t>(time), 8);
  return b;
}

// WAL records with block references, assembled byte by byte as PostgreSQL 15 writes them.
using postgres::RelFile;

struct Block {
  RelFile file;
  std::uint8_t fork = 0;
  std::uint32_t block = 0;
  bool same_rel = false;
  std::vector<std::uint8_t> data, image;
};

inline void put(std::vector<std::uint8_t>& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// A whole record: header, block headers, main-data header, payloads, main data.
inline std::vector<std::uint8_t> record(std::uint8_t rmid, std::uint8_t info,
                                        const std::vector<Block>& blocks,
                                        const std::vector<std::uint8_t>& main = {}) {
  std::vector<std::uint8_t> r;
  put(r, 0, 4);  // length, set last
  put(r, 77, 4);
  put(r, 0, 8);
  r.push_back(info);
  r.push_back(rmid);
  put(r, 0, 6);
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const auto& b = blocks[i];
    r.push_back(static_cast<std::uint8_t>(i));
    r.push_back(static_cast<std::uint8_t>(b.fork | (b.image.empty() ? 0 : 0x10) |
                                          (b.data.empty() ? 0 : 0x20) | (b.same_rel ? 0x80 : 0)));
    put(r, b.data.size(), 2);
    if (!b.image.empty()) {
      put(r, b.image.size(), 2);
      put(r, 0, 2);
      r.push_back(0);
    }
    if (!b.same_rel) {
      put(r, b.file.spc, 4);
      put(r, b.file.db, 4);
      put(r, b.file.rel, 4);
    }
    put(r, b.block, 4);
  }
  if (!main.empty()) {
    r.push_back(main.size() < 256 ? 255 : 254);
    put(r, main.size(), main.size() < 256 ? 1 : 4);
  }
  for (const auto& b : blocks) {
    r.insert(r.end(), b.image.begin(), b.image.end());
    r.insert(r.end(), b.data.begin(), b.data.end());
  }
  r.insert(r.end(), main.begin(), main.end());
  for (std::size_t i = 0; i < 4; ++i) r[i] = static_cast<std::uint8_t>(r.size() >> (8 * i));
  return r;
}

inline std::vector<std::uint8_t> rel_file(const RelFile& f) {
  std::vector<std::uint8_t> out;
  put(out, f.spc, 4);
  put(out, f.db, 4);
  put(out, f.rel, 4);
  return out;
}

}  // namespace pitr::test
