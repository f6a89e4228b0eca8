#include "replay/clickhouse/clickhouse_restore.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include "archive/archive_layout.hpp"
#include "archive/block_store/stored_tar.hpp"
#include "archive/member_list_object.hpp"
#include "clients/clickhouse/table_hash.hpp"
#include "formats/clickhouse/ddl_rename.hpp"
#include "formats/clickhouse/tab_separated.hpp"

namespace pitr::replay {
namespace {

namespace fs = std::filesystem;
using archive::ClickHousePart;
using archive::ClickHouseTable;
using archive::StoredTarMember;
using clickhouse::quote_name;
using clickhouse::quote_string;

std::string table_name(const ClickHouseTable& t) {
  return clickhouse::qualified_name(t.database, t.name);
}

bool is_inner(const ClickHouseTable& t) {
  return t.name.starts_with(".inner.");
}

// Creation order: tables, then materialized views (which create their .inner. tables), then
// views, Dictionary tables (once their dictionaries are loaded).
int creation_rank(const ClickHouseTable& t) {
  if (t.engine == "MaterializedView") return 1;
  if (t.engine == "View") return 2;
  if (t.engine == "Dictionary") return 3;
  return 0;
}

constexpr std::size_t kFilesAtOnce = 256;  // open at once while writing a part

// The name a dictionary file is restored under: its name on the source.
std::string dictionary_file_name(const archive::ClickHouseDictionaryFile& d) {
  auto name = fs::path(d.origin).filename().string();
  archive::check_path_component(name, "dictionary file");
  return name;
}

archive::ClickHouseBackupManifest choose_backup(const ClickHouseRestoreOptions& o) {
  if (o.backup_id) return archive::read_clickhouse_manifest(o.archive, *o.backup_id);
  auto all = archive::list_clickhouse_backups(o.archive);
  if (all.empty()) throw std::runtime_error("the archive holds no ClickHouse backup");
  std::set<std::string> sources;
  for (const auto& b : all) sources.insert(b.source_id);
  if (sources.size() > 1)
    throw std::runtime_error(
        "the archive holds ClickHouse backups of several servers; choose one with --backup ID "
        "(pitr status lists them)");
  return all.back();
}

// Undoes a restore that did not finish: what it created is dropped, its files removed.
class Rollback {
 public:
  explicit Rollback(clients::ClickHouseClient& client) : client_(client) {}
  ~Rollback() {
    if (done_) return;
    // Files first: the server cannot drop a table whose directory holds files it may not
    // remove.
    for (const auto& dir : dirs_) {
      std::error_code ec;
      fs::remove_all(dir, ec);
      if (ec)
        fmt::print(stderr, "pitr restore: could not remove {}: {}\n", dir.string(), ec.message());
    }
    for (auto it = tables_.rbegin(); it != tables_.rend(); ++it)
      quietly("DROP TABLE IF EXISTS " + *it);
    for (const auto& d : databases_) quietly("DROP DATABASE IF EXISTS " + quote_name(d));
  }
  void created_table(const std::string& name) { tables_.push_back(name); }
  void created_database(const std::string& name) { databases_.push_back(name); }
  void wrote(const fs::path& dir) { dirs_.push_back(dir); }
  void commit() { done_ = true; }

 private:
  void quietly(const std::string& sql) {
    try {
      client_.execute(sql);
    } catch (const std::exception& e) {
      fmt::print(stderr, "pitr restore: could not undo ({}): {}\n", sql, e.what());
    }
  }
  clients::ClickHouseClient& client_;
  std::vector<std::string> tables_, databases_;
  std::vector<fs::path> dirs_;
  bool done_ = false;
};

class RestoreRun {
 public:
  RestoreRun(const ClickHouseRestoreOptions& o, const archive::ClickHouseBackupManifest& m,
             clients::ClickHouseClient& client, Rollback& rollback)
      : m_(m), client_(client), rollback_(rollback), blocks_(o.archive), reader_(blocks_.reader()) {
    for (auto& member : archive::read_member_list(
             o.archive, archive::layout::backup_file(m.id, archive::kClickHousePartsName)))
      members_.emplace(member.entry.name, std::move(member));
  }

