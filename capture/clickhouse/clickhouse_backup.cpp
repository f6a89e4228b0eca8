#include "capture/clickhouse/clickhouse_backup.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "archive/archive_layout.hpp"
#include "archive/block_store/block_index.hpp"
#include "archive/block_store/stored_files.hpp"
#include "archive/member_list_object.hpp"
#include "archive/pending_backup.hpp"
#include "archive/sha256.hpp"
#include "clients/clickhouse/table_hash.hpp"
#include "formats/clickhouse/file_name_escaping.hpp"
#include "formats/clickhouse/tab_separated.hpp"

namespace pitr::capture {
namespace {

namespace fs = std::filesystem;
using archive::ClickHousePart;
using archive::ClickHouseTable;
using archive::StoredTarMember;
using clickhouse::quote_string;

constexpr std::size_t kFileBlock = archive::kClickHouseFileBlock;
constexpr const char* kShadowPrefix = "pitr_";

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string table_name(const ClickHouseTable& t) {
  return clickhouse::qualified_name(t.database, t.name);
}

// "/srv/ch/data/shop/" (a database's data path) → "/srv/ch/": the server's path.
fs::path server_path(const std::string& database_data_path) {
  auto p = fs::path(database_data_path);
  if (!p.has_filename()) p = p.parent_path();
  return p.parent_path().parent_path();
}

std::string kind_of(const std::string& engine) {
  if (engine.ends_with("MergeTree")) return "merge_tree";
  if (engine == "Log" || engine == "TinyLog" || engine == "StripeLog" || engine == "Memory")
    return "export";
  if (engine == "View" || engine == "MaterializedView" || engine == "Dictionary") return "view";
  return "ddl";
}

// The tables a shadow froze: shadow/<name>/data/<database>/<table>/, names escaped.
std::vector<std::string> frozen_tables(const fs::path& shadow) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& db : fs::directory_iterator(shadow / "data", ec))
    for (const auto& table : fs::directory_iterator(db.path(), ec)) {
      auto d = clickhouse::unescape_file_name(db.path().filename().string());
      auto t = clickhouse::unescape_file_name(table.path().filename().string());
      if (d && t) out.push_back(clickhouse::qualified_name(*d, *t));
    }
  return out;
}

// Shadows "pitr_<pid>_<time>" of backups whose process is gone (killed mid-backup): the merges
// they stopped restart, and the shadow (hard links that keep old parts' space) goes.
void remove_stale_shadows(clients::ClickHouseClient& client, const fs::path& root) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root / "shadow", ec)) {
    auto name = e.path().filename().string();
    if (!name.starts_with(kShadowPrefix)) continue;
    auto pid = std::atol(name.c_str() + std::string_view(kShadowPrefix).size());
    if (pid > 0 && !(::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) continue;
    for (const auto& table : frozen_tables(e.path())) {
      try {
        client.execute("SYSTEM START MERGES " + table);
      } catch (const clients::ClickHouseError&) {  // the table is gone since
      }
    }
    std::error_code removed;
    fs::remove_all(e.path(), removed);
    if (removed)
      fmt::print(stderr,
                 "pitr backup: warning: could not remove {} ({}), left by a backup that "
                 "did not finish: remove it by hand, it keeps old parts' disk space\n",
                 e.path().string(), removed.message());
    else
      fmt::print(stderr, "pitr backup: removed {}, left by a backup that did not finish\n",
                 e.path().string());
  }
}

// 'a', 'b', ...
std::string quoted_list(const std::vector<std::string>& values) {
  std::string list;
  for (const auto& v : values) list += (list.empty() ? "" : ", ") + quote_string(v);
  return list;
}

// Removes the backup's shadow directory however the backup ends.
class Shadow {
 public:
  explicit Shadow(fs::path root)
      : name_(fmt::format("{}{}_{}", kShadowPrefix, ::getpid(), std::time(nullptr))),
        dir_(root / "shadow" / name_) {}
  ~Shadow() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    if (ec)
      fmt::print(stderr,
                 "pitr backup: warning: could not remove {} ({}): remove it by hand, "
                 "it keeps the frozen parts' disk space\n",
                 dir_.string(), ec.message());
  }
  const std::string& name() const { return name_; }
  const fs::path& dir() const { return dir_; }

 private:
  std::string name_;
  fs::path dir_;
};

