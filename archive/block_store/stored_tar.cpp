#include "archive/block_store/stored_tar.hpp"

#include "archive/block_store/stored_files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

namespace pitr::archive {
namespace {

constexpr std::size_t kTarBlock = 512;
// Reading: the list blocks of up to this many members, or this many lists, are fetched
// together, then their data blocks kDataWindow at a time (bounded memory, few requests).
constexpr std::size_t kMembersPerWindow = 512;
constexpr std::size_t kListsPerWindow = 64;
constexpr std::size_t kDataWindow = 2048;

std::vector<BlockId> ids_in_list(const StoredTarMember& m, Bytes list) {
  if (list.size() % BlockId::kSize != 0 || list.empty())
    throw DecodeError("member " + m.entry.name + ": a list block of " +
                      std::to_string(list.size()) + " bytes is not a list of block ids");
  std::vector<BlockId> ids(list.size() / BlockId::kSize);
  for (std::size_t i = 0; i < ids.size(); ++i)
    std::copy_n(list.data() + i * BlockId::kSize, BlockId::kSize, ids[i].bytes.begin());
  return ids;
}

// Reads blocks, naming the member a missing or damaged one belongs to.
void read_for(const BlockReader& reader, const std::vector<BlockId>& ids,
              const std::vector<const StoredTarMember*>& owners,
              const std::function<void(std::size_t, Bytes)>& deliver) {
  try {
    reader.read_all(ids, deliver);
  } catch (const BlockError& e) {
    auto at = std::find(ids.begin(), ids.end(), e.id()) - ids.begin();
    throw std::runtime_error(fmt::format("file {}: {}", owners.at(at)->entry.name, e.what()));
  }
}

// Writes the members [begin, end) of the tar stream.
class WindowWriter {
 public:
  WindowWriter(const BlockReader& reader, const std::function<void(Bytes)>& sink)
      : reader_(reader), sink_(sink) {}

  void write(const StoredTarMember* begin, const StoredTarMember* end) {
    auto data = data_ids(begin, end);
    std::size_t next = 0;  // of data
    for (auto* m = begin; m != end; ++m) {
      sink_(tar_header(m->entry));
      std::uint64_t written = 0;
      for (auto count = blocks_[static_cast<std::size_t>(m - begin)]; count > 0; --count) {
        auto& block = fetched(data, next++);
        written += block.size();
        if (written > m->entry.size) break;
        sink_(block);
      }
      if (written != m->entry.size)
        throw DecodeError(fmt::format("file {}: its blocks hold {} bytes, its header says {}",
                                      m->entry.name, written, m->entry.size));
      static const std::vector<std::uint8_t> zeros(kTarBlock, 0);
      sink_(Bytes(zeros).first((kTarBlock - written % kTarBlock) % kTarBlock));
    }
  }

 private:
  // The data block ids of the window's members, in order, read from their list blocks.
  std::vector<BlockId> data_ids(const StoredTarMember* begin, const StoredTarMember* end) {
    std::vector<BlockId> lists;
    owners_.clear();
    for (auto* m = begin; m != end; ++m)
      for (const auto& id : m->lists) {
        lists.push_back(id);
        owners_.push_back(m);
      }
    std::vector<std::vector<BlockId>> listed(lists.size());
    read_for(reader_, lists, owners_,
             [&](std::size_t i, Bytes b) { listed[i] = ids_in_list(*owners_[i], b); });
    std::vector<BlockId> data;
    std::vector<const StoredTarMember*> data_owners;
    blocks_.assign(static_cast<std::size_t>(end - begin), 0);
    for (std::size_t i = 0; i < lists.size(); ++i) {
      data.insert(data.end(), listed[i].begin(), listed[i].end());
      data_owners.insert(data_owners.end(), listed[i].size(), owners_[i]);
      blocks_[static_cast<std::size_t>(owners_[i] - begin)] += listed[i].size();
    }
    owners_ = std::move(data_owners);
    window_start_ = 0;
    window_.clear();
    return data;
  }

