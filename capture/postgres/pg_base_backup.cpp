#include "capture/postgres/pg_base_backup.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <optional>

#include "archive/member_list_object.hpp"
#include "archive/pending_backup.hpp"
#include "archive/wal_archive.hpp"
#include "capture/postgres/base_backup_receiver.hpp"
#include "capture/postgres/pg_server_incremental.hpp"

namespace pitr::capture {
namespace {

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The server's page size: relation files are cut into blocks of it.
std::size_t block_size(PgConnection& conn) {
  auto r = conn.exec("SHOW block_size");
  return std::stoul(PQgetvalue(r.get(), 0, 0));
}

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
  auto got = receive_base_backup(
      conn, base_backup_command(conn, "pitr " + m.id, o.fast_checkpoint, o.verify_checksums, false),
      blocks, page_size, o.progress);
  store_received_backup(got, blocks, backup, m);
  backup.store().put_bytes(backup.key(archive::kServerManifestName), as_bytes(got.server_manifest),
                           storage::PutMode::kIfAbsent);
  backup.commit(archive::pg_manifest_json(m));
  return m;
}

}  // namespace

archive::PgBackupManifest take_postgres_backup(const PgBackupOptions& o) {
  if (o.type != "full") {
    auto incremental = take_postgres_incremental(o);
    if (incremental.server_compares) incremental = take_server_incremental(o);
    if (incremental.manifest) return *incremental.manifest;
    if (!(o.type_by_default && incremental.first_backup))
      fmt::print(stderr, "pitr backup: taking a full backup instead of {}: {}\n",
                 o.type == "diff" ? "a differential one" : "an incremental one",
                 incremental.not_possible);
  }
  return take_full_backup(o);
}

}  // namespace pitr::capture
