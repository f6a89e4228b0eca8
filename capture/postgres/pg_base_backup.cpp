#include "capture/postgres/pg_base_backup.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <optional>

#include "archive/block_store/stored_tar.hpp"
#include "archive/member_list_object.hpp"
#include "archive/pending_backup.hpp"
#include "archive/pg_backup_tars.hpp"
#include "archive/wal_archive.hpp"
#include "capture/postgres/pg_incremental_backup.hpp"
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

// One tar archive of the backup: its files cut into blocks for the block store, and walked to
// checksum every file. The blocks' SHA-256 ids cover the stored bytes and the server's
// per-file CRC-32Cs their content.
class ArchiveSink {
 public:
  ArchiveSink(archive::BlockWriter& blocks, std::size_t block_size, const postgres::NewArchive& a,
              postgres::FileChecksums& seen)
      : blocks_(blocks),
        stored_before_(blocks.stats().stored_bytes),
        tar_(blocks, block_size),
        files_(postgres::manifest_prefix(tablespace_oid(a)), seen) {
    info_.name = a.name;
    info_.storage = archive::PgArchiveStorage::kBlocks;
    info_.file = archive::stored_tar_file_name(a.name);
    info_.tablespace_path = a.tablespace_path;
    info_.tablespace_oid = tablespace_oid(a);
  }
  void write(Bytes data) {
    tar_.feed(data);
    files_.feed(data);
  }
  // The archive's entry in the manifest, and its member list (stored once its blocks are).
  std::pair<archive::PgBackupArchive, std::vector<archive::StoredTarMember>> finish() {
    files_.finish();
    auto members = tar_.finish();
    blocks_.drain();  // so that the stored bytes below are this archive's
    info_.bytes = archive::stored_tar_length(members);
    info_.stored_bytes = blocks_.stats().stored_bytes - stored_before_;
    return {info_, std::move(members)};
  }

 private:
  archive::BlockWriter& blocks_;
  std::uint64_t stored_before_;
  archive::StoredTarWriter tar_;
  postgres::TarChecksummer files_;
  archive::PgBackupArchive info_;
};

// The server's page size: relation files are cut into blocks of it.
std::size_t block_size(PgConnection& conn) {
  auto r = conn.exec("SHOW block_size");
  return std::stoul(PQgetvalue(r.get(), 0, 0));
}

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

archive::PgBackupManifest take_full_backup(const PgBackupOptions& o) {
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
  auto page_size = block_size(conn);
  m.started_at = now_micros();
  archive::PendingBackup backup(o.archive, static_cast<std::time_t>(m.started_at / 1000000));
  m.id = backup.id();
  // After the claim: a sweep running meanwhile sees this backup in progress (block_sweep.hpp).
  auto index = archive::BlockIndex::load(backup.store());
  archive::BlockWriter blocks(backup.store(), index,
                              {.level = o.compression_level, .pack_bytes = o.pack_bytes});
  auto command = fmt::format(
      "BASE_BACKUP (LABEL {}, PROGRESS, CHECKPOINT '{}', MANIFEST 'yes', TABLESPACE_MAP, "
      "MANIFEST_CHECKSUMS 'CRC32C', VERIFY_CHECKSUMS {})",
      conn.quote_literal("pitr " + m.id), o.fast_checkpoint ? "fast" : "spread",
      o.verify_checksums ? "true" : "false");
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
  std::vector<std::vector<archive::StoredTarMember>> members;
  std::string manifest_text;
  bool in_manifest = false;
  auto close_sink = [&] {
    if (!sink) return;
    auto [a, listed] = sink->finish();
    m.archives.push_back(a);
    members.push_back(std::move(listed));
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
      sink = std::make_unique<ArchiveSink>(blocks, page_size, *a, seen);
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
  for (const auto& a : m.archives) m.bytes_read += a.bytes;
  blocks.finish();  // every block is stored before a member list names it
  for (std::size_t i = 0; i < m.archives.size(); ++i)
    archive::store_member_list(backup, m.archives[i].file, members[i]);
  backup.store().put_bytes(backup.key(archive::kServerManifestName), as_bytes(manifest_text),
                           storage::PutMode::kIfAbsent);
  backup.commit(archive::pg_manifest_json(m));
  return m;
}

}  // namespace

archive::PgBackupManifest take_postgres_backup(const PgBackupOptions& o) {
  if (o.type != "full") {
    auto incremental = take_postgres_incremental(o);
    if (incremental.manifest) return *incremental.manifest;
    if (!(o.type_by_default && incremental.first_backup))
      fmt::print(stderr, "pitr backup: taking a full backup instead of {}: {}\n",
                 o.type == "diff" ? "a differential one" : "an incremental one",
                 incremental.not_possible);
  }
  return take_full_backup(o);
}

}  // namespace pitr::capture