  void attach_parts(const ClickHouseTable& t, ClickHouseRestoreResult& result) {
    auto data_path = fs::path(client_
                                  .rows(fmt::format("SELECT data_path FROM system.tables WHERE "
                                                    "database = {} AND name = {}",
                                                    quote_string(t.database), quote_string(t.name)))
                                  .at(0)
                                  .at(0));
    struct stat owner {};
    if (::stat(data_path.c_str(), &owner) != 0)
      throw std::runtime_error(fmt::format(
          "cannot reach {}, the data of {} on the target: run pitr restore on the ClickHouse "
          "host, as root",
          data_path.string(), table_name(t)));
    auto detached = data_path / "detached";
    if (!fs::exists(detached)) {
      fs::create_directories(detached);
      give(detached, owner);
    }
    auto parts = t.parts;
    std::sort(parts.begin(), parts.end(), [](const ClickHousePart& a, const ClickHousePart& b) {
      return std::tie(a.partition_id, a.min_block) < std::tie(b.partition_id, b.min_block);
    });
    for (const auto& p : parts) {
      archive::check_path_component(p.name, "part name");
      auto temporary = detached / ("pitr_restoring_" + p.name);
      rollback_.wrote(temporary);
      result.bytes += write_part(p, temporary, owner);
      auto final_dir = detached / p.name;
      rollback_.wrote(final_dir);
      fs::rename(temporary, final_dir);
      client_.execute(
          fmt::format("ALTER TABLE {} ATTACH PART {}", table_name(t), quote_string(p.name)));
      ++result.parts;
    }
  }

  void load_export(const ClickHouseTable& t) {
    auto data = member_bytes(t.export_member);
    if (!data.empty()) client_.insert("INSERT INTO " + table_name(t) + " FORMAT Native", data);
  }

  // Writes the backup's dictionary files into `dir` (given to its owner) and has the server
  // load them. A file of that name with other content was refused before anything changed
  // (check_dictionaries).
  void write_dictionaries(const fs::path& dir) {
    struct stat owner {};
    if (::stat(dir.c_str(), &owner) != 0)
      throw std::runtime_error("cannot reach the dictionaries directory " + dir.string());
    for (const auto& d : m_.dictionaries) {
      auto path = dir / dictionary_file_name(d);
      if (fs::exists(path)) continue;  // the same content (check_dictionaries)
      auto temporary = fs::path(path.string() + ".pitr-restoring");
      rollback_.wrote(temporary);
      rollback_.wrote(path);
      {
        std::ofstream out(temporary, std::ios::binary);
        out << member_text(d.member);
        if (!out.flush()) throw std::runtime_error("cannot write " + temporary.string());
      }
      if (::chown(temporary.c_str(), owner.st_uid, owner.st_gid) != 0)
        throw std::runtime_error("cannot give " + temporary.string() + " to the server's user");
      fs::rename(temporary, path);
    }
    client_.execute("SYSTEM RELOAD DICTIONARIES");
  }

  // A member's whole content (an export or a dictionary file).
  std::vector<std::uint8_t> member_bytes(const std::string& name) {
    auto it = members_.find(name);
    if (it == members_.end())
      throw std::runtime_error(fmt::format("backup {}: {} is missing", m_.id, name));
    std::vector<std::uint8_t> data(it->second.entry.size);
    auto ids = archive::data_block_ids(reader_, {&it->second}).at(0);
    check_block_count(it->second, ids.size());
    reader_.read_all(ids, [&](std::size_t i, Bytes b) {
      check_block(it->second, i * m_.file_block, b.size());
      std::copy(b.begin(), b.end(), data.begin() + static_cast<long>(i * m_.file_block));
    });
    return data;
  }
  std::string member_text(const std::string& name) {
    auto data = member_bytes(name);
    return {data.begin(), data.end()};
  }

