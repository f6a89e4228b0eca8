#include "formats/crc32c.hpp"

#include <array>
#include <cstring>

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
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);  // x86 is little-endian, as CRC-32C's bit order wants
    c = __builtin_ia32_crc32di(c, word);
  }
  auto c32 = static_cast<std::uint32_t>(c);
  for (; n > 0; ++p, --n) c32 = __builtin_ia32_crc32qi(c32, *p);
  return c32;
}

// The crc32 instruction takes 3 cycles but can start one every cycle, so three streams over
// adjacent blocks run three times as fast as one. The register is linear in GF(2): the
// state after blocks A,B is shift(state after A) ^ crc of B from 0, where shift runs the
// register through kBlock zero bytes, a 32x32 bit matrix kept as four byte tables.
constexpr std::size_t kBlock = 2048;

struct ZeroShift {
  std::array<std::array<std::uint32_t, 256>, 4> table{};
  ZeroShift() {
    static const std::array<std::uint8_t, kBlock> zeros{};
    std::array<std::uint32_t, 32> basis{};
    for (int bit = 0; bit < 32; ++bit)
      basis[bit] = update_sse42(std::uint32_t{1} << bit, zeros.data(), kBlock);
    for (int k = 0; k < 4; ++k)
      for (unsigned v = 0; v < 256; ++v)
        for (int bit = 0; bit < 8; ++bit)
          if (v >> bit & 1) table[k][v] ^= basis[8 * k + bit];
  }
  std::uint32_t operator()(std::uint32_t c) const {
    return table[0][c & 0xFF] ^ table[1][c >> 8 & 0xFF] ^ table[2][c >> 16 & 0xFF] ^
           table[3][c >> 24];
  }
};

__attribute__((target("sse4.2"))) std::uint32_t update_sse42_3way(std::uint32_t crc,
                                                                  const std::uint8_t* p,
                                                                  std::size_t n) {
  static const ZeroShift shift;
  for (; n >= 3 * kBlock; p += 3 * kBlock, n -= 3 * kBlock) {
    std::uint64_t a = crc, b = 0, c = 0;
    for (std::size_t i = 0; i < kBlock; i += 8) {
      std::uint64_t wa, wb, wc;
      std::memcpy(&wa, p + i, 8);
      std::memcpy(&wb, p + kBlock + i, 8);
      std::memcpy(&wc, p + 2 * kBlock + i, 8);
      a = __builtin_ia32_crc32di(a, wa);
      b = __builtin_ia32_crc32di(b, wb);
      c = __builtin_ia32_crc32di(c, wc);
    }
    crc = shift(shift(static_cast<std::uint32_t>(a)) ^ static_cast<std::uint32_t>(b)) ^
          static_cast<std::uint32_t>(c);
  }
  return update_sse42(crc, p, n);
}
const bool kHaveSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

void Crc32c::update(Bytes data) {
#if defined(__x86_64__)
  if (kHaveSse42) {
    state_ = update_sse42_3way(state_, data.data(), data.size());
    return;
  }
#endif
  state_ = update_table(state_, data.data(), data.size());
}

}  // namespace pitr
