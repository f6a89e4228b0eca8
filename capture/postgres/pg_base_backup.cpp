#include "capture/postgres/pg_base_backup.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <optional>

#include "archive/compressed_object_writer.hpp"
#include "archive/pending_backup.hpp"
#include "archive/wal_archive.hpp"
#include "formats/postgres/backup_file_check.hpp"
#include "formats/postgres/base_backup_stream.hpp"
#include "formats/postgres/server_manifest.hpp"

namespace pitr::capture {
namespace {

namespace fs = std::filesystem;
using postgres::Lsn;

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The server names a tablespace's archive "<oid>.tar" and the data directory's "base.tar".
std::string tablespace_oid(const postgres::NewArchive& a) {
  return a.tablespace_path.empty() ? "" : a.name.substr(0, a.name.find('.'));
}

// One tar archive of the backup: compressed into the store and walked to checksum every file.
// The zstd frame checksum covers the stored bytes and the server's per-file CRC-32Cs their
// content, so no SHA-256 is spent on the stream.
class ArchiveSink {
 public:
  ArchiveSink(const archive::PendingBackup& backup, const postgres::NewArchive& a, int level,
              postgres::FileChecksums& seen)
      : writer_(backup.store(), backup.key(a.name + ".zst"),
                {.level = level, .workers = 1, .sha256 = false}),
        files_(postgres::manifest_prefix(tablespace_oid(a)), seen) {
    info_.name = a.name;
    info_.file = a.name + ".zst";
    info_.tablespace_path = a.tablespace_path;
    info_.tablespace_oid = tablespace_oid(a);
  }
  void write(Bytes data) {
    writer_.write(data);
    files_.feed(data);
  }
  archive::PgBackupArchive finish() {
    files_.finish();
    auto w = writer_.finish();
    info_.bytes = w.bytes;
    info_.stored_bytes = w.stored_bytes;
    return info_;
  }

 private:
  archive::CompressedObjectWriter writer_;
  postgres::TarChecksummer files_;
  archive::PgBackupArchive info_;
};

std::pair<Lsn, postgres::TimelineId> read_position(PgConnection& conn, const char* what) {
  auto r = conn.next_result();
  conn.expect(r, PGRES_TUPLES_OK, what);
  return {postgres::parse_lsn(PQgetvalue(r.get(), 0, 0)),
          static_cast<postgres::TimelineId>(std::stoul(PQgetvalue(r.get(), 0, 1)))};
}

class Progress {
 public:
  Progress(bool on, std::uint64_t total) : on_(on), total_(total) {}
  void update(std::uint64_t done) {
    if (!on_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    fmt::print(stderr, "\rpitr backup: {:.0f} of {:.0f} MiB ({:.0f}%)   ", done / 1048576.0,
               total_ / 1048576.0, total_ ? 100.0 * std::min(done, total_) / total_ : 0.0);
  }
  void done() {
    if (on_) fmt::print(stderr, "\n");
  }

 private:
  bool on_;
  std::uint64_t total_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

archive::PgBackupManifest take_postgres_backup(const PgBackupOptions& o) {
  o.archive.create_or_check();
  PgConnection conn(o.endpoint, true);
  archive::PgBackupManifest m;
  auto ident = conn.exec("IDENTIFY_SYSTEM");
  m.system_identifier = std::stoull(PQgetvalue(ident.get(), 0, 0));
  m.source_id = archive::wal_source_id(m.system_identifier);
  m.server_version = PQparameterStatus(conn.get(), "server_version");
  if (PQserverVersion(conn.get()) < 150000)
    throw std::runtime_error("pitr backup needs PostgreSQL 15 or later (the server runs " +
                             m.server_version + ")");
  m.started_at = now_micros();
  archive::PendingBackup backup(o.archive, static_cast<std::time_t>(m.started_at / 1000000));
  m.id = backup.id();
  auto command = fmt::format(
      "BASE_BACKUP (LABEL {}, PROGRESS, CHECKPOINT '{}', MANIFEST 'yes', TABLESPACE_MAP, "
      "MANIFEST_CHECKSUMS 'CRC32C')",
      conn.quote_literal("pitr " + m.id), o.fast_checkpoint ? "fast" : "spread");
  if (!PQsendQuery(conn.get(), command.c_str())) conn.fail("BASE_BACKUP");
  std::tie(m.start_lsn, m.timeline) = read_position(conn, "BASE_BACKUP");
  auto spaces = conn.next_result();
  conn.expect(spaces, PGRES_TUPLES_OK, "BASE_BACKUP tablespaces");
  std::uint64_t total = 0;
  for (int i = 0; i < PQntuples(spaces.get()); ++i)
    if (!PQgetisnull(spaces.get(), i, 2))
      total += std::stoull(PQgetvalue(spaces.get(), i, 2)) * 1024;
  auto copy = conn.next_result();
  conn.expect(copy, PGRES_COPY_OUT, "BASE_BACKUP");

  Progress progress(o.progress, total);
  postgres::FileChecksums seen;
  std::unique_ptr<ArchiveSink> sink;
  std::string manifest_text;
  bool in_manifest = false;
  auto close_sink = [&] {
    if (sink) m.archives.push_back(sink->finish());
    sink.reset();
  };
  while (true) {
    char* buf = nullptr;
    int n = PQgetCopyData(conn.get(), &buf, 0);
    if (n == -1) break;
    if (n < 0) conn.fail("receiving the base backup");
    std::unique_ptr<char, decltype(&PQfreemem)> owned(buf, PQfreemem);
    auto message = postgres::parse_backup_message(
        Bytes(reinterpret_cast<const std::uint8_t*>(buf), static_cast<std::size_t>(n)));
    if (auto* a = std::get_if<postgres::NewArchive>(&message)) {
      close_sink();
      sink = std::make_unique<ArchiveSink>(backup, *a, o.compression_level, seen);
    } else if (auto* d = std::get_if<postgres::BackupData>(&message)) {
      if (in_manifest)
        manifest_text.append(as_text(d->data));
      else if (sink)
        sink->write(d->data);
      else
        throw std::runtime_error("the server sent backup data before naming its archive");
    } else if (auto* p = std::get_if<postgres::BackupProgress>(&message)) {
      progress.update(p->bytes_done);
    } else {
      close_sink();
      in_manifest = true;
    }
  }
  close_sink();
  progress.done();
  std::tie(m.end_lsn, std::ignore) = read_position(conn, "the end of BASE_BACKUP");
  while (auto more = conn.next_result()) conn.expect(more, PGRES_COMMAND_OK, "BASE_BACKUP");
  m.finished_at = now_micros();
  if (manifest_text.empty()) throw std::runtime_error("the server sent no backup manifest");
  auto server_manifest = postgres::parse_server_manifest(manifest_text);
  if (auto problems = postgres::compare_with_manifest(server_manifest, seen); !problems.empty())
    throw std::runtime_error("the backup does not match the server's manifest: " + problems[0]);
  m.files = server_manifest.files.size();
  backup.store().put_bytes(backup.key(archive::kServerManifestName), as_bytes(manifest_text),
                           storage::PutMode::kIfAbsent);
  backup.commit(archive::pg_manifest_json(m));
  return m;
}

}  // namespace pitr::capture
