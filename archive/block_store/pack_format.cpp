#include "archive/block_store/pack_format.hpp"

#include <cstring>
#include <limits>
#include <stdexcept>

namespace pitr::archive {
namespace {

constexpr char kHeaderMagic[8] = {'P', 'I', 'T', 'R', 'P', 'A', 'C', 'K'};
constexpr char kIndexMagic[8] = {'P', 'I', 'T', 'R', 'P', 'I', 'D', 'X'};
constexpr char kFooterMagic[8] = {'P', 'I', 'T', 'R', 'P', 'E', 'N', 'D'};
constexpr std::size_t kEntrySize = BlockId::kSize + 8 + 4 + 4;

// Byte by byte: GCC 12 warns (wrongly) about inserting small ranges into a growing vector.
void append_le(std::vector<std::uint8_t>& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void append_bytes(std::vector<std::uint8_t>& out, const std::uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out.push_back(p[i]);
}

void append_magic(std::vector<std::uint8_t>& out, const char (&magic)[8]) {
  append_bytes(out, reinterpret_cast<const std::uint8_t*>(magic), 8);
}

void expect_magic(ByteCursor& in, const char (&magic)[8], const std::string& what,
                  const char* part) {
  if (std::memcmp(in.bytes(8).data(), magic, 8) != 0)
    throw DecodeError(what + ": not a pitr pack " + part);
}

void expect_version(ByteCursor& in, const std::string& what) {
  auto version = in.u32();
  if (version != kPackFormatVersion)
    throw DecodeError(what + ": pack format version " + std::to_string(version) +
                      ", this pitr reads version " + std::to_string(kPackFormatVersion) +
                      " (upgrade pitr)");
}

}  // namespace

std::vector<std::uint8_t> pack_header() {
  std::vector<std::uint8_t> out;
  append_magic(out, kHeaderMagic);
  append_le(out, kPackFormatVersion, 4);
  append_le(out, 0, 4);
  return out;
}

void check_pack_header(Bytes bytes, const std::string& what) {
  ByteCursor in(bytes, what.c_str());
  expect_magic(in, kHeaderMagic, what, "header");
  expect_version(in, what);
}

std::vector<std::uint8_t> encode_pack_index(const std::vector<PackEntry>& entries) {
  std::vector<std::uint8_t> out;
  out.reserve(16 + entries.size() * kEntrySize + BlockId::kSize);
  append_magic(out, kIndexMagic);
  append_le(out, kPackFormatVersion, 4);
  if (entries.size() > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("a pack index holds at most 2^32 - 1 entries");
  append_le(out, entries.size(), 4);
  for (const auto& e : entries) {
    append_bytes(out, e.id.bytes.data(), BlockId::kSize);
    append_le(out, e.offset, 8);
    append_le(out, e.stored, 4);
    append_le(out, e.size, 4);
  }
  auto sum = BlockId::of(out);
  append_bytes(out, sum.bytes.data(), BlockId::kSize);
  return out;
}

std::vector<PackEntry> decode_pack_index(Bytes bytes, const std::string& what,
                                         std::uint64_t data_end) {
  if (bytes.size() < BlockId::kSize) throw DecodeError(what + ": truncated pack index");
  auto body = bytes.first(bytes.size() - BlockId::kSize);
  auto sum = BlockId::of(body);
  if (std::memcmp(sum.bytes.data(), bytes.data() + body.size(), BlockId::kSize) != 0)
    throw DecodeError(what + ": damaged pack index (its checksum does not match)");
  ByteCursor in(body, what.c_str());
  expect_magic(in, kIndexMagic, what, "index");
  expect_version(in, what);
  auto count = in.u32();
  if (in.remaining() != std::uint64_t{count} * kEntrySize)
    throw DecodeError(what + ": pack index length does not match its " + std::to_string(count) +
                      " entries");
  std::vector<PackEntry> out(count);
  std::uint64_t next = kPackHeaderSize;
  for (auto& e : out) {
    auto id = in.bytes(BlockId::kSize);
    std::copy(id.begin(), id.end(), e.id.bytes.begin());
    e.offset = in.u64();
    e.stored = in.u32();
    e.size = in.u32();
    // (Written so that a hostile offset near 2^64 cannot wrap the sum around.)
    if (e.offset < next || e.stored == 0 || e.stored > data_end || e.offset > data_end - e.stored ||
        e.size > kMaxBlockSize)
      throw DecodeError(what + ": pack index entry for block " + e.id.hex() +
                        " lies outside the pack's data");
    next = e.offset + e.stored;
  }
  return out;
}

// The index's length is implied: it runs from its offset to the footer.
std::vector<std::uint8_t> encode_pack_footer(std::uint64_t index_offset) {
  std::vector<std::uint8_t> out;
  append_le(out, index_offset, 8);
  append_magic(out, kFooterMagic);
  return out;
}

PackFooter decode_pack_footer(Bytes bytes, std::uint64_t pack_size, const std::string& what) {
  ByteCursor in(bytes, what.c_str());
  PackFooter f;
  f.index_offset = in.u64();
  expect_magic(in, kFooterMagic, what, "footer");
  if (pack_size < kPackHeaderSize + kPackFooterSize || f.index_offset < kPackHeaderSize ||
      f.index_offset > pack_size - kPackFooterSize)
    throw DecodeError(what + ": pack footer points outside the pack");
  f.index_length = pack_size - kPackFooterSize - f.index_offset;
  return f;
}

}  // namespace pitr::archive