// Stops a table's merges (and mutations) while its parts are frozen and hashed, so that
// every frozen part is still there to be hashed.
class MergesStopped {
 public:
  MergesStopped(clients::ClickHouseClient& client, std::string table)
      : client_(client), table_(std::move(table)) {
    client_.execute("SYSTEM STOP MERGES " + table_);
  }
  ~MergesStopped() {
    try {
      client_.execute("SYSTEM START MERGES " + table_);
    } catch (const std::exception& e) {
      fmt::print(stderr, "pitr backup: warning: could not restart merges of {}: {}\n", table_,
                 e.what());
    }
  }

 private:
  clients::ClickHouseClient& client_;
  std::string table_;
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// What the part holds, whatever it is named: its checksums.txt (every file's size and hash)
// and columns.txt.
std::string part_identity(const fs::path& dir) {
  archive::Sha256 sha;
  sha.update(as_bytes(read_text(dir / "checksums.txt")));
  sha.update(as_bytes(std::string_view("\0", 1)));
  sha.update(as_bytes(read_text(dir / "columns.txt")));
  return sha.hex();
}

// A part stored by an earlier backup: its members, and its rows and hash as computed by
// `hash_expression` (valid for a table whose columns give the same expression).
struct KnownPart {
  std::vector<StoredTarMember> members;
  std::uint64_t rows = 0, content_hash = 0;
  std::string hash_expression;
};

class BackupRun {
 public:
  BackupRun(clients::ClickHouseClient& client, archive::BlockWriter& blocks,
            std::map<std::string, KnownPart> known, bool reuse)
      : client_(client), files_(blocks, kFileBlock), known_(std::move(known)), reuse_(reuse) {}

  void merge_tree(ClickHouseTable& t, const fs::path& root, const Shadow& shadow,
                  const std::string& data_path) {
    MergesStopped stopped(client_, table_name(t));
    t.hash_expression = clients::count_and_hash_of(client_, t.database, t.name);
    auto active = active_parts(t);
    client_.execute(fmt::format("ALTER TABLE {} FREEZE WITH NAME {}", table_name(t),
                                quote_string(shadow.name())));
    auto dir = shadow.dir() / fs::path(data_path).lexically_relative(root);
    auto names = frozen_parts(t, dir, active);
    auto meta = part_metadata(t, names);
    std::vector<std::string> to_hash;
    for (const auto& name : names) {
      auto part = meta.at(name);
      part.identity = part_identity(dir / name);
      auto known = reuse_ ? known_.find(part.identity) : known_.end();
      if (known == known_.end()) {
        store_part(dir / name, part.identity);
      } else if (stored_.insert(part.identity).second) {
        reused_.insert(reused_.end(), known->second.members.begin(), known->second.members.end());
      }
      if (known != known_.end() && known->second.hash_expression == t.hash_expression) {
        part.rows = known->second.rows;
        part.content_hash = known->second.content_hash;
      } else {
        to_hash.push_back(name);  // new, or its table's columns changed since (ADD COLUMN)
      }
      t.parts.push_back(part);
    }
    hash_parts(t, to_hash);
    for (const auto& p : t.parts) {
      t.rows += p.rows;
      t.content_hash += p.content_hash;
    }
    if (clients::final_matters(t.engine) && !names.empty()) {
      auto final = clients::rows_and_hash(client_, t.database, t.name, true,
                                          "_part IN (" + quoted_list(names) + ")");
      t.final_rows = final.rows;
      t.final_hash = final.hash;
    }
  }

