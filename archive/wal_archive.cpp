#include "archive/wal_archive.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "archive/file_io.hpp"
#include "archive/index_frame.hpp"
#include "archive/record_catalog.hpp"

namespace pitr::archive {

nlohmann::json to_json(const WalSegmentRecord& r) {
  nlohmann::json j{{"version", 1},
                   {"source", r.source_id},
                   {"file", r.file},
                   {"timeline", r.timeline},
                   {"segment", r.segment},
                   {"segment_size", r.segment_size},
                   {"start_lsn", postgres::format_lsn(r.start)},
                   {"end_lsn", postgres::format_lsn(r.end)},
                   {"records", r.records},
                   {"commits", r.commits},
                   {"aborts", r.aborts},
                   {"sha256", r.sha256},
                   {"sealed_at", r.sealed_at}};
  if (r.first_commit_time) j["first_commit_time"] = *r.first_commit_time;
  if (r.last_commit_time) j["last_commit_time"] = *r.last_commit_time;
  auto& points = j["restore_points"] = nlohmann::json::array();
  for (const auto& p : r.restore_points)
    points.push_back({{"name", p.name}, {"lsn", postgres::format_lsn(p.lsn)}, {"time", p.time}});
  return j;
}

WalSegmentRecord wal_segment_record_from_json(const nlohmann::json& j) {
  WalSegmentRecord r;
  r.source_id = j.at("source").get<std::string>();
  r.file = j.at("file").get<std::string>();
  r.timeline = j.at("timeline").get<TimelineId>();
  r.segment = j.at("segment").get<std::uint64_t>();
  r.segment_size = j.at("segment_size").get<std::uint64_t>();
  r.start = postgres::parse_lsn(j.at("start_lsn").get<std::string>());
  r.end = postgres::parse_lsn(j.at("end_lsn").get<std::string>());
  r.records = j.value("records", std::uint64_t{0});
  r.commits = j.at("commits").get<std::uint64_t>();
  r.aborts = j.at("aborts").get<std::uint64_t>();
  r.sha256 = j.at("sha256").get<std::string>();
  r.sealed_at = j.at("sealed_at").get<std::uint64_t>();
  if (j.contains("first_commit_time"))
    r.first_commit_time = j["first_commit_time"].get<std::int64_t>();
  if (j.contains("last_commit_time"))
    r.last_commit_time = j["last_commit_time"].get<std::int64_t>();
  for (const auto& p : j.value("restore_points", nlohmann::json::array()))
    r.restore_points.push_back({p.at("name").get<std::string>(),
                                postgres::parse_lsn(p.at("lsn").get<std::string>()),
                                p.at("time").get<std::int64_t>()});
  if (r.end < r.start || r.end - r.start > r.segment_size || r.start % r.segment_size != 0)
    throw std::invalid_argument("WAL segment record has an impossible LSN range");
  return r;
}

std::string wal_source_id(std::uint64_t system_identifier) {
  return fmt::format("pg-{}", system_identifier);
}
std::string WalSourceListing::sealed_key(const WalSegmentRecord& r) const {
  return layout::sealed_wal(source.source_id, r.file, r.complete());
}

std::optional<std::string> WalSourceListing::summary_key(const WalSegmentRecord& r) const {
  if (!r.complete() || !summarized.contains(r.file)) return std::nullopt;
  return layout::wal_summary(source.source_id, r.file);
}

std::vector<WalPiece> WalSourceListing::pieces() const {
  std::vector<WalPiece> out;
  for (const auto& r : segments)
    out.push_back({r.timeline, r.segment, r.start, r.end, &r, nullptr});
  for (const auto& o : open) {
    auto start = o.segment * source.segment_size;
    out.push_back({o.timeline, o.segment, start, start + o.size, nullptr, &o});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::pair(a.timeline, a.segment) < std::pair(b.timeline, b.segment);
  });
  return out;
}

void WalSourceListing::will_read() const {
  std::vector<std::string> keys;
  for (const auto& p : pieces())
    if (p.record) keys.push_back(sealed_key(*p.record));
  store->will_read(keys);
}

void WalSourceListing::read(const WalPiece& piece, const std::function<void(Bytes)>& sink) const {
  if (piece.open) {
    sink(piece.open->file->read_all());
    return;
  }
  read_indexed_object(*store, sealed_key(*piece.record), piece.end - piece.start,
                      piece.record->sha256, sink);
}

void remember_wal_source(const Archive& archive, const WalSource& source) {
  auto key = layout::wal_source_record(source.source_id);
  nlohmann::json j{{"system_identifier", std::to_string(source.system_identifier)},
                   {"segment_size", source.segment_size}};
  if (archive.create_text(key, j.dump(2) + "\n")) return;
  auto text = archive.read_text(key);
  auto known = nlohmann::json::parse(text.value_or("{}")).value("segment_size", std::uint64_t{0});
  if (known != source.segment_size)
    throw IoError(fmt::format("{} says wal_segment_size {}, the server says {}", key, known,
                              source.segment_size));
}

