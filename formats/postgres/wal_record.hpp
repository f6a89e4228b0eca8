#pragma once
// One WAL record's parts (src/include/access/xlogrecord.h, read as the server's
// DecodeXLogRecord reads them): its resource manager and info, the blocks it references
// (relation, fork, block number) and its main data. PostgreSQL 13-17: the header layout did
// not change, only the image flags (from 15).
#include <compare>
#include <cstdint>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr::postgres {

// RelFileNode (15) / RelFileLocator (16+): tablespace, database and relation file number.
struct RelFile {
  std::uint32_t spc = 0, db = 0, rel = 0;
  friend auto operator<=>(const RelFile&, const RelFile&) = default;
};

// The 12 bytes of a RelFileNode/RelFileLocator, as block headers and main data hold them.
RelFile read_rel_file(ByteCursor& c);

enum class Fork : std::uint8_t { kMain = 0, kFsm = 1, kVm = 2, kInit = 3 };

struct WalBlockRef {
  RelFile file;
  Fork fork = Fork::kMain;
  std::uint32_t block = 0;
  bool has_image = false;
};

struct WalRecordParts {
  std::uint8_t rmid = 0, info = 0;
  std::uint32_t xid = 0;
  std::vector<WalBlockRef> blocks;
  Bytes main_data;
};

inline constexpr std::uint16_t kWalMagicPg15 = 0xD110, kWalMagicPg17 = 0xD116;

// `record` is a whole record, header included; `page_magic` says which version wrote it.
// Throws DecodeError for headers that do not add up (a damaged or misread record).
WalRecordParts decode_wal_record(Bytes record, std::uint16_t page_magic);

}  // namespace pitr::postgres