  void export_rows(ClickHouseTable& t, std::size_t n) {
    auto before = clients::rows_and_hash(client_, t.database, t.name);
    t.export_member = fmt::format("export/{}", n);
    files_.begin({t.export_member, "", 0, 0640, std::time(nullptr), TarEntry::Type::kFile});
    client_.stream("SELECT * FROM " + table_name(t) + " FORMAT Native", [&](Bytes b) {
      files_.append(t.export_member, b);
      bytes_read_ += b.size();
    });
    files_.close(t.export_member);
    auto counted = clients::rows_and_hash(client_, t.database, t.name);
    if (counted.rows != before.rows || counted.hash != before.hash)
      throw std::runtime_error(fmt::format(
          "{} changed while its rows were exported (a {} table has no snapshot); run the backup "
          "again when it is not written to",
          table_name(t), t.engine));
    t.rows = counted.rows;
    t.content_hash = counted.hash;
  }

  // The configuration files of the server's dictionaries (they are not in any database).
  std::vector<archive::ClickHouseDictionaryFile> dictionaries() {
    std::map<std::string, std::vector<std::string>> by_origin;
    for (const auto& r : client_.rows("SELECT name, origin FROM system.dictionaries ORDER BY name"))
      by_origin[r.at(1)].push_back(r.at(0));
    std::vector<archive::ClickHouseDictionaryFile> out;
    for (const auto& [origin, names] : by_origin) {
      auto member = fmt::format("dictionaries/{}", out.size());
      auto text = read_text(origin);
      files_.begin({member, "", 0, 0640, std::time(nullptr), TarEntry::Type::kFile});
      files_.append(member, as_bytes(text));
      files_.close(member);
      bytes_read_ += text.size();
      out.push_back({names, origin, member});
    }
    return out;
  }

  std::vector<StoredTarMember> finish() {
    auto members = files_.finish();
    members.insert(members.end(), reused_.begin(), reused_.end());
    return members;
  }
  const std::set<std::string>& identities() const { return seen_; }
  std::uint64_t bytes_read() const { return bytes_read_; }

 private:
  std::vector<std::string> active_parts(const ClickHouseTable& t) {
    std::vector<std::string> out;
    for (const auto& r : client_.rows(fmt::format(
             "SELECT name FROM system.parts WHERE database = {} AND table = {} AND active",
             quote_string(t.database), quote_string(t.name))))
      out.push_back(r.at(0));
    return out;
  }

