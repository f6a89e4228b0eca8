#include "formats/tar_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace pitr {
namespace {

constexpr std::size_t kBlock = 512;

std::uint64_t tar_number(const std::uint8_t* p, std::size_t n, const char* field) {
  if (p[0] & 0x80) {  // base-256 (GNU), used for sizes of 8 GiB and more
    std::uint64_t v = p[0] & 0x7F;
    for (std::size_t i = 1; i < n; ++i) v = v << 8 | p[i];
    return v;
  }
  std::uint64_t v = 0;
  std::size_t i = 0;
  while (i < n && p[i] == ' ') ++i;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) v = v * 8 + (p[i] - '0');
  if (i < n && p[i] != 0 && p[i] != ' ')
    throw DecodeError(fmt::format("tar header: field {} is not an octal number", field));
  return v;
}

std::string tar_text(const std::uint8_t* p, std::size_t n) {
  auto len = static_cast<std::size_t>(std::find(p, p + n, 0) - p);
  return {reinterpret_cast<const char*>(p), len};
}

void put_octal(std::uint8_t* p, std::size_t n, std::uint64_t v) {
  auto s = fmt::format("{:0{}o}", v, n - 1);
  std::memcpy(p, s.data(), std::min(s.size(), n - 1));
}

}  // namespace

void TarReader::feed(Bytes data) {
  while (!data.empty()) {
    if (data_left_ > 0) {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(data_left_, data.size()));
      h_.data(data.first(n));
      data = data.subspan(n);
      data_left_ -= n;
      if (data_left_ == 0 && padding_left_ == 0) {
        in_entry_ = false;
        h_.end();
      }
      continue;
    }
    if (padding_left_ > 0) {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(padding_left_, data.size()));
      data = data.subspan(n);
      padding_left_ -= n;
      if (padding_left_ == 0) {
        in_entry_ = false;
        h_.end();
      }
      continue;
    }
    auto n = std::min(kBlock - block_.size(), data.size());
    block_.insert(block_.end(), data.begin(), data.begin() + static_cast<long>(n));
    data = data.subspan(n);
    if (block_.size() == kBlock) {
      parse_header();
      block_.clear();
    }
  }
}

void TarReader::parse_header() {
  const auto* b = block_.data();
  if (std::all_of(b, b + kBlock, [](std::uint8_t c) { return c == 0; })) {
    ended_ = true;
    return;
  }
  if (ended_) throw DecodeError("tar stream: data after the end-of-archive marker");
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : b[i];
  if (sum != tar_number(b + 148, 8, "chksum"))
    throw DecodeError("tar stream: header checksum mismatch (damaged or not a tar stream)");
  TarEntry e;
  e.name = tar_text(b, 100);
  auto prefix = tar_text(b + 345, 155);
  if (!prefix.empty() && std::memcmp(b + 257, "ustar", 5) == 0) e.name = prefix + "/" + e.name;
  e.mode = static_cast<std::uint32_t>(tar_number(b + 100, 8, "mode"));
  e.size = tar_number(b + 124, 12, "size");
  e.mtime = static_cast<std::int64_t>(tar_number(b + 136, 12, "mtime"));
  e.link_target = tar_text(b + 157, 100);
  switch (b[156]) {
    case '0':
    case 0:
      e.type = TarEntry::Type::kFile;
      break;
    case '5':
      e.type = TarEntry::Type::kDirectory;
      break;
    case '2':
      e.type = TarEntry::Type::kSymlink;
      break;
    default:
      e.type = TarEntry::Type::kOther;
  }
  if (e.type != TarEntry::Type::kFile) e.size = 0;
  if (e.name.empty()) throw DecodeError("tar stream: entry without a name");
  h_.begin(e);
  data_left_ = e.size;
  padding_left_ = (kBlock - e.size % kBlock) % kBlock;
  in_entry_ = true;
  if (data_left_ == 0 && padding_left_ == 0) {
    in_entry_ = false;
    h_.end();
  }
}

void TarReader::finish() const {
  if (in_entry_ || !block_.empty()) throw DecodeError("tar stream ends inside an entry");
}

std::vector<std::uint8_t> tar_header(const TarEntry& e) {
  std::vector<std::uint8_t> h(kBlock, 0);
  // A name longer than 100 bytes is split at a '/' into ustar's prefix (155) and name.
  std::string_view name = e.name, prefix;
  if (name.size() > 100) {
    auto slash = name.find('/', name.size() - 101);
    if (slash == std::string_view::npos || slash > 155 || slash == 0)
      throw std::invalid_argument("tar name too long: " + e.name);
    prefix = name.substr(0, slash);
    name = name.substr(slash + 1);
    std::memcpy(h.data() + 345, prefix.data(), prefix.size());
  }
  std::memcpy(h.data(), name.data(), name.size());
  put_octal(h.data() + 100, 8, e.mode);
  put_octal(h.data() + 108, 8, 0);
  put_octal(h.data() + 116, 8, 0);
  put_octal(h.data() + 124, 12, e.size);
  put_octal(h.data() + 136, 12, static_cast<std::uint64_t>(e.mtime));
  h[156] = e.type == TarEntry::Type::kDirectory ? '5'
           : e.type == TarEntry::Type::kSymlink ? '2'
                                                : '0';
  std::memcpy(h.data() + 157, e.link_target.data(),
              std::min<std::size_t>(100, e.link_target.size()));
  std::memcpy(h.data() + 257,
              "ustar\0"
              "00",
              8);
  std::memset(h.data() + 148, ' ', 8);
  std::uint64_t sum = 0;
  for (auto c : h) sum += c;
  auto s = fmt::format("{:06o}", sum);
  std::memcpy(h.data() + 148, s.data(), 6);
  h[154] = 0;
  return h;
}

}  // namespace pitr
