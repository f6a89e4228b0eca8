#include "formats/mariadb/innodb_delta.hpp"

#include "formats/mariadb/backup_metadata.hpp"

#include <fmt/format.h>

#include <charconv>
#include <string>

namespace pitr::mariadb {
namespace {

constexpr std::uint32_t kMoreBlocks = 0x78747261;  // "xtra"
constexpr std::uint32_t kLastBlock = 0x58545241;   // "XTRA"
constexpr std::uint32_t kEndOfList = 0xFFFFFFFF;

std::uint32_t load_be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

bool valid_page_size(std::uint32_t size) {
  return size >= 1024 && size <= 65536 && (size & (size - 1)) == 0;
}

}  // namespace

DeltaMeta parse_delta_meta(std::string_view text) {
  auto fields = key_value_lines(text);
  auto number = [&](const char* key) {
    auto it = fields.find(key);
    std::uint32_t v = 0;
    if (it == fields.end() ||
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), v).ec !=
            std::errc())
      throw DecodeError(fmt::format("a .meta file of the incremental backup has no {}", key));
    return v;
  };
  DeltaMeta m;
  m.page_size = number("page_size");
  m.space_id = number("space_id");
  if (fields.contains("zip_size")) m.zip_size = number("zip_size");
  if (!valid_page_size(m.page_size))
    throw DecodeError(fmt::format("a .meta file gives the page size {}", m.page_size));
  return m;
}

DeltaReader::DeltaReader(std::uint32_t page_size, PageHandler page)
    : page_size_(page_size), page_(std::move(page)) {
  if (!valid_page_size(page_size))
    throw DecodeError(
        fmt::format("a delta's page size of {} bytes is not one InnoDB uses", page_size));
}

void DeltaReader::take_header() {
  auto magic = load_be32(buffer_.data());
  if (magic != kMoreBlocks && magic != kLastBlock)
    throw DecodeError(fmt::format(
        "a .delta block starts with {:08x}, not \"xtra\" or \"XTRA\": the delta is damaged",
        magic));
  last_ = magic == kLastBlock;
  numbers_.clear();
  for (std::size_t slot = 1; slot < page_size_ / 4; ++slot) {
    auto n = load_be32(buffer_.data() + slot * 4);
    if (n == kEndOfList) break;
    numbers_.push_back(n);
  }
  next_ = 0;
  in_block_ = true;
}

void DeltaReader::feed(Bytes data) {
  while (!data.empty()) {
    if (ended_) throw DecodeError("a .delta goes on after its last (\"XTRA\") block");
    auto n = std::min<std::size_t>(page_size_ - buffer_.size(), data.size());
    buffer_.insert(buffer_.end(), data.begin(), data.begin() + static_cast<long>(n));
    data = data.subspan(n);
    if (buffer_.size() < page_size_) continue;
    if (!in_block_) {
      take_header();
    } else {
      page_(numbers_[next_++], buffer_);
    }
    buffer_.clear();
    if (in_block_ && next_ == numbers_.size()) {
      in_block_ = false;
      ended_ = last_;
    }
  }
}

void DeltaReader::finish() const {
  if (!ended_)
    throw DecodeError("a .delta ends before its last (\"XTRA\") block: the backup is cut short");
}

std::uint32_t page_space_id(Bytes page) {
  if (page.size() < 38) throw DecodeError("an InnoDB page shorter than its header");
  return load_be32(page.data() + 34);  // FIL_PAGE_ARCH_LOG_NO_OR_SPACE_ID
}

std::uint32_t tablespace_pages(Bytes first_page) {
  if (first_page.size() < 50) throw DecodeError("an InnoDB page shorter than its header");
  return load_be32(first_page.data() + 38 + 8);  // FSP_HEADER_OFFSET + FSP_SIZE
}

}  // namespace pitr::mariadb
