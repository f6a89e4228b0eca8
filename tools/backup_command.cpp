// pitr backup: a consistent base backup into the archive.
#include <fmt/format.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "capture/clickhouse/clickhouse_backup.hpp"
#include "capture/mysql/base_backup.hpp"
#include "capture/mysql/physical_backup.hpp"
#include "capture/postgres/pg_base_backup.hpp"
#include "tools/archive_options.hpp"
#include "tools/commands.hpp"
#include "tools/duration_option.hpp"
#include "tools/size_option.hpp"
#include "tools/source_options.hpp"
#include "tools/usage_error.hpp"

namespace pitr::tools {
namespace {

struct BackupArgs {
  SourceArgs source;
  ArchiveArgs archive;
  std::string chunk_size = "64M";
  unsigned jobs = 4;
  int compression_level = 1;
  std::string pack_size = "16M";
  bool json = false;
  std::optional<std::string> type;  // default: incr for PostgreSQL once a full exists
  std::string wal_wait = "60s";
  bool verify_blocks = false, no_verify_checksums = false;
  std::string method = "logical";  // MySQL/MariaDB
  std::string mariabackup = "mariabackup";
  std::vector<std::string> databases;  // ClickHouse
};

// --json: what scripts need to know about the new backup.
void print_json(const std::string& id, const std::string& type, const char* method,
                const std::string& parent, std::uint64_t bytes, std::uint64_t stored) {
  fmt::print("{}\n",
             nlohmann::json{{"id", id},
                            {"type", type},
                            {"method", method},
                            {"parent", parent.empty() ? nlohmann::json() : nlohmann::json(parent)},
                            {"bytes_read", bytes},
                            {"bytes_stored", stored}}
                 .dump());
}

void print_postgres_summary(const archive::PgBackupManifest& m, std::uint64_t bytes,
                            std::uint64_t stored) {
  fmt::print("backup {} of {} ({}): WAL {} to {} on timeline {}, {:.1f} s\n", m.id, m.source_id,
             m.type, postgres::format_lsn(m.start_lsn), postgres::format_lsn(m.end_lsn), m.timeline,
             (m.finished_at - m.started_at) / 1e6);
  if (m.method == "sql")
    fmt::print(
        "  compared with backup {} through the WAL between them: {} changed blocks read, {} "
        "unchanged blocks shared; {:.1f} MiB read from the server; {} files, {:.1f} MiB, of "
        "which {:.1f} MiB newly stored compressed\n",
        m.parent, m.blocks_read, m.blocks_reused, m.bytes_read / 1048576.0, m.files,
        bytes / 1048576.0, stored / 1048576.0);
  else if (m.method == "base_backup_incremental")
    fmt::print(
        "  compared with backup {} by the server's WAL summaries: {} changed blocks sent, {} "
        "unchanged blocks shared; {:.1f} MiB read from the server, {} files checked against its "
        "manifest; rebuilt whole, {:.1f} MiB, of which {:.1f} MiB newly stored compressed\n",
        m.parent, m.blocks_read, m.blocks_reused, m.bytes_read / 1048576.0, m.files,
        bytes / 1048576.0, stored / 1048576.0);
  else
    fmt::print(
        "  {} archives, {} files checked against the server's manifest; {:.1f} MiB, of which "
        "{:.1f} MiB newly stored compressed (the rest was already in the block store)\n",
        m.archives.size(), m.files, bytes / 1048576.0, stored / 1048576.0);
  if (m.method == "sql")
    fmt::print("  WAL between the two: {:.1f} MiB from capture's summaries, {:.1f} MiB decoded\n",
               m.wal_summarized_bytes / 1048576.0, m.wal_decoded_bytes / 1048576.0);
  if (m.blocks_checked)
    fmt::print("  --verify-blocks: {} blocks the WAL called unchanged were read: {} had changed\n",
               m.blocks_checked, m.blocks_missed);
  if (m.pages_checksummed)
    fmt::print("  data checksums: {} pages read, all sound\n", m.pages_checksummed);
}

int run_postgres_backup(const BackupArgs& a) {
  capture::PgBackupOptions o;
  o.endpoint = make_postgres_endpoint(a.source);
  o.archive = open_archive(a.archive, SpoolUse::kNone);
  o.compression_level = a.compression_level;
  o.pack_bytes = parse_option("--pack-size", a.pack_size, "a size like 16M", parse_size);
  o.progress = ::isatty(STDERR_FILENO);
  o.type = a.type.value_or("incr");
  o.wal_wait = parse_option("--wal-wait", a.wal_wait, "a duration like 60s", parse_duration);
  o.verify_blocks = a.verify_blocks;
  o.verify_checksums = !a.no_verify_checksums;
  if (o.verify_blocks && o.type == "full")
    throw UsageError(
        "--verify-blocks checks a diff or incr backup; it means nothing with --type full");
  o.type_by_default = !a.type;
  auto m = capture::take_postgres_backup(o);
  std::uint64_t bytes = 0, stored = 0;
  for (const auto& x : m.archives) {
    bytes += x.bytes;
    stored += x.stored_bytes;
  }
  if (a.json)
    print_json(m.id, m.type, "physical", m.parent, m.bytes_read, stored);
  else
    print_postgres_summary(m, bytes, stored);
  if (m.blocks_missed) {
    fmt::print(stderr,
               "pitr backup: --verify-blocks found {} blocks changed that the WAL did not name. "
               "The backup holds what was read and is sound, but backups compared through the "
               "WAL cannot be trusted on this server: take full backups, and report this\n",
               m.blocks_missed);
    return kExitFailure;
  }
  return kExitOk;
}

int run_physical_backup(const BackupArgs& a) {
  capture::PhysicalBackupOptions o;
  o.type = a.type.value_or("incr");
  o.type_by_default = !a.type;
  o.note = [](const std::string& text) { fmt::print(stderr, "pitr backup: {}\n", text); };
  o.endpoint = make_endpoint(a.source);
  o.archive = open_archive(a.archive, SpoolUse::kNone);
  o.jobs = a.jobs;
  o.compression_level = a.compression_level;
  o.pack_bytes = parse_option("--pack-size", a.pack_size, "a size like 16M", parse_size);
  o.progress = ::isatty(STDERR_FILENO);
  o.mariabackup = a.mariabackup;
  auto m = capture::take_physical_backup(o);
  const auto& p = m.physical;
  if (a.json) {
    print_json(m.id, m.type, "physical", m.parent, p.bytes_read, p.stored_bytes);
    return kExitOk;
  }
  fmt::print(
      "backup {} of {} ({}, physical{}): consistent at {}:{} (GTID position '{}'), InnoDB LSN {}\n"
      "  {:.1f} MiB read from mariabackup; {} files, {:.1f} MiB, of which {:.1f} MiB newly "
      "stored compressed (the rest was already in the block store)\n",
      m.id, m.source_id, m.type, m.parent.empty() ? "" : ", compared with " + m.parent,
      m.binlog_file, m.binlog_position, m.gtid_position, p.to_lsn, p.bytes_read / 1048576.0,
      p.files, p.bytes / 1048576.0, p.stored_bytes / 1048576.0);
  return kExitOk;
}

int run_clickhouse_backup(const BackupArgs& a) {
  capture::ClickHouseBackupOptions o;
  o.endpoint = make_clickhouse_endpoint(a.source);
  o.archive = open_archive(a.archive, SpoolUse::kNone);
  o.databases = a.databases;
  o.type = a.type.value_or("incr");
  o.compression_level = a.compression_level;
  o.pack_bytes = parse_option("--pack-size", a.pack_size, "a size like 16M", parse_size);
  auto m = capture::take_clickhouse_backup(o);
  if (a.json) {
    print_json(m.id, m.type, "parts", m.parent, m.bytes_read, m.stored_bytes);
    return kExitOk;
  }
  std::size_t tables = 0, parts = 0;
  std::uint64_t rows = 0;
  for (const auto& t : m.tables) {
    tables += t.name.rfind(".inner.", 0) != 0;
    parts += t.parts.size();
    rows += t.rows;
  }
  fmt::print(
      "backup {} of {} ({}{}): {} databases, {} tables, {} parts, {} rows\n"
      "  parts: {} unchanged, {} new, {} gone; {:.1f} MiB read, {:.1f} MiB newly stored "
      "compressed\n",
      m.id, m.source_id, m.type, m.parent.empty() ? "" : ", compared with " + m.parent,
      m.databases.size(), tables, parts, rows, m.parts_unchanged, m.parts_new, m.parts_gone,
      m.bytes_read / 1048576.0, m.stored_bytes / 1048576.0);
  return kExitOk;
}

int run_backup(const BackupArgs& a) {
  if (is_clickhouse_source(a.source)) return run_clickhouse_backup(a);
  if (!a.databases.empty())
    throw UsageError(
        "--databases chooses ClickHouse databases; MySQL/MariaDB logical backups "
        "take every database, PostgreSQL backups the whole cluster");
  if (is_postgres_source(a.source)) {
    return run_postgres_backup(a);  // always physical
  }
  if (a.method == "physical") return run_physical_backup(a);
  if (a.type && *a.type != "full")
    throw UsageError("MySQL/MariaDB logical backups are always full: use --type full");
  capture::BackupOptions o;
  o.endpoint = make_endpoint(a.source);
  o.chunk_bytes = parse_option("--chunk-size", a.chunk_size, "a size like 64M", parse_size);
  o.archive = open_archive(a.archive, SpoolUse::kNone);
  o.jobs = a.jobs;
  o.compression_level = a.compression_level;
  o.progress = ::isatty(STDERR_FILENO);
  auto m = capture::take_base_backup(o);
  std::uint64_t bytes = 0, stored = 0, rows = 0;
  std::size_t tables = 0;
  for (const auto& f : m.files) {
    bytes += f.bytes;
    stored += f.stored_bytes;
    rows += f.rows;
    tables += f.kind == "data" && f.path.ends_with(".0000.sql.zst");
  }
  if (a.json) {
    print_json(m.id, "full", "logical", "", bytes, stored);
    return kExitOk;
  }
  fmt::print(
      "backup {} of {}: consistent at {}:{} (GTID position '{}'), writes blocked for {} ms\n"
      "  {} databases, {} tables, {} rows; {:.1f} MiB of SQL stored in {:.1f} MiB\n",
      m.id, m.source_id, m.binlog_file, m.binlog_position, m.gtid_position, m.lock_ms,
      m.databases.size(), tables, rows, bytes / 1048576.0, stored / 1048576.0);
  return kExitOk;
}

}  // namespace

CommandRunner add_backup_command(CLI::App& app) {
  auto a = std::make_shared<BackupArgs>();
  auto* cmd = app.add_subcommand(
      "backup",
      "Take a consistent base backup into the archive: MySQL/MariaDB as SQL with the binlog "
      "position and GTID state it is consistent at; PostgreSQL through BASE_BACKUP with its "
      "start and end LSN and timeline; ClickHouse (on its host) as frozen parts stored by "
      "content, with every table's DDL");
  add_archive_options(cmd, a->archive, SpoolUse::kOptional,
                      "The archive (created if missing): a directory, file://PATH or "
                      "s3://BUCKET/PREFIX");
  add_source_options(cmd, a->source);
  cmd->add_option("--jobs", a->jobs, "Sessions dumping in parallel (default 4)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--chunk-size", a->chunk_size,
                  "Cut tables larger than this into primary-key ranges (default 64M)");
  cmd->add_option(
         "--compression-level", a->compression_level,
         "zstd level (default 1: backups favour speed, and SQL text compresses well at it)")
      ->check(CLI::Range(-7, 19));
  cmd->add_option("--pack-size", a->pack_size,
                  "PostgreSQL: blocks are stored in packs of about this size (default 16M)");
  cmd->add_option("--type", a->type,
                  "full, diff (compared with the last full) or incr (with the last backup); "
                  "default incr once the archive holds a full. PostgreSQL 15/16: diff and incr "
                  "read only the blocks the archived WAL says changed, over SQL; 17+: the "
                  "server's incremental BASE_BACKUP (summarize_wal = on; untested here); both "
                  "fall back to full saying why. MariaDB --method physical: only the pages "
                  "changed since (mariabackup --incremental-lsn). MySQL/MariaDB logical: full only")
      ->check(CLI::IsMember({"full", "diff", "incr"}));
  cmd->add_option("--wal-wait", a->wal_wait,
                  "diff/incr: how long to wait for capture to archive the WAL up to the "
                  "backup's start (default 60s)");
  cmd->add_flag("--verify-blocks", a->verify_blocks,
                "diff/incr: read every block too, and check that those the WAL called "
                "unchanged did not change (exit 1 if any did); a periodic cross-check");
  cmd->add_flag("--no-verify-checksums", a->no_verify_checksums,
                "PostgreSQL with data checksums: store pages that fail their checksum instead "
                "of failing the backup (as pg_basebackup's option of that name)");
  cmd->add_option("--method", a->method,
                  "MySQL/MariaDB: logical (SQL per table, default) or physical (MariaDB's "
                  "mariabackup run on the database host; its files kept in the block store). "
                  "PostgreSQL backups are physical")
      ->check(CLI::IsMember({"logical", "physical"}));
  cmd->add_option("--mariabackup", a->mariabackup,
                  "--method physical: the mariabackup program (default: mariabackup on PATH)");
  cmd->add_option("--databases", a->databases,
                  "ClickHouse: these databases only (comma-separated; default: every database "
                  "but system, and default when it holds nothing)")
      ->delimiter(',');
  cmd->add_flag("--json", a->json,
                "Print the new backup as one JSON object: id, type, method, parent, bytes_read "
                "(from the server), bytes_stored (newly, compressed)");
  return [a] { return run_backup(*a); };
}

}  // namespace pitr::tools
