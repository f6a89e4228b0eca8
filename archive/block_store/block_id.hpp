#pragma once
// A block's identity in the block store: the SHA-256 of its content. Two blocks with the same
// bytes are one block, stored once, whichever file, backup or engine they came from.
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

#include "formats/byte_cursor.hpp"

namespace pitr::archive {

struct BlockId {
  static constexpr std::size_t kSize = 32;
  std::array<std::uint8_t, kSize> bytes{};

  static BlockId of(Bytes content);
  // Throws DecodeError unless `hex` is 64 hex digits.
  static BlockId from_hex(const std::string& hex);
  std::string hex() const;
  friend bool operator==(const BlockId&, const BlockId&) = default;
  friend auto operator<=>(const BlockId&, const BlockId&) = default;
};

}  // namespace pitr::archive

template <>
struct std::hash<pitr::archive::BlockId> {
  // The id is already a uniform hash: its first bytes do.
  std::size_t operator()(const pitr::archive::BlockId& id) const noexcept {
    std::size_t h;
    std::memcpy(&h, id.bytes.data(), sizeof h);
    return h;
  }
};
