#include "formats/postgres/data_page.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace pitr::postgres {
namespace {

constexpr std::size_t kLanes = 32;
constexpr std::uint32_t kFnvPrime = 16777619;
constexpr std::size_t kChecksumOffset = 8;  // pd_checksum follows the 8-byte pd_lsn
constexpr std::size_t kUpperOffset = 14;    // pd_upper, after pd_flags and pd_lower

// Each lane starts from its own state (PostgreSQL's storage/checksum_impl.h).
constexpr std::array<std::uint32_t, kLanes> kLaneSeeds = {
    0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A, 0x79FF467A, 0x9BB9F8A3, 0x217E7CD2, 0x83E13D2C,
    0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA, 0x7B093B5D, 0x98DAFF3C, 0xF718902A, 0x0B1C9CDB,
    0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE, 0x92BEC979, 0xCCA6C0B2, 0x304A0979, 0x85AA43D4,
    0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E, 0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756};

// FNV-1a with an extra shift, so high bits reach the low ones.
constexpr std::uint32_t mix(std::uint32_t sum, std::uint32_t value) {
  auto t = sum ^ value;
  return t * kFnvPrime ^ (t >> 17);
}

std::uint32_t word_at(Bytes page, std::size_t at) {
  auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(page[at + i]); };
  auto low = at == kChecksumOffset ? 0 : byte(0) | byte(1) << 8;  // pd_checksum counts as 0
  return low | byte(2) << 16 | byte(3) << 24;
}

void check_size(Bytes page) {
  if (page.size() != kPageSize)
    throw std::invalid_argument("a PostgreSQL page is 8192 bytes, not " +
                                std::to_string(page.size()));
}

std::uint16_t u16_at(Bytes page, std::size_t at) {
  return static_cast<std::uint16_t>(page[at] | page[at + 1] << 8);
}

}  // namespace

std::uint16_t page_checksum(Bytes page, std::uint32_t block) {
  check_size(page);
  auto sums = kLaneSeeds;
  // The page as rows of 32 little-endian words, lane j taking column j.
  for (std::size_t row = 0; row < kPageSize; row += 4 * kLanes)
    for (std::size_t j = 0; j < kLanes; ++j) sums[j] = mix(sums[j], word_at(page, row + 4 * j));
  std::uint32_t result = 0;
  for (auto sum : sums) result ^= mix(mix(sum, 0), 0);  // two rounds of zeros mix the last words
  result ^= block;
  return static_cast<std::uint16_t>(result % 65535 + 1);  // never 0
}

Lsn page_lsn(Bytes page) {
  ByteCursor c(page, "page header");
  auto high = c.u32();  // two 32-bit halves, high first
  return (Lsn{high} << 32) | c.u32();
}

std::uint16_t stored_checksum(Bytes page) {
  check_size(page);
  return u16_at(page, kChecksumOffset);
}

PageCheck check_page(Bytes page, std::uint32_t block) {
  check_size(page);
  if (u16_at(page, kUpperOffset) == 0)
    return std::all_of(page.begin(), page.end(), [](std::uint8_t b) { return b == 0; })
               ? PageCheck::kNew
               : PageCheck::kMismatch;
  return stored_checksum(page) == page_checksum(page, block) ? PageCheck::kValid
                                                             : PageCheck::kMismatch;
}

}  // namespace pitr::postgres
