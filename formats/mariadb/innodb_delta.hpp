#pragma once
// The files of a mariabackup incremental backup (--incremental-lsn): for every InnoDB
// tablespace "<file>.delta", the pages whose LSN is above the one given, and "<file>.meta",
// its page size and space id. A .delta is a sequence of blocks; each starts with one page of
// big-endian 4-byte slots: "xtra" (more blocks follow) or "XTRA" (the last), then the page
// numbers of the pages that follow, ended by 0xFFFFFFFF unless the header is full; then those
// pages. Also the few fields of an InnoDB page the merge needs.
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr::mariadb {

inline constexpr std::string_view kDeltaSuffix = ".delta", kMetaSuffix = ".meta";

struct DeltaMeta {
  std::uint32_t page_size = 0;  // physical: a compressed table's zip size
  std::uint32_t zip_size = 0;
  std::uint32_t space_id = 0;
};

// Throws DecodeError when page_size or space_id is missing or implausible.
DeltaMeta parse_delta_meta(std::string_view text);

class DeltaReader {
 public:
  using PageHandler = std::function<void(std::uint32_t page_number, Bytes page)>;
  DeltaReader(std::uint32_t page_size, PageHandler page);
  // Throws DecodeError on a bad block header.
  void feed(Bytes data);
  // Throws DecodeError unless the last ("XTRA") block was read whole.
  void finish() const;

 private:
  void take_header();

  std::uint32_t page_size_;
  PageHandler page_;
  std::vector<std::uint8_t> buffer_;    // the header or page being read
  std::vector<std::uint32_t> numbers_;  // of the pages the current block holds
  std::size_t next_ = 0;                // of numbers_
  bool in_block_ = false, last_ = false, ended_ = false;
};

// InnoDB page fields (big-endian): the tablespace id every page carries, and the size in
// pages its first page records (FSP_SIZE).
std::uint32_t page_space_id(Bytes page);
std::uint32_t tablespace_pages(Bytes first_page);

}  // namespace pitr::mariadb
