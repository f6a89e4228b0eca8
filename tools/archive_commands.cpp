// pitr get / pitr verify: reading the archive back.
#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>

#include "archive/backup_manifest.hpp"
#include "archive/binlog_archive.hpp"
#include "archive/clickhouse_backup_check.hpp"
#include "archive/compressed_object_reader.hpp"
#include "archive/member_list_object.hpp"
#include "archive/pg_backup_manifest.hpp"
#include "archive/pg_backup_tars.hpp"
#include "archive/wal_verify.hpp"
#include "formats/postgres/lsn.hpp"
#include "replay/postgres/wal_fetch.hpp"
#include "tools/archive_options.hpp"
#include "tools/commands.hpp"

namespace pitr::tools {
namespace {

struct GetArgs {
  ArchiveArgs archive;
  std::string name, output;
  std::optional<std::string> source_id, backup;
};

// A WAL segment or history file: the archive's bytes, a segment padded to its full size.
bool is_wal_name(const std::string& name) {
  return postgres::parse_history_file_name(name) ||
         (name.size() == 24 && postgres::parse_wal_file_name(name, 1u << 20));
}

// Where `pitr get` writes: stdout, or the file -o names, created at the first byte and
// written in place, never renamed over: `-o /dev/null`, a FIFO or a symlink stays what it is.
class GetOutput {
 public:
  explicit GetOutput(std::string path) : path_(std::move(path)) {}
  ~GetOutput() {
    if (file_ && file_ != stdout) std::fclose(file_);
  }
  GetOutput(const GetOutput&) = delete;
  GetOutput& operator=(const GetOutput&) = delete;

  void write(Bytes bytes) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file()) != bytes.size())
      throw std::runtime_error("write to " + name() + " failed");
  }
  void finish() {
    if (std::fflush(file()) != 0) throw std::runtime_error("write to " + name() + " failed");
  }

 private:
  bool to_stdout() const { return path_.empty() || path_ == "-"; }
  std::string name() const { return to_stdout() ? "stdout" : path_; }
  std::FILE* file() {
    if (file_) return file_;
    file_ = to_stdout() ? stdout : std::fopen(path_.c_str(), "wb");
    if (!file_)
      throw std::runtime_error(fmt::format("cannot create {}: {}", path_, std::strerror(errno)));
    return file_;
  }

  std::string path_;
  std::FILE* file_ = nullptr;
};

int get_wal(const GetArgs& a) {
  replay::WalFetchRequest r{open_archive(a.archive, SpoolUse::kOptional), a.source_id.value_or(""),
                            a.name, a.output};
  GetOutput out(a.output);
  if (!replay::write_wal(r, [&](Bytes b) { out.write(b); }))
    throw std::runtime_error("the archive has no " + a.name);
  out.finish();
  return kExitOk;
}

// One file of a base backup, as its manifest lists it, and how to read it back.
struct BackupFileEntry {
  std::string stored;  // its name in the backup, e.g. "data/shop.docs.0001.sql.zst"
  std::uint64_t bytes = 0;
  std::string sha256;  // empty when the manifest has none (PostgreSQL: the CRC-32Cs inside)
  std::function<archive::ReadResult(const std::function<void(Bytes)>&)> read;
};

// A MySQL logical backup's file by its path, a physical one's files as "datadir.tar", a
// PostgreSQL backup's tar by the server's name for it ("base.tar") or the stored one; either
// with or without ".zst".
std::optional<BackupFileEntry> find_backup_file(const archive::Archive& archive,
                                                const std::string& id, const std::string& name) {
  auto named = [&](const std::string& stored) { return name == stored || name + ".zst" == stored; };
  if (archive::read_manifest_json(archive, id).value("format", "") ==
      archive::kPostgresBackupFormat) {
    auto m = archive::read_pg_manifest(archive, id);
    for (const auto& a : m.archives)
      if (named(a.file) || a.name == name)
        return BackupFileEntry{a.file, a.bytes, a.sha256, [&archive, m, a](const auto& sink) {
                                 archive::PgBackupTars tars(archive);
                                 return tars.read(m, a, sink);
                               }};
    return std::nullopt;
  }
  auto m = archive::read_manifest(archive, id);
  if (m.method == "physical" && (name == "datadir.tar" || named(m.physical.member_list))) {
    auto members = archive::physical_members(archive, m);
    return BackupFileEntry{"datadir.tar", archive::stored_tar_length(members), "",
                           [&archive, members](const auto& sink) {
                             archive::CompleteBackupBlocks blocks(archive);
                             return archive::ReadResult{blocks.read_files(members, sink), ""};
                           }};
  }
  for (const auto& f : m.files)
    if (named(f.path))
      return BackupFileEntry{f.path, f.bytes, f.sha256,
                             [&archive, id, path = f.path](const auto& sink) {
                               return archive::read_zstd_object(
                                   archive.store(), archive::layout::backup_file(id, path), sink);
                             }};
  return std::nullopt;
}

