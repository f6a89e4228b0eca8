#include "archive/block_store/stored_files.hpp"

#include <algorithm>

namespace pitr::archive {

bool StoredFilesWriter::has_closed(const std::string& name) const {
  return closed_.contains(name);
}

void StoredFilesWriter::begin(const TarEntry& entry) {
  if (open_.contains(entry.name) || has_closed(entry.name))
    throw DecodeError("file " + entry.name + " is stored twice");
  members_.push_back({entry, {}});
  removed_.push_back(false);
  if (entry.type != TarEntry::Type::kFile) {
    closed_.emplace(entry.name, members_.size() - 1);
    return;
  }
  members_.back().entry.size = 0;
  open_.emplace(entry.name, OpenFile{members_.size() - 1, {}, {}, {}, {}});
}

StoredFilesWriter::OpenFile& StoredFilesWriter::open_file(const std::string& name) {
  auto it = open_.find(name);
  if (it == open_.end()) throw DecodeError("file " + name + " is not open");
  return it->second;
}

std::uint64_t StoredFilesWriter::size_of_open(const std::string& name) const {
  auto it = open_.find(name);
  if (it == open_.end()) throw DecodeError("file " + name + " is not open");
  return members_[it->second.member].entry.size;
}

void StoredFilesWriter::append(const std::string& name, Bytes bytes) {
  auto& f = open_file(name);
  members_[f.member].entry.size += bytes.size();
  while (!bytes.empty()) {
    bool in_first = f.first.size() < block_size_;
    auto& filling = in_first ? f.first : f.block;
    auto n = std::min(block_size_ - filling.size(), bytes.size());
    filling.insert(filling.end(), bytes.begin(), bytes.begin() + static_cast<long>(n));
    bytes = bytes.subspan(n);
    if (filling.size() < block_size_) continue;
    if (in_first) {  // held: a placeholder id keeps its place in the first list
      f.list.resize(BlockId::kSize);
    } else {
      add_block(f, f.block);
      f.block.clear();
    }
    if (f.list.size() == kIdsPerList * BlockId::kSize) store_list(f);
  }
}

void StoredFilesWriter::overwrite(const std::string& name, std::uint64_t offset, Bytes bytes) {
  auto& f = open_file(name);
  if (offset + bytes.size() > f.first.size())
    throw DecodeError("file " + name + ": bytes " + std::to_string(offset) + ".." +
                      std::to_string(offset + bytes.size()) +
                      " are written again after they were stored; only the first block can be");
  std::copy(bytes.begin(), bytes.end(), f.first.begin() + static_cast<long>(offset));
}

void StoredFilesWriter::add_block(OpenFile& f, Bytes content) {
  auto id = blocks_.put(content);
  f.list.insert(f.list.end(), id.bytes.begin(), id.bytes.end());
}

// A full list while the first block is held is the first list, which names it: it is kept,
// with an empty id in its place, until close.
void StoredFilesWriter::store_list(OpenFile& f) {
  auto& lists = members_[f.member].lists;
  if (lists.empty()) {
    f.first_list = std::move(f.list);
    lists.push_back({});
  } else {
    lists.push_back(blocks_.put(f.list));
  }
  f.list.clear();
}

void StoredFilesWriter::close(const std::string& name) {
  auto& f = open_file(name);
  auto& lists = members_[f.member].lists;
  if (!f.first.empty()) {
    if (f.first.size() < block_size_) f.list.resize(BlockId::kSize);  // its id is the only one
    if (!f.block.empty()) add_block(f, f.block);
    auto id = blocks_.put(f.first);
    auto& first_list = lists.empty() ? f.list : f.first_list;
    std::copy(id.bytes.begin(), id.bytes.end(), first_list.begin());
    if (!lists.empty()) lists[0] = blocks_.put(f.first_list);
    if (!f.list.empty()) lists.push_back(blocks_.put(f.list));
  }
  closed_.emplace(name, f.member);
  open_.erase(name);
}

bool StoredFilesWriter::rename_closed(const std::string& from, const std::string& to) {
  auto it = closed_.find(from);
  if (it == closed_.end()) return false;
  if (open_.contains(to))
    throw DecodeError("file " + from + " is renamed to " + to + ", which is being written");
  auto i = it->second;
  closed_.erase(it);
  remove_closed([&](const std::string& n) { return n == to; });
  members_[i].entry.name = to;
  closed_.emplace(to, i);
  return true;
}

std::size_t StoredFilesWriter::remove_closed(const std::function<bool(const std::string&)>& which) {
  std::size_t n = 0;
  for (auto it = closed_.begin(); it != closed_.end();)
    if (which(it->first)) {
      removed_[it->second] = true;
      it = closed_.erase(it);
      ++n;
    } else {
      ++it;
    }
  return n;
}

std::vector<StoredTarMember> StoredFilesWriter::finish() {
  if (!open_.empty())
    throw DecodeError("file " + open_.begin()->first +
                      " was still being written when the stream ended");
  std::vector<StoredTarMember> out;
  for (std::size_t i = 0; i < members_.size(); ++i)
    if (!removed_[i]) out.push_back(std::move(members_[i]));
  members_.clear();
  removed_.clear();
  closed_.clear();
  return out;
}

}  // namespace pitr::archive
