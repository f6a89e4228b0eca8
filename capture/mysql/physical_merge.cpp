#include "capture/mysql/physical_merge.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "formats/mariadb/backup_metadata.hpp"

namespace pitr::capture {
namespace {

using archive::BlockId;
using archive::StoredTarMember;
using Files = std::map<std::string, StoredTarMember>;

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.ends_with(suffix);
}

std::string without_suffix(const std::string& s, std::string_view suffix) {
  return s.substr(0, s.size() - suffix.size());
}

// A file in a database directory ("db/t.ibd"), not at the top ("ibdata1", "undo001").
bool in_database_dir(const std::string& path) {
  return path.find('/') != std::string::npos;
}

bool is_system_tablespace(const std::string& path) {
  return !in_database_dir(path) && (path.starts_with("ibdata") || path.starts_with("undo"));
}

void move_file(PhysicalFileMap& map, const std::string& from, const std::string& to) {
  auto node = map.files.extract(from);
  if (node.empty()) return;
  node.key() = to;
  node.mapped().entry.name = to;
  map.files.erase(to);
  map.files.insert(std::move(node));
  map.space_ids.erase(to);
  if (auto id = map.space_ids.extract(from); !id.empty()) {
    id.key() = to;
    map.space_ids.insert(std::move(id));
  }
}

void drop_file(PhysicalFileMap& map, const std::string& path) {
  map.files.erase(path);
  map.space_ids.erase(path);
}

StoredTarMember new_member(const std::string& name) {
  StoredTarMember m;
  m.entry.name = name;
  m.entry.type = TarEntry::Type::kFile;
  m.entry.mode = 0640;
  m.entry.mtime = std::time(nullptr);
  return m;
}

// One tablespace file with a delta put in.
class TablespaceMerge {
 public:
  TablespaceMerge(const MergeContext& c, const std::string& path, const DeltaPages& delta)
      : c_(c), path_(path), delta_(delta), page_size_(delta.meta->page_size) {}

  StoredTarMember merge(const StoredTarMember* base) {
    auto out = base ? *base : new_member(path_);
    if (delta_.blocks.empty() && delta_.held.empty() && out.entry.size >= wanted_bytes())
      return out;  // unchanged
    std::vector<BlockId> ids;
    if (page_size_ == c_.block_size && (!base || base->entry.size % c_.block_size == 0)) {
      if (base) ids = archive::data_block_ids(c_.parent_blocks, {base}).at(0);
      put_pages(ids);
      if (ids.size() * c_.block_size < wanted_bytes())
        ids.resize(wanted_bytes() / c_.block_size, zero_block());
      out.entry.size = ids.size() * c_.block_size;
    } else {
      auto bytes = patched_bytes(base);
      out.entry.size = bytes.size();
      for (std::size_t at = 0; at < bytes.size(); at += c_.block_size)
        ids.push_back(
            c_.blocks.put(Bytes(bytes).subspan(at, std::min(c_.block_size, bytes.size() - at))));
    }
    out.lists = archive::store_id_lists(c_.blocks, ids);
    return out;
  }

 private:
  // A tablespace's first page says how many pages it has: the file grows to that (never
  // shrinks). Not for the system tablespace, whose size may span several files.
  std::uint64_t wanted_bytes() const {
    return delta_.tablespace_pages && !path_.starts_with("ibdata")
               ? std::uint64_t{*delta_.tablespace_pages} * page_size_
               : 0;
  }

  const BlockId& zero_block() {
    if (!zero_) zero_ = c_.blocks.put(std::vector<std::uint8_t>(c_.block_size, 0));
    return *zero_;
  }

  void put_pages(std::vector<BlockId>& ids) {
    for (const auto& [page, id] : delta_.blocks) {
      if (page >= ids.size()) ids.resize(std::size_t{page} + 1, zero_block());
      ids[page] = id;
    }
  }

  // Pages that are not blocks (compressed tables' smaller pages): the file's bytes with the
  // pages written over them, to be cut into blocks again.
  std::vector<std::uint8_t> patched_bytes(const StoredTarMember* base) {
    if (!delta_.blocks.empty())
      throw DecodeError(
          fmt::format("{}: a delta of {}-byte pages cannot be put into a file of "
                      "{} bytes",
                      path_, page_size_, base ? base->entry.size : 0));
    std::vector<std::uint8_t> bytes;
    if (base) {
      auto ids = archive::data_block_ids(c_.parent_blocks, {base}).at(0);
      std::vector<std::vector<std::uint8_t>> got(ids.size());
      c_.parent_blocks.read_all(ids,
                                [&](std::size_t i, Bytes b) { got[i].assign(b.begin(), b.end()); });
      for (const auto& b : got) bytes.insert(bytes.end(), b.begin(), b.end());
    }
    for (const auto& [page, content] : delta_.held) {
      auto at = std::size_t{page} * page_size_;
      if (bytes.size() < at + content.size()) bytes.resize(at + content.size(), 0);
      std::copy(content.begin(), content.end(), bytes.begin() + static_cast<long>(at));
    }
    if (bytes.size() < wanted_bytes()) bytes.resize(wanted_bytes(), 0);
    return bytes;
  }