  // Data block `i`, fetched kDataWindow at a time as the stream reaches it.
  const std::vector<std::uint8_t>& fetched(const std::vector<BlockId>& data, std::size_t i) {
    if (i >= window_start_ + window_.size()) {
      window_start_ = i;
      auto n = std::min(kDataWindow, data.size() - i);
      std::vector<BlockId> ids(data.begin() + static_cast<long>(i),
                               data.begin() + static_cast<long>(i + n));
      std::vector<const StoredTarMember*> owners(owners_.begin() + static_cast<long>(i),
                                                 owners_.begin() + static_cast<long>(i + n));
      window_.assign(n, {});
      read_for(reader_, ids, owners,
               [&](std::size_t k, Bytes b) { window_[k].assign(b.begin(), b.end()); });
    }
    return window_[i - window_start_];
  }

  const BlockReader& reader_;
  const std::function<void(Bytes)>& sink_;
  std::vector<const StoredTarMember*> owners_;
  std::vector<std::size_t> blocks_;  // data blocks per member of the window
  std::size_t window_start_ = 0;
  std::vector<std::vector<std::uint8_t>> window_;
};

const char* type_name(TarEntry::Type type) {
  switch (type) {
    case TarEntry::Type::kFile:
      return "file";
    case TarEntry::Type::kDirectory:
      return "directory";
    case TarEntry::Type::kSymlink:
      return "symlink";
    case TarEntry::Type::kOther:
      break;
  }
  return "other";
}

}  // namespace

void check_restorable(const TarEntry& entry) {
  if (entry.type == TarEntry::Type::kOther)
    throw DecodeError("tar entry '" + entry.name +
                      "' is neither a file, a directory nor a symlink: it could not be restored");
}

StoredTarWriter::StoredTarWriter(BlockWriter& blocks, std::size_t block_size)
    : files_(std::make_unique<StoredFilesWriter>(blocks, block_size)),
      reader_({[this](const TarEntry& e) {
                 check_restorable(e);
                 current_ = e.name;
                 files_->begin(e);
               },
               [this](Bytes b) { files_->append(current_, b); },
               [this] {
                 if (files_->is_open(current_)) files_->close(current_);
               }}) {}

StoredTarWriter::~StoredTarWriter() = default;

std::vector<StoredTarMember> StoredTarWriter::finish() {
  reader_.finish();
  return files_->finish();
}

void read_stored_tar(const BlockReader& reader, const std::vector<StoredTarMember>& members,
                     const std::function<void(Bytes)>& sink) {
  WindowWriter writer(reader, sink);
  for (std::size_t i = 0; i < members.size();) {
    auto end = i;
    for (std::size_t lists = 0; end < members.size() && end - i < kMembersPerWindow; ++end) {
      lists += members[end].lists.size();
      if (lists > kListsPerWindow && end > i) break;
    }
    writer.write(members.data() + i, members.data() + end);
    i = end;
  }
  static const std::vector<std::uint8_t> end_of_archive(2 * kTarBlock, 0);
  sink(end_of_archive);
}

void add_blocks_used(const BlockReader& reader, const std::vector<StoredTarMember>& members,
                     std::unordered_set<BlockId>& into) {
  std::vector<BlockId> lists;
  std::vector<const StoredTarMember*> owners;
  for (const auto& m : members)
    for (const auto& id : m.lists) {
      lists.push_back(id);
      owners.push_back(&m);
    }
  into.insert(lists.begin(), lists.end());
  std::mutex adding;  // read_all delivers from several threads
  read_for(reader, lists, owners, [&](std::size_t i, Bytes b) {
    auto ids = ids_in_list(*owners[i], b);
    std::lock_guard lock(adding);
    into.insert(ids.begin(), ids.end());
  });
}

std::vector<BlockId> store_id_lists(BlockWriter& blocks, const std::vector<BlockId>& data) {
  std::vector<BlockId> lists;
  std::vector<std::uint8_t> list;
  for (std::size_t i = 0; i < data.size(); i += kIdsPerList) {
    list.clear();
    for (std::size_t k = i; k < std::min(data.size(), i + kIdsPerList); ++k)
      list.insert(list.end(), data[k].bytes.begin(), data[k].bytes.end());
    lists.push_back(blocks.put(list));
  }
  return lists;
}

std::vector<std::vector<BlockId>> data_block_ids(
    const BlockReader& reader, const std::vector<const StoredTarMember*>& members) {
  std::vector<BlockId> lists;
  std::vector<const StoredTarMember*> owners;
  std::vector<std::size_t> member_of;
  for (std::size_t m = 0; m < members.size(); ++m)
    for (const auto& id : members[m]->lists) {
      lists.push_back(id);
      owners.push_back(members[m]);
      member_of.push_back(m);
    }
  std::vector<std::vector<BlockId>> listed(lists.size());
  read_for(reader, lists, owners,
           [&](std::size_t i, Bytes b) { listed[i] = ids_in_list(*owners[i], b); });
  std::vector<std::vector<BlockId>> out(members.size());
  for (std::size_t i = 0; i < lists.size(); ++i)
    out[member_of[i]].insert(out[member_of[i]].end(), listed[i].begin(), listed[i].end());
  return out;
}

std::uint64_t stored_tar_length(const std::vector<StoredTarMember>& members) {
  std::uint64_t length = 2 * kTarBlock;
  for (const auto& m : members)
    length += kTarBlock + (m.entry.size + kTarBlock - 1) / kTarBlock * kTarBlock;
  return length;
}

nlohmann::json stored_tar_json(const std::vector<StoredTarMember>& members) {
  auto out = nlohmann::json::array();
  for (const auto& m : members) {
    nlohmann::json j{{"name", m.entry.name},
                     {"type", type_name(m.entry.type)},
                     {"mode", m.entry.mode},
                     {"mtime", m.entry.mtime}};
    if (m.entry.type == TarEntry::Type::kFile) {
      j["size"] = m.entry.size;
      auto& lists = j["lists"] = nlohmann::json::array();
      for (const auto& id : m.lists) lists.push_back(id.hex());
    }
    if (m.entry.type == TarEntry::Type::kSymlink) j["link"] = m.entry.link_target;
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<StoredTarMember> stored_tar_from_json(const nlohmann::json& json,
                                                  const std::string& what) {
  if (!json.is_array()) throw DecodeError(what + " is damaged: it is not a list of tar members");
  try {
    std::vector<StoredTarMember> out;
    for (const auto& j : json) {
      StoredTarMember m;
      m.entry.name = j.at("name").get<std::string>();
      auto type = j.at("type").get<std::string>();
      m.entry.type = type == "file"        ? TarEntry::Type::kFile
                     : type == "directory" ? TarEntry::Type::kDirectory
                     : type == "symlink"   ? TarEntry::Type::kSymlink
                                           : throw DecodeError("unknown member type " + type);
      m.entry.mode = j.at("mode").get<std::uint32_t>();
      m.entry.mtime = j.at("mtime").get<std::int64_t>();
      if (m.entry.type == TarEntry::Type::kFile) {
        m.entry.size = j.at("size").get<std::uint64_t>();
        for (const auto& id : j.at("lists"))
          m.lists.push_back(BlockId::from_hex(id.get<std::string>()));
      }
      if (m.entry.type == TarEntry::Type::kSymlink)
        m.entry.link_target = j.at("link").get<std::string>();
      out.push_back(std::move(m));
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    throw DecodeError(what + " is damaged: " + e.what());
  } catch (const DecodeError& e) {
    throw DecodeError(what + " is damaged: " + e.what());
  }
}

}  // namespace pitr::archive
