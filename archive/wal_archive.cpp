#include "archive/wal_archive.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "archive/file_io.hpp"
#include "archive/index_frame.hpp"

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

fs::path wal_root(const ArchiveLayout& layout) {
  return layout.root() / "wal";
}
fs::path wal_source_dir(const ArchiveLayout& layout, const std::string& source_id) {
  return wal_root(layout) / source_id;
}
std::string wal_source_id(std::uint64_t system_identifier) {
  return fmt::format("pg-{}", system_identifier);
}
fs::path sealed_wal_path(const fs::path& dir, const std::string& file, bool complete) {
  return dir / (file + (complete ? ".zst" : ".partial.zst"));
}
fs::path open_wal_path(const fs::path& dir, const std::string& file) {
  return dir / (file + ".partial");
}
fs::path WalSourceListing::sealed_path(const WalSegmentRecord& r) const {
  return sealed_wal_path(dir, r.file, r.complete());
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

void WalSourceListing::read(const WalPiece& piece, const std::function<void(Bytes)>& sink) const {
  if (piece.open) {
    sink(MappedFile(piece.open->path).bytes());
    return;
  }
  read_indexed_file(sealed_path(*piece.record), piece.end - piece.start, piece.record->sha256,
                    sink);
}

void remember_wal_source(const ArchiveLayout& layout, const WalSource& source) {
  auto dir = wal_source_dir(layout, source.source_id);
  auto path = dir / "source.json";
  if (fs::exists(path)) {
    auto j = nlohmann::json::parse(read_small_file(path));
    if (j.at("segment_size").get<std::uint64_t>() != source.segment_size)
      throw IoError(fmt::format("{} says wal_segment_size {}, the server says {}", path.string(),
                                j.at("segment_size").get<std::uint64_t>(), source.segment_size));
    return;
  }
  fs::create_directories(dir);
  fsync_directory(dir.parent_path());
  nlohmann::json j{{"system_identifier", std::to_string(source.system_identifier)},
                   {"segment_size", source.segment_size}};
  write_file_atomically(path, as_bytes(j.dump(2) + "\n"));
}

namespace {

WalSourceListing list_source(const fs::path& dir) {
  WalSourceListing l;
  l.dir = dir;
  l.source.source_id = dir.filename().string();
  auto meta = nlohmann::json::parse(read_small_file(dir / "source.json"));
  l.source.system_identifier = std::stoull(meta.at("system_identifier").get<std::string>());
  l.source.segment_size = meta.at("segment_size").get<std::uint64_t>();
  for (const auto& entry : fs::directory_iterator(dir)) {
    auto name = entry.path().filename().string();
    if (entry.path().extension() == ".tmp") {
      l.leftovers.push_back(entry.path());
      continue;
    }
    if (auto tli = postgres::parse_history_file_name(name)) {
      l.histories[*tli] = read_small_file(entry.path());
      continue;
    }
    auto wal = postgres::parse_wal_file_name(name.substr(0, 24), l.source.segment_size);
    if (!wal) continue;
    auto suffix = name.substr(24);
    if (suffix == ".zst" || suffix == ".partial.zst") {
      try {
        l.segments.push_back(wal_segment_record_from_json(read_index_record(entry.path())));
      } catch (const std::invalid_argument& e) {
        throw IoError(fmt::format("{} is damaged: {}", entry.path().string(), e.what()));
      } catch (const nlohmann::json::exception& e) {
        throw IoError(fmt::format("{} is damaged: {}", entry.path().string(), e.what()));
      }
    } else if (suffix == ".partial") {
      l.open.push_back({entry.path(), wal->timeline, wal->segment, fs::file_size(entry.path())});
    }
  }
  auto key = [](const auto& x) { return std::pair(x.timeline, x.segment); };
  std::sort(l.segments.begin(), l.segments.end(),
            [&](const auto& a, const auto& b) { return key(a) < key(b); });
  std::sort(l.open.begin(), l.open.end(),
            [&](const auto& a, const auto& b) { return key(a) < key(b); });
  // The sealer writes the sealed file, then removes the tail: a crash in between leaves both.
  std::erase_if(l.open, [&](const OpenWalTail& o) {
    bool sealed = std::any_of(l.segments.begin(), l.segments.end(), [&](const auto& r) {
      return key(r) == key(o) && o.size <= r.end - r.start;
    });
    if (sealed) l.leftovers.push_back(o.path);
    return sealed;
  });
  return l;
}

}  // namespace

std::vector<WalSourceListing> list_wal_sources(const ArchiveLayout& layout) {
  std::vector<WalSourceListing> out;
  if (!fs::exists(wal_root(layout))) return out;
  for (const auto& entry : fs::directory_iterator(wal_root(layout)))
    if (entry.is_directory() && fs::exists(entry.path() / "source.json"))
      out.push_back(list_source(entry.path()));
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.source.source_id < b.source.source_id; });
  return out;
}

}  // namespace pitr::archive
