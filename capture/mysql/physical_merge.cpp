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

// Renames all at once: every source taken out before any target is written, so that swaps
// (a to b, b to a) and chains keep every file. Sources that are missing are skipped.
template <typename Map>
void rename_all(Map& map, const std::vector<std::pair<std::string, std::string>>& renames) {
  std::vector<typename Map::node_type> moving;
  for (const auto& [from, to] : renames) {
    auto node = map.extract(from);
    if (node.empty()) continue;
    node.key() = to;
    moving.push_back(std::move(node));
  }
  for (auto& node : moving) {
    map.erase(node.key());
    map.insert(std::move(node));
  }
}

// The parent's tablespace files as the incremental's deltas claim them. A file whose name a
// tablespace with another space id now has is set aside, not dropped: a delta may claim it
// by its id under another name (renamed, and its name reused). What nothing claims is
// dropped at the end.
class TablespaceClaims {
 public:
  explicit TablespaceClaims(PhysicalFileMap& result) : result_(result) {}

  // Where a delta's pages go: the same file when its space id matches, the file holding that
  // space under another name or set aside, or none (a new tablespace).
  const StoredTarMember* base_for(const std::string& path, std::uint32_t space_id) {
    auto& files = result_.files;
    if (is_system_tablespace(path)) {
      auto it = files.find(path);
      return it == files.end() ? nullptr : &it->second;
    }
    auto it = files.find(path);
    auto id = result_.space_ids.find(path);
    // A file whose space id was never learned is taken as the same tablespace.
    if (it != files.end() && (id == result_.space_ids.end() || id->second == space_id))
      return &it->second;
    set_aside(path);
    if (auto kept = set_aside_.extract(space_id); !kept.empty()) {
      kept.mapped().entry.name = path;
      files[path] = std::move(kept.mapped());
      result_.space_ids[path] = space_id;
      return &files.at(path);
    }
    for (const auto& [other, other_id] : result_.space_ids)
      if (other_id == space_id && in_database_dir(other) && ends_with(other, ".ibd") &&
          !claimed_.contains(other)) {
        auto from = other;  // a copy: move_file changes the map it lives in
        move_file(result_, from, path);
        return &files.at(path);
      }
    return nullptr;
  }
  // The file under `path`, if any, is kept aside by its space id.
  void set_aside(const std::string& path) {
    auto it = result_.files.find(path);
    if (it == result_.files.end()) return;
    auto id = result_.space_ids.find(path);
    if (id != result_.space_ids.end() && !is_system_tablespace(path))
      set_aside_[id->second] = std::move(it->second);
    drop_file(result_, path);
  }
  void claim(const std::string& path) { claimed_.insert(path); }
  // A tablespace the incremental has neither a delta nor a copy of was dropped.
  void drop_unclaimed() {
    for (auto it = result_.files.begin(); it != result_.files.end();)
      if (in_database_dir(it->first) && !claimed_.contains(it->first)) {
        result_.space_ids.erase(it->first);
        it = result_.files.erase(it);
      } else {
        ++it;
      }
  }

 private:
  PhysicalFileMap& result_;
  std::map<std::uint32_t, StoredTarMember> set_aside_;
  std::set<std::string> claimed_;
};

// The incremental's own markers, on its side and in mariabackup's order: a dropped
// tablespace's delta goes (.del), a renamed one's follows it (.ren), a complete copy replaces
// the file and its delta (.new; the file it replaces is set aside for a delta claiming it).
void apply_incremental_markers(IncrementalParts& parts, PhysicalFileMap& result,
                               TablespaceClaims& claims) {
  auto& whole = parts.whole.files;
  std::vector<std::string> dels, news;
  std::vector<std::pair<std::string, std::string>> renames;
  for (const auto& [path, m] : whole) {
    if (ends_with(path, ".del")) dels.push_back(path);
    if (ends_with(path, ".ren"))
      renames.emplace_back(without_suffix(path, ".ren") + ".ibd", parts.renames.at(path) + ".ibd");
    if (ends_with(path, ".new")) news.push_back(path);
  }
  for (const auto& path : dels) {
    parts.deltas.erase(without_suffix(path, ".del") + ".ibd");
    whole.erase(path);
  }
  rename_all(parts.deltas, renames);
  for (const auto& [from, to] : renames) whole.erase(without_suffix(from, ".ibd") + ".ren");
  for (const auto& path : news) {
    auto target = without_suffix(path, ".new") + ".ibd";
    parts.deltas.erase(target);
    claims.set_aside(target);
    auto m = whole.at(path);
    m.entry.name = target;
    result.files[target] = std::move(m);
    if (auto id = parts.whole.space_ids.find(path); id != parts.whole.space_ids.end())
      result.space_ids[target] = id->second;
    claims.claim(target);
    whole.erase(path);
  }
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
  std::vector<std::pair<std::string, std::string>> renames;
  for (const auto& p : rens)
    renames.emplace_back(without_suffix(p, ".ren") + ".ibd", rename_text(p) + ".ibd");
  for (const auto& p : rens) drop_file(map, p);
  rename_all(map.files, renames);
  rename_all(map.space_ids, renames);
  for (auto& [path, m] : map.files) m.entry.name = path;
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
  TablespaceClaims claims(result);
  apply_incremental_markers(parts, result, claims);
  for (const auto& [path, delta] : parts.deltas) {
    if (!delta.meta)
      throw DecodeError(fmt::format("the incremental backup has {}.delta without its .meta", path));
    auto* base = claims.base_for(path, delta.meta->space_id);
    auto merged = TablespaceMerge(c, path, delta).merge(base);
    result.files[path] = std::move(merged);
    if (!is_system_tablespace(path)) result.space_ids[path] = delta.meta->space_id;
    claims.claim(path);
  }
  claims.drop_unclaimed();
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
