#include "capture/postgres/fetched_page_check.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "capture/postgres/pg_file_reader.hpp"
#include "formats/postgres/data_page.hpp"

namespace pitr::capture {

bool FetchedPageCheck::needs_check(std::span<const std::uint8_t> page) const {
  return postgres::page_lsn(page) < backup_start_;
}

std::optional<std::vector<std::uint8_t>> FetchedPageCheck::check(
    const std::string& path, std::uint64_t offset, std::uint32_t block,
    std::span<const std::uint8_t> page) {
  if (page.size() != postgres::kPageSize) return std::nullopt;  // a file cut while read
  auto result = postgres::check_page(page, block);
  if (result == postgres::PageCheck::kNew || !needs_check(page)) return std::nullopt;
  ++checked_;
  if (result == postgres::PageCheck::kValid) return std::nullopt;
  auto again = read_file_ranges(conn_, {{path, offset, postgres::kPageSize}});
  const auto& bytes = again.ranges.front();
  // Gone or shorter now: the relation was truncated meanwhile, and the WAL replays that.
  if (!bytes || bytes->size() != postgres::kPageSize) return std::nullopt;
  std::vector<std::uint8_t> reread(bytes->begin(), bytes->end());
  if (needs_check(reread) && postgres::check_page(reread, block) == postgres::PageCheck::kMismatch)
    damaged_.push_back(fmt::format("{} block {}: checksum {} stored, {} computed", path,
                                   offset / postgres::kPageSize, postgres::stored_checksum(reread),
                                   postgres::page_checksum(reread, block)));
  return reread;
}

}  // namespace pitr::capture