  // Rows and content hash as the backup recorded them.
  void check(const ClickHouseTable& t) {
    auto [rows, hash] = clients::rows_and_hash(client_, t.database, t.name);
    if (rows != t.rows || hash != t.content_hash)
      throw std::runtime_error(fmt::format(
          "{} holds {} rows with content hash {} after the restore; backup {} recorded {} rows "
          "with hash {}. The restore is undone",
          table_name(t), rows, hash, m_.id, t.rows, t.content_hash));
    if (!t.final_rows) return;
    auto final = clients::rows_and_hash(client_, t.database, t.name, true);
    if (final.rows != *t.final_rows || final.hash != t.final_hash)
      throw std::runtime_error(fmt::format(
          "SELECT ... FINAL from {} gives {} rows with content hash {} after the restore; backup "
          "{} recorded {} rows with hash {} (its parts' order matters). The restore is undone",
          table_name(t), final.rows, final.hash, m_.id, *t.final_rows, t.final_hash.value_or(0)));
  }

 private:
  // Writes a part's files into `dir` (owned by `owner` from the start, so that the server can
  // remove whatever is left), each block checked against its id; returns the bytes.
  std::uint64_t write_part(const ClickHousePart& p, const fs::path& dir, const struct stat& owner) {
    fs::create_directories(dir);
    give(dir, owner);
    std::vector<const StoredTarMember*> files;
    auto prefix = p.identity + "/";
    for (auto it = members_.lower_bound(prefix);
         it != members_.end() && it->first.starts_with(prefix); ++it) {
      archive::check_path_component(it->first.substr(prefix.size()), "part file");
      files.push_back(&it->second);
    }
    if (files.empty())
      throw std::runtime_error(
          fmt::format("backup {}: the files of part {} are missing", m_.id, p.name));
    std::uint64_t bytes = 0;
    for (std::size_t at = 0; at < files.size(); at += kFilesAtOnce) {
      std::vector<const StoredTarMember*> batch(
          files.begin() + static_cast<long>(at),
          files.begin() + static_cast<long>(std::min(files.size(), at + kFilesAtOnce)));
      bytes += write_files(batch, prefix.size(), dir, owner);
    }
    return bytes;
  }

  // Writes `files` (members named <prefix><file>) into `dir`.
  std::uint64_t write_files(const std::vector<const StoredTarMember*>& files, std::size_t prefix,
                            const fs::path& dir, const struct stat& owner) {
    std::vector<int> fds;
    struct Close {
      std::vector<int>& fds;
      ~Close() {
        for (int fd : fds) ::close(fd);
      }
    } close{fds};
    std::vector<archive::BlockId> wanted;
    std::vector<std::pair<std::size_t, std::uint64_t>> where;  // file and offset of each block
    auto ids = archive::data_block_ids(reader_, files);
    std::uint64_t bytes = 0;
    for (std::size_t k = 0; k < files.size(); ++k) {
      auto path = dir / files[k]->entry.name.substr(prefix);
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
      if (fd < 0) throw std::runtime_error("cannot create " + path.string());
      fds.push_back(fd);
      if (::fchown(fd, owner.st_uid, owner.st_gid) != 0)
        throw std::runtime_error("cannot give " + path.string() + " to the server's user");
      check_block_count(*files[k], ids[k].size());
      for (std::size_t i = 0; i < ids[k].size(); ++i) {
        wanted.push_back(ids[k][i]);
        where.emplace_back(k, i * m_.file_block);
      }
      bytes += files[k]->entry.size;
    }
    reader_.read_all(wanted, [&](std::size_t i, Bytes b) {
      auto [k, offset] = where[i];
      check_block(*files[k], offset, b.size());
      if (::pwrite(fds[k], b.data(), b.size(), static_cast<off_t>(offset)) !=
          static_cast<ssize_t>(b.size()))
        throw std::runtime_error(
            fmt::format("writing {} into {} failed", files[k]->entry.name, dir.string()));
    });
    for (std::size_t k = 0; k < files.size(); ++k) {
      struct stat st {};
      if (::fstat(fds[k], &st) != 0 ||
          static_cast<std::uint64_t>(st.st_size) != files[k]->entry.size)
        throw std::runtime_error(
            fmt::format("{} came back with the wrong size", files[k]->entry.name));
    }
    return bytes;
  }

