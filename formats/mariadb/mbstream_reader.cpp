#include "formats/mariadb/mbstream_reader.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace pitr::mariadb {
namespace {

constexpr char kMagic[] = "XBSTCK01";
constexpr std::size_t kMagicSize = 8;
constexpr std::size_t kPrefix = kMagicSize + 1 + 1 + 4;  // magic, flags, type, path length
constexpr std::size_t kPayloadHeader = 8 + 8 + 4;        // length, offset, CRC
constexpr std::uint8_t kIgnorable = 0x01, kRewrite = 0x02;
constexpr std::size_t kMaxPath = 512;  // mariabackup's FN_REFLEN; its reader refuses longer

std::uint32_t crc32_update(std::uint32_t crc, Bytes b) {
  return static_cast<std::uint32_t>(::crc32(crc, b.data(), static_cast<uInt>(b.size())));
}

std::vector<std::uint8_t> chunk_prefix(char type, const std::string& path, std::uint8_t flags = 0) {
  std::vector<std::uint8_t> out(kMagic, kMagic + kMagicSize);
  out.push_back(flags);
  out.push_back(static_cast<std::uint8_t>(type));
  out.resize(out.size() + 4);
  store_le(out.data() + kMagicSize + 2, path.size(), 4);
  out.insert(out.end(), path.begin(), path.end());
  return out;
}

void append_le(std::vector<std::uint8_t>& out, std::uint64_t v, std::size_t n) {
  out.resize(out.size() + n);
  store_le(out.data() + out.size() - n, v, n);
}

// mbstream's own rule: relative, and never through "..".
void check_path(const std::string& path, std::uint64_t chunk) {
  if (path.empty() || path.size() > kMaxPath || path.front() == '/' || path.front() == '.' ||
      path.find("/../") != std::string::npos || path.find('\0') != std::string::npos ||
      path.ends_with("/.."))
    throw DecodeError(fmt::format(
        "mbstream chunk {} names the path '{}', which is not a file inside the data directory",
        chunk, path));
}

}  // namespace

MbstreamReader::HeaderNeed MbstreamReader::header_need() const {
  if (header_.size() < kPrefix) return {kPrefix, false};
  if (std::memcmp(header_.data(), kMagic, kMagicSize) != 0)
    throw DecodeError(fmt::format(
        "mbstream chunk {} does not start with XBSTCK01: the stream is damaged, or is not "
        "mariabackup --stream=mbstream output",
        chunks_ + 1));
  auto path_length = load_le(header_.data() + kMagicSize + 2, 4);
  if (path_length == 0 || path_length > kMaxPath)
    throw DecodeError(
        fmt::format("mbstream chunk {} names a path of {} bytes", chunks_ + 1, path_length));
  auto base = kPrefix + path_length;
  switch (header_[kMagicSize + 1]) {
    case 'E':
    case 'D':
      return {base, true};
    case 'S':
      return {base + 8, true};
    case 'R': {
      if (header_.size() < base + 4) return {base + 4, false};
      auto to_length = load_le(header_.data() + base, 4);
      if (to_length == 0 || to_length > kMaxPath)
        throw DecodeError(
            fmt::format("mbstream chunk {} renames to a path of {} bytes", chunks_ + 1, to_length));
      return {base + 4 + to_length, true};
    }
    case 'P':
      return {base + kPayloadHeader, true};
    default:
      if (!(header_[kMagicSize] & kIgnorable))
        throw DecodeError(fmt::format(
            "mbstream chunk {} has type '{}', which this pitr does not know and may not skip",
            chunks_ + 1, static_cast<char>(header_[kMagicSize + 1])));
      return {base + kPayloadHeader, true};  // an unknown chunk is laid out as a payload
  }
}

void MbstreamReader::take_header() {
  ++chunks_;
  auto path_length = load_le(header_.data() + kMagicSize + 2, 4);
  std::string path(reinterpret_cast<const char*>(header_.data() + kPrefix), path_length);
  check_path(path, chunks_);
  const auto* rest = header_.data() + kPrefix + path_length;
  auto type = header_[kMagicSize + 1];
  switch (type) {
    case 'E':
      h_.end_of_file(path);
      return;
    case 'D':
      h_.remove(path);
      return;
    case 'S':
      h_.seek(path, load_le(rest, 8));
      return;
    case 'R': {
      std::string to(reinterpret_cast<const char*>(rest + 4), load_le(rest, 4));
      check_path(to, chunks_);
      h_.rename(path, to);
      return;
    }
    default:
      break;
  }
  path_ = std::move(path);
  left_ = load_le(rest, 8);
  offset_ = load_le(rest + 8, 8);
  expected_crc_ = static_cast<std::uint32_t>(load_le(rest + 16, 4));
  crc_ = crc32_update(0, {});
  rewrite_ = header_[kMagicSize] & kRewrite;
  deliver_ = type == 'P';  // an ignorable chunk of a later format is skipped
  in_payload_ = true;
  if (left_ == 0) end_payload();
}

void MbstreamReader::end_payload() {
  in_payload_ = false;
  if (crc_ != expected_crc_)
    throw DecodeError(fmt::format(
        "mbstream chunk {} ({} up to offset {}) fails its CRC-32: the stream is damaged", chunks_,
        path_, offset_));
}

void MbstreamReader::feed(Bytes data) {
  while (!data.empty()) {
    if (in_payload_) {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, data.size()));
      auto piece = data.first(n);
      crc_ = crc32_update(crc_, piece);
      if (deliver_) h_.payload(path_, offset_, piece, rewrite_);
      offset_ += n;
      left_ -= n;
      data = data.subspan(n);
      if (left_ == 0) end_payload();
      continue;
    }
    // The header: never more bytes than it certainly has, so no byte of the next chunk.
    auto need = header_need();
    auto n = std::min(need.bytes - header_.size(), data.size());
    header_.insert(header_.end(), data.begin(), data.begin() + static_cast<long>(n));
    data = data.subspan(n);
    need = header_need();
    if (need.known && header_.size() == need.bytes) {
      take_header();
      header_.clear();
    }
  }
}

void MbstreamReader::finish() const {
  if (in_payload_ || !header_.empty())
    throw DecodeError(
        fmt::format("the mbstream stops inside chunk {}: mariabackup did not finish its stream",
                    chunks_ + (in_payload_ ? 0 : 1)));
}

std::vector<std::uint8_t> mbstream_payload_chunk(const std::string& path, std::uint64_t offset,
                                                 Bytes payload, bool rewrite) {
  auto out = chunk_prefix('P', path, rewrite ? kRewrite : 0);
  append_le(out, payload.size(), 8);
  append_le(out, offset, 8);
  append_le(out, crc32_update(crc32_update(0, {}), payload), 4);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

std::vector<std::uint8_t> mbstream_end_chunk(const std::string& path) {
  return chunk_prefix('E', path);
}

std::vector<std::uint8_t> mbstream_seek_chunk(const std::string& path, std::uint64_t offset) {
  auto out = chunk_prefix('S', path);
  append_le(out, offset, 8);
  return out;
}

std::vector<std::uint8_t> mbstream_remove_chunk(const std::string& path) {
  return chunk_prefix('D', path);
}

std::vector<std::uint8_t> mbstream_rename_chunk(const std::string& from, const std::string& to) {
  auto out = chunk_prefix('R', from);
  append_le(out, to.size(), 4);
  out.insert(out.end(), to.begin(), to.end());
  return out;
}

}  // namespace pitr::mariadb