  // The parts in the table's shadow: every part active before the freeze must be there (with
  // merges stopped, none can go but by a DROP or TRUNCATE meanwhile).
  std::vector<std::string> frozen_parts(const ClickHouseTable& t, const fs::path& dir,
                                        const std::vector<std::string>& active) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_directory()) names.push_back(e.path().filename().string());
    if (ec && ec != std::errc::no_such_file_or_directory)
      throw std::runtime_error(fmt::format(
          "cannot read the frozen parts of {} in {}: {} (run pitr backup as root or as the "
          "server's user)",
          table_name(t), dir.string(), ec.message()));
    std::sort(names.begin(), names.end());
    for (const auto& a : active)
      if (!std::binary_search(names.begin(), names.end(), a))
        throw std::runtime_error(fmt::format(
            "part {} of {} was active but is not in the frozen copy {} (dropped meanwhile, or "
            "on another disk); run the backup again",
            a, table_name(t), dir.string()));
    return names;
  }

  std::map<std::string, ClickHousePart> part_metadata(const ClickHouseTable& t,
                                                      const std::vector<std::string>& names) {
    std::map<std::string, ClickHousePart> out;
    if (names.empty()) return out;
    auto list = quoted_list(names);
    for (const auto& r : client_.rows(fmt::format(
             "SELECT name, partition_id, min_block_number, max_block_number, level, rows, "
             "bytes_on_disk FROM system.parts WHERE database = {} AND table = {} AND name IN ({})",
             quote_string(t.database), quote_string(t.name), list))) {
      ClickHousePart p;
      p.name = r.at(0);
      p.partition_id = r.at(1);
      p.min_block = std::stoll(r.at(2));
      p.max_block = std::stoll(r.at(3));
      p.level = static_cast<std::uint32_t>(std::stoul(r.at(4)));
      p.rows = std::stoull(r.at(5));
      p.bytes = std::stoull(r.at(6));
      out[p.name] = p;
    }
    for (const auto& n : names)
      if (!out.contains(n))
        throw std::runtime_error(fmt::format(
            "part {} of {} was frozen but the server no longer lists it; run the backup again", n,
            table_name(t)));
    return out;
  }

  void store_part(const fs::path& dir, const std::string& identity) {
    seen_.insert(identity);
    if (!stored_.insert(identity).second) return;  // the same content twice in this backup
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::vector<char> buffer(kFileBlock);
    for (const auto& f : files) {
      auto name = identity + "/" + f.filename().string();
      files_.begin({name, "", 0, 0640, std::time(nullptr), TarEntry::Type::kFile});
      std::ifstream in(f, std::ios::binary);
      if (!in) throw std::runtime_error("cannot read " + f.string());
      while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        auto n = static_cast<std::size_t>(in.gcount());
        files_.append(name, Bytes(reinterpret_cast<const std::uint8_t*>(buffer.data()), n));
        bytes_read_ += n;
      }
      files_.close(name);
    }
  }

  // Rows and hash of the new parts, computed by the server.
  void hash_parts(ClickHouseTable& t, const std::vector<std::string>& names) {
    if (names.empty()) return;
    auto list = quoted_list(names);
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> got;
    for (const auto& r : client_.rows(fmt::format(
             "SELECT _part, {} FROM {} WHERE _part IN ({}) GROUP BY _part",
             clients::count_and_hash_of(client_, t.database, t.name), table_name(t), list)))
      got[r.at(0)] = {std::stoull(r.at(1)), std::stoull(r.at(2))};
    for (auto& p : t.parts) {
      if (std::find(names.begin(), names.end(), p.name) == names.end()) continue;
      auto it = got.find(p.name);
      if (it == got.end() && p.rows == 0) continue;  // emptied by a mutation: no row to hash
      if (it == got.end())
        throw std::runtime_error(
            fmt::format("part {} of {} was replaced while the backup ran; run the backup again",
                        p.name, table_name(t)));
      p.rows = it->second.first;
      p.content_hash = it->second.second;
    }
  }

  clients::ClickHouseClient& client_;
  archive::StoredFilesWriter files_;
  std::map<std::string, KnownPart> known_;
  bool reuse_;
  std::set<std::string> stored_, seen_;
  std::vector<StoredTarMember> reused_;
  std::uint64_t bytes_read_ = 0;
};

std::string source_id(clients::ClickHouseClient& client) {
  auto host = client.rows("SELECT hostName()").at(0).at(0);
  std::string id = "clickhouse-";
  for (char c : host) id += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_';
  return fmt::format("{}-{}", id, client.endpoint().port);
}

// The parts earlier backups of this server stored, by identity.
std::map<std::string, KnownPart> known_parts(
    const archive::Archive& archive,
    const std::vector<archive::ClickHouseBackupManifest>& earlier) {
  std::map<std::string, KnownPart> out;
  for (const auto& m : earlier) {
    std::map<std::string, std::vector<StoredTarMember>> by_identity;
    for (auto& member : archive::read_member_list(
             archive, archive::layout::backup_file(m.id, archive::kClickHousePartsName))) {
      auto slash = member.entry.name.find('/');
      by_identity[member.entry.name.substr(0, slash)].push_back(std::move(member));
    }
    for (const auto& t : m.tables)
      for (const auto& p : t.parts)
        if (auto it = by_identity.find(p.identity); it != by_identity.end())
          out[p.identity] = {it->second, p.rows, p.content_hash, t.hash_expression};
  }
  return out;
}

std::vector<archive::ClickHouseDatabase> chosen_databases(clients::ClickHouseClient& client,
                                                          const std::vector<std::string>& wanted) {
  std::set<std::string> with_tables;
  for (const auto& r : client.rows("SELECT DISTINCT database FROM system.tables"))
    with_tables.insert(r.at(0));
  std::vector<archive::ClickHouseDatabase> out;
  for (const auto& r : client.rows("SELECT name, engine FROM system.databases ORDER BY name")) {
    bool asked = std::find(wanted.begin(), wanted.end(), r.at(0)) != wanted.end();
    if (!wanted.empty()
            ? !asked
            : (r.at(0) == "system" || (r.at(0) == "default" && !with_tables.contains("default"))))
      continue;
    if (r.at(1) != "Ordinary")
      throw std::runtime_error(fmt::format(
          "database {} has engine {}; pitr backs up Ordinary databases (ClickHouse 18.x) only",
          r.at(0), r.at(1)));
    out.push_back({r.at(0), r.at(1)});
  }
  for (const auto& w : wanted)
    if (std::none_of(out.begin(), out.end(), [&](auto& d) { return d.name == w; }))
      throw std::runtime_error("the server has no database " + w);
  return out;
}

}  // namespace

