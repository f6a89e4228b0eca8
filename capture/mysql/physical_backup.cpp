#include "capture/mysql/physical_backup.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <optional>

#include "archive/block_store/stored_files.hpp"
#include "archive/member_list_object.hpp"
#include "archive/pending_backup.hpp"
#include "capture/child_process.hpp"
#include "capture/mysql/physical_merge.hpp"
#include "capture/mysql/server_identity.hpp"
#include "capture/mysql/sql_session.hpp"
#include "capture/scratch_dir.hpp"
#include "formats/mariadb/backup_metadata.hpp"
#include "formats/mariadb/innodb_delta.hpp"
#include "formats/mariadb/mbstream_reader.hpp"

namespace pitr::capture {
namespace {

// An option file value in double quotes, with the escapes the MariaDB client library reads.
std::string option_value(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out + "\"";
}

// mariabackup reads the password from an option file of the scratch directory, never argv.
std::vector<std::string> mariabackup_argv(const PhysicalBackupOptions& o, const ScratchDir& dir) {
  const auto& e = o.endpoint;
  auto options =
      dir.write("client.cnf", fmt::format("[client]\nuser={}\npassword={}\n", option_value(e.user),
                                          option_value(e.password)));
  return {o.mariabackup,
          "--defaults-extra-file=" + options.string(),
          "--backup",
          "--stream=mbstream",
          "--target-dir=" + (dir.path() / "target").string(),
          "--host=" + e.host,
          fmt::format("--port={}", e.port),
          fmt::format("--parallel={}", std::max(1u, o.jobs))};
}

// Files of the stream into the block store, as `mbstream -x` would write them: in order,
// with seeks back (within a file's first block), removals, renames and rewrites applied.
class StreamFiles {
 public:
  // With `deltas`, the stream is an incremental backup's: its .delta and .meta files go there.
  StreamFiles(archive::BlockWriter& blocks, IncrementalParts* deltas)
      : blocks_(blocks), files_(blocks, kInnodbPageSize), parts_(deltas) {}

  void payload(const std::string& path, std::uint64_t offset, Bytes data, bool rewrite) {
    if (parts_ && path.ends_with(mariadb::kDeltaSuffix)) return delta_payload(path, data);
    if (parts_ && path.ends_with(mariadb::kMetaSuffix)) {
      metas_[path].append(as_text(data));
      return;
    }
    if (!files_.is_open(path)) {
      if (rewrite) files_.remove_closed([&](const std::string& n) { return n == path; });
      if (files_.has_closed(path))
        throw DecodeError("mariabackup's stream sends " + path + " twice");
      begin(path);
    }
    auto size = files_.size_of_open(path);
    if (offset > size)
      throw DecodeError(
          fmt::format("mariabackup's stream sends {} at offset {}, where {} bytes had arrived",
                      path, offset, size));
    auto over = static_cast<std::size_t>(std::min<std::uint64_t>(size - offset, data.size()));
    if (over) files_.overwrite(path, offset, data.first(over));
    files_.append(path, data.subspan(over));
    auto limit = is_tablespace_copy(path) ? kSpaceIdBytes : kKeptBytes;
    if (auto it = kept_.find(path); it != kept_.end() && it->second.size() < limit)
      it->second.append(as_text(data.first(std::min(data.size(), limit - it->second.size()))));
  }
  void end_of_file(const std::string& path) {
    if (parts_ && path.ends_with(mariadb::kDeltaSuffix)) return delta_end(path);
    if (parts_ && path.ends_with(mariadb::kMetaSuffix)) {  // kept as what it says, not stored
      auto space = path.substr(0, path.size() - mariadb::kMetaSuffix.size());
      parts_->deltas[space].meta = mariadb::parse_delta_meta(metas_[path]);
      return;
    }
    if (!files_.is_open(path)) begin(path);  // an empty file is its end alone
    files_.close(path);
  }
  void seek(const std::string& path, std::uint64_t) {
    if (!files_.is_open(path))
      throw DecodeError("mariabackup's stream seeks in " + path + ", which is not open");
  }
  // A file, a directory, or with a trailing '*' every file whose name starts so.
  void remove(const std::string& path) {
    if (path.ends_with("*")) {
      auto prefix = path.substr(0, path.size() - 1);
      files_.remove_closed([&](const std::string& n) { return n.starts_with(prefix); });
    } else {
      files_.remove_closed(
          [&](const std::string& n) { return n == path || n.starts_with(path + "/"); });
    }
  }
  void rename(const std::string& from, const std::string& to) { files_.rename_closed(from, to); }