// Decrypted and decompressed, so that an encrypted backup can be loaded by hand too; the
// content is checked against the manifest once it is written.
int get_backup_file(const GetArgs& a) {
  auto archive = open_archive(a.archive, SpoolUse::kOptional);
  if (a.name == archive::layout::kManifestName || a.name == "README.txt") {
    auto text = archive.read_text(archive::layout::backup_file(*a.backup, a.name));
    if (!text)
      throw std::runtime_error(
          fmt::format("backup {} has no {} (`pitr status` lists backups)", *a.backup, a.name));
    GetOutput out(a.output);
    out.write(as_bytes(*text));
    out.finish();
    return kExitOk;
  }
  auto entry = find_backup_file(archive, *a.backup, a.name);
  if (!entry)
    throw std::runtime_error(fmt::format(
        "backup {} has no file {} (its manifest.json lists them; `pitr status` lists backups)",
        *a.backup, a.name));
  GetOutput out(a.output);
  auto read = entry->read([&](Bytes b) { out.write(b); });
  out.finish();
  if (read.bytes != entry->bytes || (!entry->sha256.empty() && read.sha256 != entry->sha256))
    throw std::runtime_error(fmt::format(
        "{} of backup {} does not match its manifest ({} bytes with SHA-256 {}, expected {} "
        "bytes with {}); what was written is damaged",
        entry->stored, *a.backup, read.bytes, read.sha256, entry->bytes,
        entry->sha256.empty() ? "any SHA-256" : entry->sha256));
  return kExitOk;
}

int run_get(const GetArgs& a) {
  if (a.backup) return get_backup_file(a);
  if (is_wal_name(a.name)) return get_wal(a);
  archive::BinlogArchive catalog(open_archive(a.archive, SpoolUse::kOptional));
  const auto& log = catalog.find(a.name, a.source_id);
  GetOutput out(a.output);
  catalog.write_log(log, [&](Bytes chunk) { out.write(chunk); });
  out.finish();
  return kExitOk;
}

int run_verify(const ArchiveArgs& args) {
  // Verify reads every sealed object once, in catalog order: fetched ahead from object storage.
  auto archive = open_archive(args, SpoolUse::kOptional, /*read_ahead=*/true);
  archive::BinlogArchive catalog(archive);
  std::vector<const archive::ArchivedLog*> logs;
  for (const auto& log : catalog.logs()) logs.push_back(&log);
  catalog.will_read(logs);
  auto problems = catalog.verify();
  archive::PgBackupTars tars(archive);  // one block index for the backups of both engines
  auto backups = archive::list_backups(archive);
  for (const auto& manifest : backups)
    for (auto& p : archive::verify_backup(archive, manifest, tars.blocks())) problems.push_back(p);
  std::size_t segments = 0, wal_segments = 0, pg_backups = 0;
  for (const auto& log : catalog.logs()) segments += log.segments.size();
  for (const auto& source : archive::list_wal_sources(archive)) {
    wal_segments += source.segments.size() + source.open.size();
    source.will_read();
    for (auto& p : archive::verify_wal(source)) problems.push_back(p);
  }
  for (const auto& manifest : archive::list_pg_backups(archive)) {
    ++pg_backups;
    for (auto& p : archive::verify_pg_backup(tars, manifest)) problems.push_back(p);
  }
  auto clickhouse = archive::list_clickhouse_backups(archive);
  for (const auto& manifest : clickhouse)
    for (auto& p : archive::verify_clickhouse_backup(archive, manifest, tars.blocks()))
      problems.push_back(p);
  if (problems.empty()) {
    fmt::print(
        "archive OK: {} binlog files, {} sealed segments, {} base backups; {} WAL segments "
        "(every record's CRC checked), {} PostgreSQL base backups (every file against the "
        "server's manifest); {} ClickHouse backups (every part's files); every checksum "
        "matches and nothing is missing\n",
        catalog.logs().size(), segments, backups.size(), wal_segments, pg_backups,
        clickhouse.size());
    return kExitOk;
  }
  fmt::print("archive has {} problem(s):\n", problems.size());
  for (const auto& p : problems) fmt::print("  - {}\n", p);
  return kExitFailure;
}

}  // namespace

CommandRunner add_get_command(CLI::App& app) {
  auto a = std::make_shared<GetArgs>();
  auto* cmd = app.add_subcommand("get",
                                 "Write an archived binlog file, byte for byte as the "
                                 "server wrote it, a PostgreSQL WAL segment or history "
                                 "file, or (with --backup) one file of a base backup, "
                                 "decompressed and decrypted, to stdout (or -o PATH)");
  add_archive_options(cmd, a->archive, SpoolUse::kOptional);
  cmd->add_option("name", a->name,
                  "Binlog file name (binlog.000003), WAL file name, or with --backup a file "
                  "of that backup (data/shop.docs.0001.sql, base.tar)")
      ->required();
  auto* source_id =
      cmd->add_option("--source-id", a->source_id,
                      "Source whose file to write, when several servers have one of that name");
  cmd->add_option("--backup", a->backup,
                  "Base backup id (pitr status lists them): write one of its files, as its "
                  "manifest.json names it, or manifest.json or README.txt")
      ->excludes(source_id);
  cmd->add_option("-o,--output", a->output, "Write to this file instead of stdout");
  return [a] { return run_get(*a); };
}

CommandRunner add_verify_command(CLI::App& app) {
  auto args = std::make_shared<ArchiveArgs>();
  auto* cmd = app.add_subcommand(
      "verify",
      "Check every segment's checksum and the continuity of the archive; exit 0 only "
      "when everything holds");
  add_archive_options(cmd, *args, SpoolUse::kOptional);
  return [args] { return run_verify(*args); };
}

}  // namespace pitr::tools