archive::ClickHouseBackupManifest take_clickhouse_backup(const ClickHouseBackupOptions& o) {
  o.archive.create_or_check();
  clients::ClickHouseClient client(o.endpoint);
  archive::ClickHouseBackupManifest m;
  m.server_version = client.rows("SELECT version()").at(0).at(0);
  m.source_id = source_id(client);
  m.databases = chosen_databases(client, o.databases);
  auto root = server_path(client
                              .rows("SELECT data_path FROM system.databases WHERE name = "
                                    "'system'")
                              .at(0)
                              .at(0));
  if (::access(root.c_str(), R_OK | X_OK) != 0)
    throw std::runtime_error(fmt::format(
        "cannot read the server's data path {}: run pitr backup on the ClickHouse host, as root "
        "or as the server's user",
        root.string()));
  remove_stale_shadows(client, root);

  std::vector<archive::ClickHouseBackupManifest> earlier;
  for (auto& b : archive::list_clickhouse_backups(o.archive))
    if (b.source_id == m.source_id) earlier.push_back(std::move(b));
  m.type = earlier.empty() ? "full" : o.type;
  const archive::ClickHouseBackupManifest* parent = nullptr;
  for (const auto& b : earlier)
    if (m.type == "incr" || (m.type == "diff" && b.type == "full")) parent = &b;
  if (parent) m.parent = parent->id;

  m.started_at = now_micros();
  archive::PendingBackup backup(o.archive, static_cast<std::time_t>(m.started_at / 1000000));
  m.id = backup.id();
  auto index = archive::BlockIndex::load(backup.store());
  archive::BlockWriter blocks(backup.store(), index,
                              {.level = o.compression_level, .pack_bytes = o.pack_bytes});
  BackupRun run(client, blocks, known_parts(o.archive, earlier), m.type != "full");
  Shadow shadow(root);
  std::string names;
  for (const auto& d : m.databases) names += (names.empty() ? "" : ", ") + quote_string(d.name);
  std::size_t exports = 0;
  if (!names.empty())
    for (const auto& r : client.rows(
             "SELECT database, name, engine, create_table_query, data_path FROM system.tables "
             "WHERE database IN (" +
             names + ") AND NOT is_temporary ORDER BY database, name")) {
      ClickHouseTable t;
      t.database = r.at(0);
      t.name = r.at(1);
      t.engine = r.at(2);
      t.kind = kind_of(t.engine);
      t.create = r.at(3);
      if (t.kind == "merge_tree")
        run.merge_tree(t, root, shadow, r.at(4));
      else if (t.kind == "export")
        run.export_rows(t, exports++);
      m.tables.push_back(std::move(t));
    }
  m.dictionaries = run.dictionaries();
  auto members = run.finish();
  blocks.finish();  // every block is stored before the member list names it
  archive::store_member_list(backup, archive::kClickHousePartsName, members);
  std::set<std::string> before;
  if (parent)
    for (const auto& t : parent->tables)
      for (const auto& p : t.parts) before.insert(p.identity);
  std::set<std::string> now;
  for (const auto& t : m.tables)
    for (const auto& p : t.parts) now.insert(p.identity);
  for (const auto& id : now) (before.contains(id) ? m.parts_unchanged : m.parts_new) += 1;
  for (const auto& id : before) m.parts_gone += !now.contains(id);
  m.bytes_read = run.bytes_read();
  m.stored_bytes = blocks.stats().stored_bytes;
  m.finished_at = now_micros();
  backup.commit(archive::clickhouse_manifest_json(m));
  return m;
}

}  // namespace pitr::capture