namespace {

std::string as_text(const std::vector<std::uint8_t>& bytes) {
  return {bytes.begin(), bytes.end()};
}

WalSource read_source_record(const Archive& archive, const std::string& source_id) {
  auto key = layout::wal_source_record(source_id);
  try {
    auto meta = nlohmann::json::parse(archive.read_text(key).value_or("{}"));
    return {source_id, std::stoull(meta.at("system_identifier").get<std::string>()),
            meta.at("segment_size").get<std::uint64_t>()};
  } catch (const std::exception& e) {
    throw IoError(fmt::format("{} is damaged: {}", key, e.what()));
  }
}

// A history file (`name` within the source) goes into the listing; a sealed segment's object
// into `sealed`, whose records are read together.
void add_stored(WalSourceListing& l, const storage::ObjectInfo& object, const std::string& name,
                std::vector<storage::ObjectInfo>& sealed) {
  if (auto tli = postgres::parse_history_file_name(name)) {
    l.histories[*tli] = as_text(l.store->get_bytes(object.key));
    return;
  }
  if (!postgres::parse_wal_file_name(name.substr(0, 24), l.source.segment_size)) return;
  auto suffix = name.substr(24);
  if (suffix == ".zst" || suffix == ".partial.zst") sealed.push_back(object);
  if (suffix == ".summary.zst") l.summarized.insert(name.substr(0, 24));
}

void add_sealed(WalSourceListing& l, const std::vector<storage::ObjectInfo>& sealed) {
  auto cataloged = read_records(*l.store, sealed, layout::wal_catalog_prefix(l.source.source_id));
  l.uncatalogued = std::move(cataloged.uncatalogued);
  l.damaged_catalogs = std::move(cataloged.damaged_catalogs);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    try {
      l.segments.push_back(wal_segment_record_from_json(cataloged.records[i]));
    } catch (const std::invalid_argument& e) {
      throw IoError(fmt::format("{} is damaged: {}", sealed[i].key, e.what()));
    } catch (const nlohmann::json::exception& e) {
      throw IoError(fmt::format("{} is damaged: {}", sealed[i].key, e.what()));
    }
  }
}

// Adds the source's open tails and a crash's temporary files from the spool.
void add_spooled(WalSourceListing& l, const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& entry : fs::directory_iterator(dir)) {
    auto name = entry.path().filename().string();
    if (entry.path().extension() == ".tmp") {
      l.leftovers.push_back(entry.path());
      continue;
    }
    auto wal = postgres::parse_wal_file_name(name.substr(0, 24), l.source.segment_size);
    if (!wal || name.substr(24) != ".partial") continue;
    // None: sealed and removed since the directory was read.
    if (auto file = open_if_present(entry.path()))
      l.open.push_back({entry.path(), wal->timeline, wal->segment, file->size(), file});
  }
}

void sort_and_drop_sealed_tails(WalSourceListing& l) {
  auto key = [](const auto& x) { return std::pair(x.timeline, x.segment); };
  std::sort(l.segments.begin(), l.segments.end(),
            [&](const auto& a, const auto& b) { return key(a) < key(b); });
  std::sort(l.open.begin(), l.open.end(),
            [&](const auto& a, const auto& b) { return key(a) < key(b); });
  // The sealer stores the sealed segment, then removes the tail: a crash in between leaves
  // both.
  std::erase_if(l.open, [&](const OpenWalTail& o) {
    bool sealed = std::any_of(l.segments.begin(), l.segments.end(), [&](const auto& r) {
      return key(r) == key(o) && o.size <= r.end - r.start;
    });
    if (sealed) l.leftovers.push_back(o.path);
    return sealed;
  });
}

}  // namespace

std::vector<WalSourceListing> list_wal_sources(const Archive& archive) {
  // The spool first, then the store: a tail sealed in between is then seen twice (and the
  // copy in the spool dropped), never not at all.
  std::map<std::string, WalSourceListing> listings;
  std::error_code ec;
  if (archive.spool() && fs::is_directory(archive.spool_path(layout::wal_prefix()), ec))
    for (const auto& dir : fs::directory_iterator(archive.spool_path(layout::wal_prefix()))) {
      auto id = dir.path().filename().string();
      if (!dir.is_directory() || !archive.store().exists(layout::wal_source_record(id))) continue;
      auto& l = listings[id];
      l.source = read_source_record(archive, id);
      add_spooled(l, dir.path());
    }
  std::map<std::string, std::vector<std::pair<storage::ObjectInfo, std::string>>> by_source;
  for (auto& object : archive.store().list(layout::wal_prefix()))
    if (auto key = layout::split_under(layout::wal_prefix(), object.key);
        key && key->rest.find('/') == std::string::npos)
      by_source[key->first].emplace_back(object, key->rest);
  std::vector<WalSourceListing> out;
  for (const auto& [source_id, objects] : by_source) {
    auto record = layout::wal_source_record(source_id);
    bool known = std::any_of(objects.begin(), objects.end(),
                             [&record](const auto& o) { return o.first.key == record; });
    if (!known) continue;
    auto& l = listings[source_id];
    if (l.source.source_id.empty()) l.source = read_source_record(archive, source_id);
    l.store = archive.shared_store();
    std::vector<storage::ObjectInfo> sealed;
    for (const auto& [object, name] : objects) add_stored(l, object, name, sealed);
    add_sealed(l, sealed);
    sort_and_drop_sealed_tails(l);
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace pitr::archive
