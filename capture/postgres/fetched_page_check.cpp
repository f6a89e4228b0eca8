#include "capture/postgres/fetched_page_check.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "capture/postgres/pg_file_reader.hpp"
#include "formats/postgres/data_page.hpp"

namespace pitr::capture {

bool FetchedPageCheck::needs_check(std::span<const std::uint8_t> page) const {
  return postgres::page_lsn(page) < backup_start_;
}

void FetchedPageCheck::check(const std::string& path, std::uint64_t offset, std::uint32_t block,
                             std::span<std::uint8_t> page) {
  if (page.size() != postgres::kPageSize) return;  // the end of a file cut while it was read
  auto result = postgres::check_page(page, block);
  if (result == postgres::PageCheck::kNew || !needs_check(page)) return;
  ++checked_;
  if (result == postgres::PageCheck::kValid) return;
  auto again = read_file_ranges(conn_, {{path, offset, postgres::kPageSize}});
  const auto& bytes = again.ranges.front();
  // Gone or shorter now: the relation was truncated meanwhile, and the WAL replays that.
  if (!bytes || bytes->size() != postgres::kPageSize) return;
  std::copy(bytes->begin(), bytes->end(), page.begin());
  if (!needs_check(page) || postgres::check_page(page, block) != postgres::PageCheck::kMismatch)
    return;
  damaged_.push_back(fmt::format("{} block {}: checksum {} stored, {} computed", path,
                                 offset / postgres::kPageSize, postgres::stored_checksum(page),
                                 postgres::page_checksum(page, block)));
}

}  // namespace pitr::capture