  const MergeContext& c_;
  std::string path_;
  const DeltaPages& delta_;
  std::size_t page_size_;
  std::optional<BlockId> zero_;
};

// The incremental's own markers, on its side: a dropped or renamed tablespace's delta goes
// with it; a complete copy (.new) replaces the file and its delta.
void apply_incremental_markers(IncrementalParts& parts, PhysicalFileMap& result,
                               std::set<std::string>& present) {
  auto& whole = parts.whole.files;
  for (auto it = whole.begin(); it != whole.end();) {
    const auto& path = it->first;
    if (ends_with(path, ".del")) {
      parts.deltas.erase(without_suffix(path, ".del") + ".ibd");
    } else if (ends_with(path, ".ren")) {
      auto to = parts.renames.at(path) + ".ibd";
      auto node = parts.deltas.extract(without_suffix(path, ".ren") + ".ibd");
      if (!node.empty()) {
        node.key() = to;
        parts.deltas.insert(std::move(node));
      }
    } else if (ends_with(path, ".new")) {
      auto target = without_suffix(path, ".new") + ".ibd";
      parts.deltas.erase(target);
      auto m = it->second;
      m.entry.name = target;
      result.files[target] = m;
      result.space_ids.erase(target);
      if (auto id = parts.whole.space_ids.find(path); id != parts.whole.space_ids.end())
        result.space_ids[target] = id->second;
      present.insert(target);
    } else {
      ++it;
      continue;
    }
    it = whole.erase(it);
  }
}

// Where a delta's pages go: the same file when its space id matches, a file holding that space
// under another name (renamed since), or a new file (created, or replaced under the name).
const StoredTarMember* base_for(PhysicalFileMap& result, const std::string& path,
                                std::uint32_t space_id) {
  if (is_system_tablespace(path)) {
    auto it = result.files.find(path);
    return it == result.files.end() ? nullptr : &it->second;
  }
  auto it = result.files.find(path);
  auto id = result.space_ids.find(path);
  // A file whose space id was never learned is taken as the same tablespace.
  if (it != result.files.end() && (id == result.space_ids.end() || id->second == space_id))
    return &it->second;
  drop_file(result, path);
  for (const auto& [other, other_id] : result.space_ids)
    if (other_id == space_id && in_database_dir(other) && ends_with(other, ".ibd")) {
      auto from = other;  // a copy: move_file changes the map it lives in
      move_file(result, from, path);
      return &result.files.at(path);
    }
  return nullptr;
}

}  // namespace

void apply_ddl_markers(PhysicalFileMap& map,
                       const std::function<std::string(const std::string&)>& rename_text) {
  std::vector<std::string> dels, rens, news;
  for (const auto& [path, m] : map.files) {
    if (ends_with(path, ".del")) dels.push_back(path);
    if (ends_with(path, ".ren")) rens.push_back(path);
    if (ends_with(path, ".new")) news.push_back(path);
  }
  for (const auto& p : dels) {
    drop_file(map, without_suffix(p, ".del") + ".ibd");
    drop_file(map, p);
  }
  for (const auto& p : rens) {
    move_file(map, without_suffix(p, ".ren") + ".ibd", rename_text(p) + ".ibd");
    drop_file(map, p);
  }
  for (const auto& p : news) move_file(map, p, without_suffix(p, ".new") + ".ibd");
}

PhysicalFileMap merge_incremental(PhysicalFileMap parent, IncrementalParts parts,
                                  const std::string& checkpoints_text, const MergeContext& c) {
  // The parent's InnoDB tablespaces; everything else comes from the incremental.
  PhysicalFileMap result;
  for (auto& [path, m] : parent.files)
    if (ends_with(path, ".ibd") || is_system_tablespace(path)) result.files.emplace(path, m);
  for (auto& [path, id] : parent.space_ids)
    if (result.files.contains(path)) result.space_ids.emplace(path, id);
  std::set<std::string> present;
  apply_incremental_markers(parts, result, present);
  for (const auto& [path, delta] : parts.deltas) {
    if (!delta.meta)
      throw DecodeError(fmt::format("the incremental backup has {}.delta without its .meta", path));
    auto* base = base_for(result, path, delta.meta->space_id);
    auto merged = TablespaceMerge(c, path, delta).merge(base);
    result.files[path] = std::move(merged);
    if (!is_system_tablespace(path)) result.space_ids[path] = delta.meta->space_id;
    present.insert(path);
  }
  // A tablespace the incremental has neither a delta nor a copy of was dropped.
  for (auto it = result.files.begin(); it != result.files.end();)
    if (in_database_dir(it->first) && !present.contains(it->first)) {
      result.space_ids.erase(it->first);
      it = result.files.erase(it);
    } else {
      ++it;
    }
  for (auto& [path, m] : parts.whole.files)
    if (!result.files.contains(path)) result.files.emplace(path, std::move(m));
  for (auto& [path, id] : parts.whole.space_ids)
    if (ends_with(path, ".ibd") && result.files.contains(path)) result.space_ids.emplace(path, id);
  auto checkpoints = new_member(mariadb::kCheckpointsFile);
  auto text = as_bytes(checkpoints_text);
  checkpoints.entry.size = text.size();
  checkpoints.lists = archive::store_id_lists(c.blocks, {c.blocks.put(text)});
  result.files[mariadb::kCheckpointsFile] = std::move(checkpoints);
  return result;
}

}  // namespace pitr::capture