  // The stream's files by path (but an incremental's deltas), with their space ids.
  PhysicalFileMap finish() {
    PhysicalFileMap map;
    for (auto& m : files_.finish()) map.files.emplace(m.entry.name, std::move(m));
    for (const auto& [path, text] : kept_)
      if (is_tablespace_copy(path) && map.files.contains(path) && text.size() >= 38)
        map.space_ids[path] = mariadb::page_space_id(as_bytes(text));
    if (parts_)
      for (const auto& [path, text] : kept_)
        if (path.ends_with(".ren")) parts_->renames[path] = text;
    return map;
  }
  // The start of a metadata file of the stream; throws when the stream had none.
  const std::string& text_of(const std::string& name) const {
    if (!files_.has_closed(name))
      throw std::runtime_error(fmt::format(
          "mariabackup's stream holds no {}: mariabackup did not finish its backup", name));
    return kept_.at(name);
  }

 private:
  static constexpr std::size_t kKeptBytes = 64 * 1024;
  static constexpr std::size_t kSpaceIdBytes = 64;  // of a tablespace: its first page's header

  static bool is_tablespace_copy(const std::string& path) {
    return path.ends_with(".ibd") || path.ends_with(".new");
  }

  void delta_payload(const std::string& path, Bytes data) {
    auto space = path.substr(0, path.size() - mariadb::kDeltaSuffix.size());
    auto& pages = parts_->deltas[space];
    if (!pages.meta) throw DecodeError("mariabackup's stream sends " + path + " before its .meta");
    auto& reader = delta_readers_[path];
    if (!reader)
      reader = std::make_unique<mariadb::DeltaReader>(
          pages.meta->page_size, [this, &pages](std::uint32_t number, Bytes page) {
            if (number == 0) pages.tablespace_pages = mariadb::tablespace_pages(page);
            if (page.size() == kInnodbPageSize)
              pages.blocks.emplace_back(number, blocks_.put(page));
            else
              pages.held[number].assign(page.begin(), page.end());
          });
    reader->feed(data);
  }

  void delta_end(const std::string& path) {
    auto it = delta_readers_.find(path);
    if (it == delta_readers_.end())
      throw DecodeError("mariabackup's stream holds an empty " + path);
    it->second->finish();
    delta_readers_.erase(it);
  }

  void begin(const std::string& path) {
    files_.begin({.name = path,
                  .link_target = {},
                  .size = 0,
                  .mode = 0640,
                  .mtime = std::time(nullptr),
                  .type = TarEntry::Type::kFile});
    if (path == mariadb::kCheckpointsFile || path == mariadb::kBinlogInfoFile ||
        path == mariadb::kRedoLogFile || is_tablespace_copy(path) || path.ends_with(".ren"))
      kept_[path].clear();
  }

