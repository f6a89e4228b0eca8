#include "formats/crc32c.hpp"

#include <array>

namespace pitr {
namespace {

constexpr std::uint32_t kPolynomial = 0x82F63B78;  // reflected Castagnoli

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    auto c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr auto kTable = make_table();

std::uint32_t update_table(std::uint32_t crc, const std::uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) crc = kTable[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t update_sse42(std::uint32_t crc,
                                                             const std::uint8_t* p, std::size_t n) {
  std::uint64_t c = crc;
  for (; n >= 8; p += 8, n -= 8) c = __builtin_ia32_crc32di(c, load_le(p, 8));
  auto c32 = static_cast<std::uint32_t>(c);
  for (; n > 0; ++p, --n) c32 = __builtin_ia32_crc32qi(c32, *p);
  return c32;
}
const bool kHaveSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

void Crc32c::update(Bytes data) {
#if defined(__x86_64__)
  if (kHaveSse42) {
    state_ = update_sse42(state_, data.data(), data.size());
    return;
  }
#endif
  state_ = update_table(state_, data.data(), data.size());
}

}  // namespace pitr
