#include "capture/postgres/base_backup_receiver.hpp"

#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "archive/block_store/stored_tar.hpp"
#include "archive/member_list_object.hpp"
#include "archive/pg_backup_tars.hpp"
#include "formats/postgres/backup_file_check.hpp"
#include "formats/postgres/base_backup_stream.hpp"
#include "formats/postgres/server_manifest.hpp"

namespace pitr::capture {
namespace {

// The server names a tablespace's archive "<oid>.tar" and the data directory's "base.tar".
std::string tablespace_oid(const postgres::NewArchive& a) {
  return a.tablespace_path.empty() ? "" : a.name.substr(0, a.name.find('.'));
}

// One tar archive of the backup: its files cut into blocks for the block store, and walked to
// checksum every file. The blocks' SHA-256 ids cover the stored bytes and the server's
// per-file CRC-32Cs their content (as sent: an incremental file's, not the rebuilt one's).
class ArchiveSink {
 public:
  ArchiveSink(archive::BlockWriter& blocks, std::size_t block_size, const postgres::NewArchive& a,
              postgres::FileChecksums& seen, const BaseBackupParent* parent)
      : blocks_(blocks),
        stored_before_(blocks.stats().stored_bytes),
        files_(postgres::manifest_prefix(tablespace_oid(a)), seen) {
    if (parent) {
      auto earlier = parent->members.find(a.name);
      incremental_ = std::make_unique<archive::PgIncrementalTarWriter>(
          blocks, static_cast<std::uint32_t>(block_size), parent->segment_blocks,
          earlier == parent->members.end() ? std::vector<archive::StoredTarMember>{}
                                           : earlier->second,
          parent->ids);
    } else {
      whole_ = std::make_unique<archive::StoredTarWriter>(blocks, block_size);
    }
    info_.name = a.name;
    info_.storage = archive::PgArchiveStorage::kBlocks;
    info_.file = archive::stored_tar_file_name(a.name);
    info_.tablespace_path = a.tablespace_path;
    info_.tablespace_oid = tablespace_oid(a);
  }
  void write(Bytes data) {
    if (whole_)
      whole_->feed(data);
    else
      incremental_->feed(data);
    files_.feed(data);
  }
  // The archive's entry in the manifest, and its member list (stored once its blocks are).
  std::pair<archive::PgBackupArchive, std::vector<archive::StoredTarMember>> finish(
      archive::PgIncrementalTarStats& stats) {
    files_.finish();
    auto members = whole_ ? whole_->finish() : incremental_->finish();
    if (incremental_) stats += incremental_->stats();
    blocks_.drain();  // so that the stored bytes below are this archive's
    info_.bytes = archive::stored_tar_length(members);
    info_.stored_bytes = blocks_.stats().stored_bytes - stored_before_;
    return {info_, std::move(members)};
  }

 private:
  archive::BlockWriter& blocks_;
  std::uint64_t stored_before_;
  std::unique_ptr<archive::StoredTarWriter> whole_;
  std::unique_ptr<archive::PgIncrementalTarWriter> incremental_;
  postgres::TarChecksummer files_;
  archive::PgBackupArchive info_;
};

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

// The tablespaces' sizes the server announces, in bytes.
std::uint64_t announced_total(PgConnection& conn) {
  auto spaces = conn.next_result();
  conn.expect(spaces, PGRES_TUPLES_OK, "BASE_BACKUP tablespaces");
  std::uint64_t total = 0;
  for (int i = 0; i < PQntuples(spaces.get()); ++i)
    if (!PQgetisnull(spaces.get(), i, 2))
      total += std::stoull(PQgetvalue(spaces.get(), i, 2)) * 1024;
  return total;
}

}  // namespace

void store_received_backup(const ReceivedBackup& got, archive::BlockWriter& blocks,
                           const archive::PendingBackup& backup, archive::PgBackupManifest& m) {
  m.start_lsn = got.start_lsn;
  m.end_lsn = got.end_lsn;
  m.timeline = got.timeline;
  m.finished_at = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  m.files = got.files;
  m.archives = got.archives;
  m.bytes_read = got.bytes_received;
  blocks.finish();  // every block is stored before a member list names it
  for (std::size_t i = 0; i < m.archives.size(); ++i)
    archive::store_member_list(backup, m.archives[i].file, got.members[i]);
}

std::string base_backup_command(const PgConnection& conn, const std::string& label,
                                bool fast_checkpoint, bool verify_checksums, bool incremental) {
  return fmt::format(
      "BASE_BACKUP (LABEL {}, PROGRESS, CHECKPOINT '{}', MANIFEST 'yes', TABLESPACE_MAP, "
      "MANIFEST_CHECKSUMS 'CRC32C', VERIFY_CHECKSUMS {}{})",
      conn.quote_literal(label), fast_checkpoint ? "fast" : "spread",
      verify_checksums ? "true" : "false", incremental ? ", INCREMENTAL" : "");
}

std::pair<postgres::Lsn, postgres::TimelineId> read_backup_position(PgConnection& conn,
                                                                    const char* what) {
  auto r = conn.next_result();
  conn.expect(r, PGRES_TUPLES_OK, what);
  return {postgres::parse_lsn(PQgetvalue(r.get(), 0, 0)),
          static_cast<postgres::TimelineId>(std::stoul(PQgetvalue(r.get(), 0, 1)))};
}

ReceivedBackup receive_base_backup(PgConnection& conn, const std::string& command,
                                   archive::BlockWriter& blocks, std::size_t page_size,
                                   bool progress_on, const BaseBackupParent* parent) {
  ReceivedBackup got;
  if (!PQsendQuery(conn.get(), command.c_str())) conn.fail("BASE_BACKUP");
  std::tie(got.start_lsn, got.timeline) = read_backup_position(conn, "BASE_BACKUP");
  Progress progress(progress_on, announced_total(conn));
  auto copy = conn.next_result();
  conn.expect(copy, PGRES_COPY_OUT, "BASE_BACKUP");

  postgres::FileChecksums seen;
  std::unique_ptr<ArchiveSink> sink;
  bool in_manifest = false;
  auto close_sink = [&] {
    if (!sink) return;
    auto [a, listed] = sink->finish(got.incremental);
    got.archives.push_back(a);
    got.members.push_back(std::move(listed));
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
      sink = std::make_unique<ArchiveSink>(blocks, page_size, *a, seen, parent);
    } else if (auto* d = std::get_if<postgres::BackupData>(&message)) {
      if (in_manifest)
        got.server_manifest.append(as_text(d->data));
      else if (sink) {
        sink->write(d->data);
        got.bytes_received += d->data.size();
      } else
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
  std::tie(got.end_lsn, std::ignore) = read_backup_position(conn, "the end of BASE_BACKUP");
  while (auto more = conn.next_result()) conn.expect(more, PGRES_COMMAND_OK, "BASE_BACKUP");
  if (got.server_manifest.empty()) throw std::runtime_error("the server sent no backup manifest");
  auto server_manifest = postgres::parse_server_manifest(got.server_manifest);
  if (auto problems = postgres::compare_with_manifest(server_manifest, seen); !problems.empty())
    throw std::runtime_error("the backup does not match the server's manifest: " + problems[0]);
  got.files = server_manifest.files.size();
  return got;
}

}  // namespace pitr::capture
