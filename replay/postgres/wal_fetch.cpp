#include "replay/postgres/wal_fetch.hpp"

#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "archive/file_io.hpp"
#include "archive/index_frame.hpp"
#include "archive/wal_archive.hpp"
#include "formats/postgres/lsn.hpp"

namespace pitr::replay {
namespace {

struct WalSourceRef {
  std::string id;
  std::uint64_t segment_size = 0;
};

// The only source under wal/ (a listing of every WAL key: restore_command names its source).
std::string only_source(const archive::Archive& archive) {
  std::string found;
  for (const auto& object : archive.store().list(archive::layout::wal_prefix())) {
    auto key = archive::layout::split_under(archive::layout::wal_prefix(), object.key);
    if (!key || object.key != archive::layout::wal_source_record(key->first)) continue;
    if (!found.empty())
      throw archive::IoError(
          "the archive holds WAL of several PostgreSQL systems; name one with --source-id");
    found = key->first;
  }
  return found;
}

WalSourceRef find_source(const WalFetchRequest& r) {
  auto id = r.source.empty() ? only_source(r.archive) : r.source;
  if (!r.source.empty()) archive::check_path_component(r.source, "source");
  auto text =
      id.empty() ? std::nullopt : r.archive.read_text(archive::layout::wal_source_record(id));
  if (!text)
    throw archive::IoError(fmt::format("{} holds no PostgreSQL WAL{}", r.archive.describe(),
                                       r.source.empty() ? "" : " of " + r.source));
  auto meta = nlohmann::json::parse(*text);
  return {id, meta.at("segment_size").get<std::uint64_t>()};
}

// Where served bytes go: a file, or a stream (`pitr get` to stdout).
class WalOutput {
 public:
  virtual ~WalOutput() = default;
  void write(Bytes b) {
    put(b);
    size_ += b.size();
  }
  // Segments that end early are padded with zeros, which recovery reads as the end of WAL.
  void pad_to(std::uint64_t size) {
    static const std::vector<std::uint8_t> zeros(1 << 16);
    while (size_ < size)
      write(Bytes(zeros).first(std::min<std::uint64_t>(zeros.size(), size - size_)));
  }
  virtual void commit() {}

 protected:
  virtual void put(Bytes b) = 0;
  std::uint64_t size_ = 0;
};

// Writes bytes through a temporary name next to `dest`, then renames.
class DestinationFile : public WalOutput {
 public:
  explicit DestinationFile(const fs::path& dest)
      : dest_(dest),
        tmp_(fs::path(dest).concat(".pitr-tmp")),
        file_(tmp_, archive::File::Mode::kCreateOrOpen) {
    file_.truncate(0);
  }
  ~DestinationFile() override {
    std::error_code ignored;
    if (!done_) fs::remove(tmp_, ignored);
  }
  void commit() override {
    fs::rename(tmp_, dest_);
    done_ = true;
  }

 private:
  void put(Bytes b) override { file_.pwrite_all(b, size_); }
  fs::path dest_, tmp_;
  archive::File file_;
  bool done_ = false;
};

class SinkOutput : public WalOutput {
 public:
  explicit SinkOutput(const std::function<void(Bytes)>& sink) : sink_(sink) {}

