#include "replay/backup_loader.hpp"

#include <fmt/format.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "archive/compressed_object_reader.hpp"
#include "capture/mysql/sql_session.hpp"
#include "formats/sql/script_splitter.hpp"
#include "formats/sql/sql_literal.hpp"

namespace pitr::replay {

namespace {

void check_sha(const archive::BackupFile& f, const archive::ReadResult& r) {
  if (r.sha256 != f.sha256 || r.bytes != f.bytes)
    throw std::runtime_error(
        fmt::format("backup file {} fails its checksum: the backup is damaged", f.path));
}

// A session for loading the backup. The load is not binlogged on the target: the target's
// binlog then holds exactly the source's transactions replayed after the backup, with
// their GTIDs, and none of its own.
std::unique_ptr<capture::SqlSession> load_session(const capture::MysqlEndpoint& target,
                                                  const std::string& purpose) {
  auto s = std::make_unique<capture::SqlSession>(target, purpose);
  s->execute("SET SESSION sql_log_bin = 0");
  return s;
}

void load_file(const archive::Archive& archive, const std::string& id, const archive::BackupFile& f,
               capture::SqlSession& session) {
  sql::ScriptSplitter splitter([&](const std::string& statement) { session.execute(statement); });
  auto result = archive::read_zstd_object(archive.store(), archive::layout::backup_file(id, f.path),
                                          [&](Bytes b) { splitter.feed(as_text(b)); });
  splitter.finish();
  check_sha(f, result);
}

}  // namespace

void check_target_empty(const archive::BackupManifest& backup,
                        const capture::MysqlEndpoint& target) {
  capture::SqlSession s(target, "restore target check");
  for (const auto& db : backup.databases) {
    auto tables = s.scalar(
        fmt::format("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = {}",
                    sql::quote_string(db)));
    if (tables && *tables != "0")
      throw std::runtime_error(fmt::format(
          "the target already has database {} with {} table(s); restore into an empty server "
          "(or drop it first) so that nothing is mixed with the restored data",
          db, *tables));
  }
}

void load_backup(const archive::Archive& archive, const archive::BackupManifest& backup,
                 const capture::MysqlEndpoint& target, unsigned jobs) {
  std::vector<const archive::BackupFile*> data;
  {
    auto schema = load_session(target, "loading the backup schema");
    for (const auto& f : backup.files)
      if (f.kind == "schema")
        load_file(archive, backup.id, f, *schema);
      else
        data.push_back(&f);
  }
  std::sort(data.begin(), data.end(), [](auto* a, auto* b) { return a->bytes > b->bytes; });
  std::atomic<std::size_t> next{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < std::max(1u, jobs); ++i)
    threads.emplace_back([&, i] {
      try {
        auto s = load_session(target, fmt::format("loading the backup (job {})", i + 1));
        for (auto k = next++; k < data.size() && !failure; k = next++)
          load_file(archive, backup.id, *data[k], *s);
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

void write_backup_script(const archive::Archive& archive, const archive::BackupManifest& backup,
                         std::FILE* out) {
  fmt::print(out, "-- pitr restore: base backup {} consistent at {}:{}\n", backup.id,
             backup.binlog_file, backup.binlog_position);
  for (auto kind : {"schema", "data"})
    for (const auto& f : backup.files) {
      if (f.kind != kind) continue;
      auto result = archive::read_zstd_object(
          archive.store(), archive::layout::backup_file(backup.id, f.path), [&](Bytes b) {
            if (std::fwrite(b.data(), 1, b.size(), out) != b.size())
              throw std::runtime_error("writing the SQL script failed");
          });
      check_sha(f, result);
    }
}

}  // namespace pitr::replay
