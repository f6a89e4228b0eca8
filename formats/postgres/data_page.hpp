#pragma once
// PostgreSQL data pages (8 KiB): the header's LSN, and the checksums of clusters initialised
// with --data-checksums: the 16-bit pd_checksum each page carries, a 32-lane FNV-1a variant
// over the page with the checksum field taken as zero, mixed with the page's block number in
// its relation fork.
#include <cstdint>

#include "formats/byte_cursor.hpp"
#include "formats/postgres/lsn.hpp"

namespace pitr::postgres {

inline constexpr std::size_t kPageSize = 8192;

// The checksum PostgreSQL computes for `page` (kPageSize bytes) as block `block` of its
// relation fork (counted across the fork's 1 GiB segment files).
std::uint16_t page_checksum(Bytes page, std::uint32_t block);

enum class PageCheck {
  kValid,     // the stored checksum matches
  kNew,       // an all-zero page, never written: it carries no checksum
  kMismatch,  // damaged, or read while the server was writing it (a torn read)
};

// Checks a page as the server does when it reads one: a new page (pd_upper of 0) must be
// all zeros, any other must carry its checksum. Throws std::invalid_argument when `page` is
// not kPageSize bytes.
PageCheck check_page(Bytes page, std::uint32_t block);

// The LSN of the last WAL record that changed the page (pd_lsn). Throws ParseError when
// `page` is shorter than 8 bytes.
Lsn page_lsn(Bytes page);

// The checksum stored in the page's header.
std::uint16_t stored_checksum(Bytes page);

}  // namespace pitr::postgres
