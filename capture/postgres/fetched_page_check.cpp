#include "capture/postgres/fetched_page_check.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "capture/postgres/pg_file_reader.hpp"
#include "formats/postgres/data_page.hpp"

namespace pitr::capture {

bool FetchedPageCheck::passes(std::span<const std::uint8_t> page, std::uint32_t block) const {
  return postgres::check_page(page, block) != postgres::PageCheck::kMismatch ||
         postgres::page_lsn(page) >= backup_start_;
}

void FetchedPageCheck::check(const std::string& path, std::uint64_t offset, std::uint32_t block,
                             std::span<std::uint8_t> page) {
  if (page.size() != postgres::kPageSize) return;  // the end of a file cut while it was read
  ++checked_;
  if (passes(page, block)) return;
  auto again = read_file_ranges(conn_, {{path, offset, postgres::kPageSize}});
  if (again.front() && again.front()->size() == postgres::kPageSize) {
    std::copy(again.front()->begin(), again.front()->end(), page.begin());
    if (passes(page, block)) return;
  }
  damaged_.push_back(fmt::format("{} block {}: checksum {} stored, {} computed", path,
                                 offset / postgres::kPageSize, postgres::stored_checksum(page),
                                 postgres::page_checksum(page, block)));
}

}  // namespace pitr::capture