  // The member lists a file's blocks `file_block` bytes apart: as many as its size needs, each
  // within it (a damaged manifest or list must not write past the file).
  void check_block_count(const StoredTarMember& m, std::size_t blocks) const {
    if (blocks != (m.entry.size + m_.file_block - 1) / m_.file_block)
      throw std::runtime_error(fmt::format("backup {}: {} lists {} blocks for {} bytes", m_.id,
                                           m.entry.name, blocks, m.entry.size));
  }
  void check_block(const StoredTarMember& m, std::uint64_t offset, std::size_t size) const {
    if (size > m_.file_block || offset + size > m.entry.size)
      throw std::runtime_error(
          fmt::format("backup {}: a block of {} lies outside it", m_.id, m.entry.name));
  }

  static void give(const fs::path& path, const struct stat& owner) {
    if (::chown(path.c_str(), owner.st_uid, owner.st_gid) != 0)
      throw std::runtime_error("cannot give " + path.string() + " to the server's user");
  }

  const archive::ClickHouseBackupManifest& m_;
  clients::ClickHouseClient& client_;
  Rollback& rollback_;
  archive::CompleteBackupBlocks blocks_;
  archive::BlockReader reader_;
  std::map<std::string, StoredTarMember> members_;
};

// Refuses, before anything changes, a database that exists on the target with tables.
std::set<std::string> check_target(clients::ClickHouseClient& client,
                                   const std::vector<archive::ClickHouseDatabase>& databases) {
  std::set<std::string> existing;
  for (const auto& r : client.rows("SELECT name FROM system.databases")) existing.insert(r.at(0));
  std::map<std::string, std::uint64_t> tables;
  for (const auto& r : client.rows("SELECT database, count() FROM system.tables GROUP BY database"))
    tables[r.at(0)] = std::stoull(r.at(1));
  for (const auto& d : databases)
    if (tables[d.name] > 0)
      throw std::runtime_error(fmt::format(
          "database {} exists on the target and holds {} tables; pitr restores only into a "
          "database that is missing or empty, and left the target untouched",
          d.name, tables[d.name]));
  return existing;
}

// The backup as the target will hold it: databases and every DDL renamed.
void rename(archive::ClickHouseBackupManifest& m, const std::map<std::string, std::string>& to) {
  if (to.empty()) return;
  for (const auto& pair : to) {
    const auto& from = pair.first;
    if (std::none_of(m.databases.begin(), m.databases.end(),
                     [&](auto& d) { return d.name == from; }))
      throw std::runtime_error(fmt::format("backup {} holds no database {} to rename", m.id, from));
  }
  for (auto& d : m.databases)
    if (auto it = to.find(d.name); it != to.end()) d.name = it->second;
  for (auto& t : m.tables) {
    if (auto it = to.find(t.database); it != to.end()) t.database = it->second;
    t.create = clickhouse::rename_databases(t.create, to);
  }
}

// Keeps the databases asked for (all when none is) and their tables.
void select_databases(archive::ClickHouseBackupManifest& m,
                      const std::vector<std::string>& wanted) {
  for (const auto& w : wanted)
    if (std::none_of(m.databases.begin(), m.databases.end(), [&](auto& d) { return d.name == w; }))
      throw std::runtime_error(fmt::format("backup {} holds no database {}", m.id, w));
  if (wanted.empty()) return;
  auto unwanted = [&](const std::string& name) {
    return std::find(wanted.begin(), wanted.end(), name) == wanted.end();
  };
  std::erase_if(m.databases, [&](auto& d) { return unwanted(d.name); });
  std::erase_if(m.tables, [&](auto& t) { return unwanted(t.database); });
}

// Before anything changes: a dictionary file of the same name with other content in the
// target's directory is refused.
void check_dictionaries(const archive::ClickHouseBackupManifest& m, const fs::path& dir,
                        RestoreRun& run) {
  for (const auto& d : m.dictionaries) {
    auto path = dir / dictionary_file_name(d);
    if (!fs::exists(path)) continue;
    std::ifstream in(path, std::ios::binary);
    std::string there{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (there != run.member_text(d.member))
      throw std::runtime_error(fmt::format(
          "{} exists with other content than dictionary file {} of backup {}; move it away or "
          "choose another --dictionaries-dir",
          path.string(), d.origin, m.id));
  }
}

// The restore in the order materialized views need: an INSERT into (or ATTACH of) a table a
// view reads from would fire the view again once it exists, and a view's .inner. table exists
// only once the view does. So: tables, their data, materialized views, their .inner. data,
// views, dictionaries and their tables; every table checked at the end.
class SchemaAndData {
 public:
  SchemaAndData(clients::ClickHouseClient& client, const archive::ClickHouseBackupManifest& m,
                RestoreRun& run, Rollback& rollback, ClickHouseRestoreResult& result)
      : client_(client), m_(m), run_(run), rollback_(rollback), result_(result) {}

  void databases(const std::set<std::string>& existing) {
    for (const auto& d : m_.databases) {
      if (!existing.contains(d.name)) {
        client_.execute("CREATE DATABASE " + quote_name(d.name));
        rollback_.created_database(d.name);
      }
      ++result_.databases;
    }
  }

  // Tables of the rank (creation_rank), and the data of those that hold some.
  void tables(int rank) {
    for (const auto& t : m_.tables) {
      if (is_inner(t) || creation_rank(t) != rank) continue;
      client_.execute(t.create);
      rollback_.created_table(table_name(t));
      ++result_.tables;
    }
    for (const auto& t : m_.tables) {
      bool mine = is_inner(t) ? rank == 1 : creation_rank(t) == rank;
      if (!mine) continue;
      if (t.kind == "merge_tree")
        run_.attach_parts(t, result_);
      else if (t.kind == "export")
        run_.load_export(t);
    }
  }

  void check() {
    for (const auto& t : m_.tables)
      if (t.kind == "merge_tree" || t.kind == "export") {
        run_.check(t);
        result_.rows += t.rows;
      }
  }

 private:
  clients::ClickHouseClient& client_;
  const archive::ClickHouseBackupManifest& m_;
  RestoreRun& run_;
  Rollback& rollback_;
  ClickHouseRestoreResult& result_;
};

void skip_dictionaries(const archive::ClickHouseBackupManifest& m) {
  for (const auto& d : m.dictionaries)
    fmt::print(stderr,
               "pitr restore: warning: dictionaries {} ({}) not restored: give --dictionaries-dir "
               "(the target's dictionaries_config directory)\n",
               fmt::join(d.names, ", "), d.origin);
  for (const auto& t : m.tables)
    if (creation_rank(t) == 3)
      fmt::print(stderr,
                 "pitr restore: warning: {} is a Dictionary table: skipped with its "
                 "dictionary\n",
                 table_name(t));
}

}  // namespace

ClickHouseRestoreResult restore_clickhouse(const ClickHouseRestoreOptions& o) {
  auto m = choose_backup(o);
  select_databases(m, o.databases);
  rename(m, o.rename);
  clients::ClickHouseClient client(o.target);
  ClickHouseRestoreResult result;
  result.backup_id = m.id;
  Rollback rollback(client);
  RestoreRun run(o, m, client, rollback);
  auto existing = check_target(client, m.databases);
  if (o.dictionaries_dir) check_dictionaries(m, *o.dictionaries_dir, run);
  SchemaAndData restore(client, m, run, rollback, result);
  restore.databases(existing);
  for (int rank : {0, 1, 2}) restore.tables(rank);
  if (o.dictionaries_dir) {
    if (!m.dictionaries.empty()) run.write_dictionaries(*o.dictionaries_dir);
    restore.tables(3);
  } else {
    skip_dictionaries(m);
  }
  restore.check();
  rollback.commit();
  return result;
}

}  // namespace pitr::replay
