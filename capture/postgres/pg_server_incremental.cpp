#include "capture/postgres/pg_server_incremental.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

#include "archive/member_list_object.hpp"
#include "archive/parent_block_ids.hpp"
#include "archive/pending_backup.hpp"
#include "archive/pg_backup_tars.hpp"
#include "archive/wal_archive.hpp"
#include "capture/postgres/backup_parent.hpp"
#include "capture/postgres/base_backup_receiver.hpp"
#include "formats/postgres/server_manifest.hpp"

namespace pitr::capture {
namespace {

constexpr const char* kNotReady = "55000";  // object_not_in_prerequisite_state
constexpr std::size_t kUploadChunk = 1u << 20;

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string show(PgConnection& conn, const std::string& setting) {
  return PQgetvalue(conn.exec("SHOW " + setting).get(), 0, 0);
}

// A server error that means "not this way", not "this server or connection is broken".
bool refusal(const PgError& e) {
  return !e.sqlstate().empty() && !e.sqlstate().starts_with("08") &&
         !e.sqlstate().starts_with("57");
}

void upload_manifest(PgConnection& conn, const std::string& manifest, const std::string& parent) {
  try {
    auto r = conn.run("UPLOAD_MANIFEST");
    conn.expect(r, PGRES_COPY_IN, "UPLOAD_MANIFEST");
    for (std::size_t at = 0; at < manifest.size(); at += kUploadChunk) {
      auto n = std::min(kUploadChunk, manifest.size() - at);
      if (PQputCopyData(conn.get(), manifest.data() + at, static_cast<int>(n)) != 1)
        conn.fail("sending the parent's backup manifest");
    }
    if (PQputCopyEnd(conn.get(), nullptr) != 1) conn.fail("sending the parent's backup manifest");
    while (auto more = conn.next_result()) conn.expect(more, PGRES_COMMAND_OK, "UPLOAD_MANIFEST");
  } catch (const PgError& e) {
    if (!refusal(e)) throw;
    throw NotPossible{
        fmt::format("the server refused the manifest of backup {}: {}", parent, e.what())};
  }
}

archive::PgBackupManifest run(const PgBackupOptions& o, PgConnection& conn) {
  archive::PgBackupManifest m;
  auto ident = conn.exec("IDENTIFY_SYSTEM");
  m.system_identifier = std::stoull(PQgetvalue(ident.get(), 0, 0));
  m.source_id = archive::wal_source_id(m.system_identifier);
  m.server_version = PQparameterStatus(conn.get(), "server_version");
  m.type = o.type;
  m.method = "base_backup_incremental";
  if (show(conn, "summarize_wal") != "on")
    throw NotPossible{
        "summarize_wal is off on the server (PostgreSQL 17 compares backups through its WAL "
        "summaries: ALTER SYSTEM SET summarize_wal = on; SELECT pg_reload_conf(); the "
        "incremental after the next full backup can then use them)"};
  auto page_size = static_cast<std::uint32_t>(std::stoul(show(conn, "block_size")));
  auto segment_blocks =
      static_cast<std::uint32_t>(parse_postgres_size(show(conn, "segment_size")) / page_size);
  auto parent = choose_parent(o, m.source_id);
  m.parent = parent.id;
  archive::PgBackupTars parent_tars(o.archive);
  std::map<std::string, std::vector<archive::StoredTarMember>> parent_members;
  for (const auto& a : parent.archives) parent_members[a.name] = parent_tars.members(parent, a);
  upload_manifest(conn, parent_manifest(parent, parent_members), parent.id);

  m.started_at = now_micros();
  archive::PendingBackup backup(o.archive, static_cast<std::time_t>(m.started_at / 1000000));
  m.id = backup.id();
  auto index = archive::BlockIndex::load(backup.store());
  archive::BlockWriter blocks(backup.store(), index,
                              {.level = o.compression_level, .pack_bytes = o.pack_bytes});
  archive::ParentBlockIds ids(o.archive.store(), blocks, index, parent_tars.blocks());
  BaseBackupParent from{std::move(parent_members), std::ref(ids), segment_blocks};
  ReceivedBackup got;
  try {
    got = receive_base_backup(
        conn,
        base_backup_command(conn, "pitr " + m.id, o.fast_checkpoint, o.verify_checksums, true),
        blocks, page_size, o.progress, &from);
  } catch (const PgError& e) {
    // The server checks the manifest's WAL range against its timeline history and summaries
    // before it sends anything.
    if (e.sqlstate() != kNotReady) throw;
    throw NotPossible{
        fmt::format("the server cannot compare with backup {}: {}", parent.id, e.what())};
  }
  store_received_backup(got, blocks, backup, m);
  m.blocks_read = got.incremental.blocks_sent;
  m.blocks_reused = got.incremental.blocks_from_parent;
  backup.commit(archive::pg_manifest_json(m));
  return m;
}

}  // namespace

std::string parent_manifest(
    const archive::PgBackupManifest& parent,
    const std::map<std::string, std::vector<archive::StoredTarMember>>& members_by_archive) {
  std::vector<postgres::ListedFile> files;
  for (const auto& a : parent.archives) {
    auto prefix = a.tablespace_oid.empty() ? "" : "pg_tblspc/" + a.tablespace_oid + "/";
    for (const auto& member : members_by_archive.at(a.name))
      if (member.entry.type == TarEntry::Type::kFile)
        files.push_back({prefix + member.entry.name, member.entry.size, member.entry.mtime});
  }
  return postgres::write_server_manifest(2, parent.system_identifier, files,
                                         {{parent.timeline, parent.start_lsn, parent.end_lsn}});
}

IncrementalBackup take_server_incremental(const PgBackupOptions& o) {
  PgConnection conn(o.endpoint, true);
  try {
    return {run(o, conn), "", false};
  } catch (const NotPossible& e) {
    return {std::nullopt, e.why, e.first_backup};
  }
}

}  // namespace pitr::capture
