#include "archive/record_catalog.hpp"

#include <fmt/format.h>

#include <map>
#include <optional>

#include "archive/compressed_object_reader.hpp"
#include "archive/compressed_object_writer.hpp"
#include "archive/parallel_reads.hpp"
#include "archive/sha256.hpp"

namespace pitr::archive {

namespace {

constexpr int kFormat = 1;

std::string catalog_json(const std::vector<IndexedObject>& objects) {
  auto entries = nlohmann::json::array();
  for (const auto& o : objects)
    entries.push_back({{"key", o.key}, {"size", o.size}, {"record", o.record}});
  return nlohmann::json{{"format", kFormat}, {"objects", std::move(entries)}}.dump();
}

using CatalogEntries = std::map<std::string, std::pair<std::uint64_t, nlohmann::json>>;

// The entries of one catalog object; nullopt when it cannot be read as one.
std::optional<CatalogEntries> read_catalog(const storage::ObjectStore& store,
                                           const std::string& key, std::string& problem) {
  std::string text;
  try {
    read_zstd_object(store, key, [&](Bytes b) { text.append(b.begin(), b.end()); });
    auto json = nlohmann::json::parse(text);
    if (json.at("format").get<int>() != kFormat)
      throw IoError(fmt::format("format {} is not one this pitr reads", json.at("format").dump()));
    CatalogEntries entries;
    for (const auto& e : json.at("objects"))
      entries[e.at("key").get<std::string>()] = {e.at("size").get<std::uint64_t>(), e.at("record")};
    return entries;
  } catch (const std::exception& e) {  // IoError, a storage error, or JSON that does not fit
    problem = fmt::format(
        "record catalog {} is unreadable ({}); the objects it covers were "
        "read themselves",
        key, e.what());
    return std::nullopt;
  }
}

}  // namespace

void write_record_catalog(storage::ObjectStore& store, const std::string& prefix,
                          const std::vector<IndexedObject>& objects) {
  if (objects.empty()) return;
  auto text = catalog_json(objects);
  Sha256 hash;
  hash.update(as_bytes(text));
  auto key = fmt::format("{}{}.json.zst", prefix, hash.hex().substr(0, 32));
  try {
    CompressedObjectWriter out(store, key, {.level = 3, .sha256 = false});
    out.write(text);
    out.finish();
  } catch (const storage::StorageError& e) {
    if (e.kind() != storage::StorageErrorKind::kAlreadyExists) throw;  // the same entries
  }
}

RecordCatalogWriter::RecordCatalogWriter(storage::ObjectStore& store, std::string prefix,
                                         std::size_t batch)
    : store_(store), prefix_(std::move(prefix)), batch_(batch) {}

void RecordCatalogWriter::add(IndexedObject object) {
  std::lock_guard lock(mutex_);
  gathered_.push_back(std::move(object));
  if (gathered_.size() < batch_) return;
  write_record_catalog(store_, prefix_, gathered_);
  gathered_.clear();
}

void RecordCatalogWriter::flush() {
  std::lock_guard lock(mutex_);
  write_record_catalog(store_, prefix_, gathered_);
  gathered_.clear();
}

CatalogedRecords read_records(const storage::ObjectStore& store,
                              const std::vector<storage::ObjectInfo>& objects,
                              const std::string& catalog_prefix) {
  CatalogedRecords out;
  out.records.resize(objects.size());
  auto catalogs = store.list(catalog_prefix);
  std::vector<std::optional<CatalogEntries>> read(catalogs.size());
  std::vector<std::string> problems(catalogs.size());
  read_in_parallel(store, catalogs.size(), [&](std::size_t i) {
    read[i] = read_catalog(store, catalogs[i].key, problems[i]);
  });
  CatalogEntries known;
  for (std::size_t i = 0; i < catalogs.size(); ++i) {
    if (read[i]) known.merge(*read[i]);
    if (!problems[i].empty()) out.damaged_catalogs.push_back(problems[i]);
  }
  std::vector<std::size_t> missing;
  std::vector<storage::ObjectInfo> unread;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    auto it = known.find(objects[i].key);
    if (it != known.end() && it->second.first == objects[i].size) {
      out.records[i] = std::move(it->second.second);
    } else {
      missing.push_back(i);
      unread.push_back(objects[i]);
    }
  }
  auto records = read_index_records(store, unread);
  for (std::size_t m = 0; m < missing.size(); ++m) {
    out.records[missing[m]] = records[m];
    out.uncatalogued.push_back({unread[m].key, unread[m].size, std::move(records[m])});
  }
  return out;
}

}  // namespace pitr::archive
