#include "formats/postgres/incremental_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <regex>
#include <sstream>

namespace pitr::postgres {
namespace {

constexpr std::string_view kPrefix = "INCREMENTAL.";
constexpr std::size_t kFixedBytes = 12;  // magic, block count, truncation block length

std::uint32_t byte_swap(std::uint32_t v) {
  return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

}  // namespace

// Where relation files live, as pg_combinebackup looks for incremental files: global/,
// base/<database oid>/, and <tablespace version directory>/<database oid>/ in a tablespace's
// archive.
bool in_relation_directory(std::string_view dir) {
  static const std::regex relations(R"(global|base/[0-9]+|PG_[^/]+/[0-9]+)");
  return std::regex_match(dir.begin(), dir.end(), relations);
}

std::optional<std::string> incremental_file_target(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos || !in_relation_directory(std::string_view(path).substr(0, slash)))
    return std::nullopt;
  auto base = slash + 1;
  if (path.compare(base, kPrefix.size(), kPrefix) != 0 || path.size() == base + kPrefix.size())
    return std::nullopt;
  return path.substr(0, base) + path.substr(base + kPrefix.size());
}

IncrementalFileReader::IncrementalFileReader(std::string name, std::uint32_t page_size,
                                             std::uint32_t segment_blocks,
                                             std::function<void(std::size_t, Bytes)> page)
    : name_(std::move(name)),
      page_size_(page_size),
      segment_blocks_(segment_blocks),
      page_(std::move(page)) {}

void IncrementalFileReader::fail(const std::string& what) const {
  throw DecodeError(fmt::format("incremental file {}: {}", name_, what));
}

std::uint32_t IncrementalFileReader::word(std::size_t at) const {
  auto v = static_cast<std::uint32_t>(load_le(held_.data() + at, 4));
  return big_endian_ ? byte_swap(v) : v;
}

void IncrementalFileReader::parse_fixed() {
  auto magic = static_cast<std::uint32_t>(load_le(held_.data(), 4));
  big_endian_ = magic == byte_swap(kIncrementalMagic);
  if (magic != kIncrementalMagic && !big_endian_)
    fail(fmt::format("bad magic number 0x{:08x} (not 0x{:08x})", magic, kIncrementalMagic));
  count_ = word(4);
  header_.truncation_block_length = word(8);
  if (*count_ > segment_blocks_)
    fail(fmt::format("{} blocks, more than a segment holds ({})", *count_, segment_blocks_));
  // PostgreSQL 17 releases before a 2025 fix could send a truncation length past a segment's
  // end for a relation of several segments; a segment is never longer, so it is cut there.
  header_.truncation_block_length = std::min(header_.truncation_block_length, segment_blocks_);
  header_bytes_ = kFixedBytes + 4 * std::size_t{*count_};
  if (*count_ > 0 && header_bytes_ % page_size_ != 0)
    header_bytes_ += page_size_ - header_bytes_ % page_size_;
}

void IncrementalFileReader::parse_numbers() {
  header_.blocks.resize(*count_);
  for (std::uint32_t i = 0; i < *count_; ++i) {
    auto b = word(kFixedBytes + 4 * std::size_t{i});
    if (b >= segment_blocks_)
      fail(fmt::format("block {} is past the end of a segment ({} blocks)", b, segment_blocks_));
    if (i > 0 && b <= header_.blocks[i - 1])
      fail(fmt::format("block numbers are not in ascending order ({} after {})", b,
                       header_.blocks[i - 1]));
    header_.blocks[i] = b;
  }
  header_done_ = true;
  held_.clear();
}

void IncrementalFileReader::feed(Bytes data) {
  while (!data.empty()) {
    if (!header_done_) {
      auto want = (count_ ? header_bytes_ : kFixedBytes) - held_.size();
      auto take = std::min(want, data.size());
      held_.insert(held_.end(), data.begin(), data.begin() + static_cast<long>(take));
      data = data.subspan(take);
      if (take < want) return;
      if (!count_) parse_fixed();
      if (held_.size() == header_bytes_) parse_numbers();  // at once when there are none
      continue;
    }
    if (pages_done_ == header_.blocks.size())
      fail(fmt::format("more bytes than its {} blocks", header_.blocks.size()));
    if (held_.empty() && data.size() >= page_size_) {  // a whole page: no copy
      page_(pages_done_++, data.first(page_size_));
      data = data.subspan(page_size_);
      continue;
    }
    auto take = std::min<std::size_t>(page_size_ - held_.size(), data.size());
    held_.insert(held_.end(), data.begin(), data.begin() + static_cast<long>(take));
    data = data.subspan(take);
    if (held_.size() == page_size_) {
      page_(pages_done_++, held_);
      held_.clear();
    }
  }
}

const IncrementalHeader& IncrementalFileReader::finish() const {
  if (!header_done_ || pages_done_ != header_.blocks.size())
    fail(header_done_
             ? fmt::format("ends after {} of its {} blocks", pages_done_, header_.blocks.size())
             : "ends inside its header");
  return header_;
}

std::vector<BlockSource> reconstruction_plan(const IncrementalHeader& header,
                                             std::uint32_t prior_blocks) {
  std::uint32_t length = header.truncation_block_length;
  if (!header.blocks.empty()) length = std::max(length, header.blocks.back() + 1);
  std::vector<BlockSource> plan(length);
  for (std::uint32_t b = 0; b < std::min(header.truncation_block_length, prior_blocks); ++b)
    plan[b] = {BlockSource::Kind::kPrior, b};
  for (std::uint32_t i = 0; i < header.blocks.size(); ++i)
    plan[header.blocks[i]] = {BlockSource::Kind::kIncremental, i};
  return plan;
}

std::string complete_backup_label(const std::string& label) {
  std::istringstream in(label);
  std::string out, line;
  while (std::getline(in, line))
    if (!line.starts_with("INCREMENTAL FROM LSN: ") && !line.starts_with("INCREMENTAL FROM TLI: "))
      out += line + "\n";
  return out;
}

}  // namespace pitr::postgres