 private:
  void put(Bytes b) override { sink_(b); }
  const std::function<void(Bytes)>& sink_;
};

using OpenOutput = std::function<std::unique_ptr<WalOutput>()>;

std::optional<bool> serve_segment(const archive::Archive& archive, const WalSourceRef& s,
                                  const std::string& name, const OpenOutput& open_output);

// Copies the archived form of `name` (sealed, sealed at a timeline's end, or the open tail)
// to `dest`; segments that end early are padded with zeros, which recovery reads as the end
// of WAL.
bool serve(const archive::Archive& archive, const WalSourceRef& s, const std::string& name,
           const OpenOutput& open_output) {
  if (auto tli = postgres::parse_history_file_name(name)) {
    auto text = archive.read_text(archive::layout::wal_history(s.id, *tli));
    if (!text) return false;
    auto out = open_output();
    out->write(as_bytes(*text));
    out->commit();
    return true;
  }
  if (!postgres::parse_wal_file_name(name, s.segment_size)) return false;
  // The open tail is looked at after the store: capture stores a sealed segment before it
  // removes the tail, and a tail gone by then is sealed, looked at again.
  for (int attempt = 0; attempt < 2; ++attempt)
    if (auto served = serve_segment(archive, s, name, open_output)) return *served;
  return false;
}

// The segment from the store or the spool; none when the open tail vanished in between.
std::optional<bool> serve_segment(const archive::Archive& archive, const WalSourceRef& s,
                                  const std::string& name, const OpenOutput& open_output) {
  const auto& store = archive.store();
  for (bool complete : {true, false}) {
    auto key = archive::layout::sealed_wal(s.id, name, complete);
    auto info = store.stat(key);
    if (!info) continue;
    auto record =
        archive::wal_segment_record_from_json(archive::read_index_record(store, key, info->size));
    auto out = open_output();
    archive::read_indexed_object(store, key, record.end - record.start, record.sha256,
                                 [&](Bytes b) { out->write(b); });
    out->pad_to(s.segment_size);
    out->commit();
    return true;
  }
  if (!archive.spool()) return false;
  auto tail = archive::open_if_present(archive.spool_path(archive::layout::open_wal(s.id, name)));
  if (!tail) return std::nullopt;  // not there, or sealed since the store was looked at
  auto bytes = tail->read_all();
  auto out = open_output();
  out->write(Bytes(bytes).first(std::min<std::size_t>(bytes.size(), s.segment_size)));
  out->pad_to(s.segment_size);
  out->commit();
  return true;
}

OpenOutput to_file(const fs::path& dest) {
  return [dest] { return std::make_unique<DestinationFile>(dest); };
}

}  // namespace

fs::path prefetch_spool(const fs::path& destination) {
  return destination.parent_path() / ".pitr-prefetch";
}

FetchOutcome fetch_wal(const WalFetchRequest& r) {
  auto spooled = prefetch_spool(r.destination) / r.name;
  std::error_code ec;
  if (fs::exists(spooled, ec)) {
    fs::rename(spooled, r.destination, ec);
    if (!ec) return FetchOutcome::kServedFromSpool;
  }
  return serve(r.archive, find_source(r), r.name, to_file(r.destination))
             ? FetchOutcome::kServed
             : FetchOutcome::kNotInArchive;
}

bool write_wal(const WalFetchRequest& r, const std::function<void(Bytes)>& sink) {
  return serve(r.archive, find_source(r), r.name,
               [&sink] { return std::make_unique<SinkOutput>(sink); });
}

std::vector<std::string> segments_to_prefetch(const WalFetchRequest& r, unsigned count) {
  auto s = find_source(r);
  auto wal = postgres::parse_wal_file_name(r.name, s.segment_size);
  std::vector<std::string> names;
  if (!wal) return names;
  auto spool = prefetch_spool(r.destination);
  for (unsigned i = 1; i <= count; ++i) {
    auto name = postgres::wal_file_name(wal->timeline, wal->segment + i, s.segment_size);
    if (!r.archive.store().exists(archive::layout::sealed_wal(s.id, name, true))) break;
    if (!fs::exists(spool / name)) names.push_back(name);
  }
  return names;
}

void prefetch_segments(const WalFetchRequest& r, const std::vector<std::string>& names) {
  auto s = find_source(r);
  auto spool = prefetch_spool(r.destination);
  fs::create_directories(spool);
  for (const auto& e : fs::directory_iterator(spool)) {
    auto n = e.path().filename().string();
    if (n.size() >= 24 && n.substr(0, 24) < r.name) fs::remove(e.path());
  }
  for (const auto& name : names)
    if (!fs::exists(spool / name)) serve(r.archive, s, name, to_file(spool / name));
}

}  // namespace pitr::replay