  archive::BlockWriter& blocks_;
  archive::StoredFilesWriter files_;
  IncrementalParts* parts_;
  std::map<std::string, std::unique_ptr<mariadb::DeltaReader>> delta_readers_;
  std::map<std::string, std::string> kept_;   // metadata files' first bytes
  std::map<std::string, std::string> metas_;  // an incremental's .meta files
};

class StreamProgress {
 public:
  explicit StreamProgress(bool on) : on_(on) {}
  void update(std::uint64_t bytes) {
    if (!on_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    fmt::print(stderr, "\rpitr backup: {:.0f} MiB read from mariabackup   ", bytes / 1048576.0);
  }
  void done() {
    if (on_) fmt::print(stderr, "\n");
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point last_{};
};

// Runs mariabackup and stores its stream; returns the bytes read.
std::uint64_t stream_backup(const PhysicalBackupOptions& o, StreamFiles& files,
                            std::uint64_t incremental_lsn) {
  ScratchDir dir("mariabackup");
  auto log = dir.path() / "mariabackup.log";
  auto argv = mariabackup_argv(o, dir);
  if (incremental_lsn) argv.push_back(fmt::format("--incremental-lsn={}", incremental_lsn));
  ChildProcess child({.argv = argv, .pipe_stdout = true, .stderr_log = log});
  mariadb::MbstreamReader reader(
      {[&](const std::string& p, std::uint64_t at, Bytes b, bool rewrite) {
         files.payload(p, at, b, rewrite);
       },
       [&](const std::string& p) { files.end_of_file(p); },
       [&](const std::string& p, std::uint64_t at) { files.seek(p, at); },
       [&](const std::string& p) { files.remove(p); },
       [&](const std::string& from, const std::string& to) { files.rename(from, to); }});
  std::vector<std::uint8_t> buffer(1u << 20);
  std::uint64_t total = 0;
  StreamProgress progress(o.progress);
  while (auto n = child.read(buffer.data(), buffer.size())) {
    reader.feed(Bytes(buffer).first(n));
    total += n;
    progress.update(total);
  }
  progress.done();
  if (auto status = child.wait(); status != 0)
    throw std::runtime_error(
        fmt::format("mariabackup failed (exit status {}); the end of its log:\n{}", status,
                    tail_of_log(log, 15)));
  reader.finish();
  return total;
}

// The backup an incremental one is compared with: the source's newest physical backup (diff:
// its newest full). None for a full backup, or when there is none (then `o.note` says so).
std::optional<archive::BackupManifest> parent_for(const PhysicalBackupOptions& o,
                                                  const std::string& source_id) {
  if (o.type == "full") return std::nullopt;
  std::optional<archive::BackupManifest> parent;
  for (auto& b : archive::list_backups(o.archive))
    if (b.source_id == source_id && b.method == "physical" &&
        (o.type == "incr" || b.type == "full"))
      parent = std::move(b);
  if (!parent && !o.type_by_default && o.note)
    o.note(
        fmt::format("taking a full backup: the archive holds no physical {}backup of {} to "
                    "compare with",
                    o.type == "diff" ? "full " : "", source_id));
  return parent;
}

// The parent's files as a map, with mariabackup's markers of DDL during it applied.
PhysicalFileMap parent_map(const archive::Archive& archive, const archive::BackupManifest& parent,
                           const archive::BlockReader& reader) {
  PhysicalFileMap map;
  for (auto& m : archive::physical_members(archive, parent))
    map.files.emplace(m.entry.name, std::move(m));
  map.space_ids = parent.physical.space_ids;
  apply_ddl_markers(map, [&](const std::string& path) {
    const auto& member = map.files.at(path);
    auto ids = archive::data_block_ids(reader, {&member}).at(0);
    std::vector<std::string> parts(ids.size());  // delivered in no order, from several threads
    reader.read_all(ids, [&](std::size_t i, Bytes b) { parts[i] = as_text(b); });
    std::string text;
    for (const auto& part : parts) text += part;
    return text;
  });
  return map;
}

struct TakenFiles {
  std::vector<archive::StoredTarMember> members;
  std::map<std::string, std::uint32_t> space_ids;
  mariadb::BackupCheckpoints checkpoints;
  mariadb::BinlogInfo binlog;
  std::uint64_t redo_start_lsn = 0, bytes_read = 0;
};

// Runs mariabackup (incremental against `parent`'s redo start when there is one) and turns
// its stream into a complete file map.
TakenFiles take_files(const PhysicalBackupOptions& o, archive::BlockWriter& blocks,
                      const std::optional<archive::BackupManifest>& parent) {
  IncrementalParts parts;
  StreamFiles files(blocks, parent ? &parts : nullptr);
  TakenFiles t;
  t.bytes_read = stream_backup(o, files, parent ? parent->physical.redo_start_lsn : 0);
  t.checkpoints = mariadb::parse_checkpoints(files.text_of(mariadb::kCheckpointsFile));
  t.binlog = mariadb::parse_binlog_info(files.text_of(mariadb::kBinlogInfoFile));
  t.redo_start_lsn = mariadb::redo_start_lsn(as_bytes(files.text_of(mariadb::kRedoLogFile)));
  auto map = files.finish();
  if (parent) {
    parts.whole = std::move(map);
    archive::CompleteBackupBlocks parent_blocks(o.archive);
    auto reader = parent_blocks.reader();
    auto full = t.checkpoints;
    full.backup_type = "full-backuped";
    full.from_lsn = 0;
    map = merge_incremental(parent_map(o.archive, *parent, reader), std::move(parts),
                            mariadb::checkpoints_text(full), {blocks, reader, kInnodbPageSize});
  }
  for (auto& [path, m] : map.files) t.members.push_back(std::move(m));
  t.space_ids = std::move(map.space_ids);
  return t;
}

}  // namespace

archive::BackupManifest take_physical_backup(const PhysicalBackupOptions& o) {
  o.archive.create_or_check();
  archive::BackupManifest m;
  m.method = "physical";
  m.started_at = static_cast<std::uint64_t>(std::time(nullptr));
  {
    SqlSession control(o.endpoint, "backup");
    auto server = identify_server([&](const std::string& q) { return control.scalar(q); });
    if (!server.mariadb)
      throw std::runtime_error(
          "physical backups run MariaDB's mariabackup, and the source is MySQL " + server.version +
          ": use a logical backup (--method logical)");
    if (!server.log_bin)
      throw std::runtime_error(
          "the server does not write a binlog (log_bin is OFF): a physical backup could not be "
          "rolled forward to a later moment; turn binary logging on");
    m.source_id = server.source_id();
    m.server_version = server.version;
  }
  auto parent = parent_for(o, m.source_id);
  if (parent) {
    m.type = o.type;
    m.parent = parent->id;
  }
  archive::PendingBackup backup(o.archive, static_cast<std::time_t>(m.started_at));
  m.id = backup.id();
  // After the claim: a sweep running meanwhile sees this backup in progress (block_sweep.hpp).
  auto index = archive::BlockIndex::load(backup.store());
  archive::BlockWriter blocks(backup.store(), index,
                              {.level = o.compression_level, .pack_bytes = o.pack_bytes});
  auto taken = take_files(o, blocks, parent);
  m.consistent_at = static_cast<std::uint64_t>(std::time(nullptr));
  blocks.finish();  // every block is stored before the member list names it
  m.binlog_file = taken.binlog.file;
  m.binlog_position = taken.binlog.position;
  m.gtid_position = taken.binlog.gtid;
  auto& p = m.physical;
  p.from_lsn = taken.checkpoints.from_lsn;
  p.to_lsn = taken.checkpoints.to_lsn;
  p.last_lsn = taken.checkpoints.last_lsn;
  p.redo_start_lsn = taken.redo_start_lsn;
  p.space_ids = std::move(taken.space_ids);
  p.member_list = kPhysicalMemberList;
  p.files = taken.members.size();
  for (const auto& f : taken.members) p.bytes += f.entry.size;
  p.stored_bytes = blocks.stats().stored_bytes;
  p.bytes_read = taken.bytes_read;
  archive::store_member_list(backup, kPhysicalMemberList, taken.members);
  m.finished_at = static_cast<std::uint64_t>(std::time(nullptr));
  backup.commit(archive::manifest_json(m));
  return m;
}

}  // namespace pitr::capture
