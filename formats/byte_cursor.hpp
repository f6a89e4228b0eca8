#pragma once
// Bounds-checked little-endian reading over a byte span. Every decoder in formats/ reads
// through this so that a truncated or hostile input becomes a DecodeError, never an
// out-of-bounds read.
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pitr {

using Bytes = std::span<const std::uint8_t>;

class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline std::uint64_t load_le(const std::uint8_t* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

inline void store_le(std::uint8_t* p, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

class ByteCursor {
 public:
  ByteCursor(Bytes data, const char* what) : data_(data), what_(what) {}

  std::size_t offset() const { return pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }

  void need(std::size_t n) const {
    if (n > remaining())
      throw DecodeError(std::string(what_) + ": needs " + std::to_string(n) + " bytes at offset " +
                        std::to_string(pos_) + ", only " + std::to_string(remaining()) + " left");
  }
  std::uint64_t uint(std::size_t n) {
    need(n);
    auto v = load_le(data_.data() + pos_, n);
    pos_ += n;
    return v;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(uint(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(uint(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(uint(4)); }
  std::uint64_t u64() { return uint(8); }
  Bytes bytes(std::size_t n) {
    need(n);
    auto s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view text(std::size_t n) {
    auto b = bytes(n);
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }
  Bytes rest() { return bytes(remaining()); }
  Bytes peek_rest() const { return data_.subspan(pos_); }
  void skip(std::size_t n) { bytes(n); }
  // NUL-terminated string; the terminator is consumed.
  std::string_view cstring() {
    const auto* begin = data_.data() + pos_;
    const void* nul = std::memchr(begin, 0, remaining());
    if (!nul)
      throw DecodeError(std::string(what_) + ": unterminated string at offset " +
                        std::to_string(pos_));
    auto n = static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - begin);
    auto s = text(n);
    ++pos_;
    return s;
  }
  // MySQL length-encoded integer (protocol and binlog rows events).
  std::uint64_t lenenc() {
    auto first = u8();
    if (first < 0xfb) return first;
    if (first == 0xfc) return uint(2);
    if (first == 0xfd) return uint(3);
    if (first == 0xfe) return uint(8);
    throw DecodeError(std::string(what_) + ": invalid length-encoded integer at offset " +
                      std::to_string(pos_ - 1));
  }
  std::string_view lenenc_text() { return text(static_cast<std::size_t>(lenenc())); }

 private:
  Bytes data_;
  const char* what_;
  std::size_t pos_ = 0;
};

inline std::string_view as_text(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace pitr
