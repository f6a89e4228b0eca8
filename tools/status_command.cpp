// pitr status: what the archive holds.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "archive/backup_manifest.hpp"
#include "archive/binlog_archive.hpp"
#include "archive/clickhouse_manifest.hpp"
#include "archive/file_io.hpp"
#include "archive/partial_scan.hpp"
#include "archive/pg_backup_manifest.hpp"
#include "archive/wal_verify.hpp"
#include "formats/iso_time.hpp"
#include "tools/archive_options.hpp"
#include "tools/commands.hpp"

namespace pitr::tools {
namespace {

std::string iso_time(std::uint64_t unix_seconds) {
  if (unix_seconds == 0) return "-";
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(static_cast<std::time_t>(unix_seconds)));
}

struct SourceSummary {
  std::string source_id, first_file, last_file;
  std::size_t files = 0, segments = 0;
  std::uint64_t bytes = 0, stored_bytes = 0, events = 0, transactions = 0;
  std::uint32_t first_time = 0, last_time = 0;
  std::optional<std::string> first_gtid, last_gtid;
  std::uint64_t last_capture = 0;
  std::uint64_t open_tail_bytes = 0;
};

void add_counts(SourceSummary& s, const archive::SegmentRecord& r, std::uint64_t bytes) {
  s.bytes += bytes;
  s.events += r.events;
  s.transactions += r.transactions;
  if (r.first_time && (!s.first_time || r.first_time < s.first_time)) s.first_time = r.first_time;
  s.last_time = std::max(s.last_time, r.last_time);
  if (!s.first_gtid) s.first_gtid = r.first_gtid;
  if (r.last_gtid) s.last_gtid = r.last_gtid;
}

void add_partial(SourceSummary& s, const archive::ArchivedLog& log,
                 const archive::PartialFile& partial) {
  auto scan =
      archive::scan_partial(partial.read(), log.file, partial.start, log.format_description());
  archive::SegmentRecord r;
  scan.stats.fill(r);
  add_counts(s, r, scan.boundary - partial.start);
  s.open_tail_bytes += scan.boundary - partial.start;
  s.last_capture = std::max<std::uint64_t>(s.last_capture,
                                           static_cast<std::uint64_t>(partial.file->modified_at()));
}

std::vector<SourceSummary> summarize(const archive::BinlogArchive& catalog) {
  std::vector<SourceSummary> out;
  for (const auto& log : catalog.logs()) {
    if (out.empty() || out.back().source_id != log.source_id) {
      out.emplace_back();
      out.back().source_id = log.source_id;
      out.back().first_file = log.file;
    }
    auto& s = out.back();
    s.last_file = log.file;
    ++s.files;
    for (const auto& seg : log.segments) {
      ++s.segments;
      s.stored_bytes += seg.stored_bytes;
      add_counts(s, seg.record, seg.record.size());
      s.last_capture = std::max(s.last_capture, seg.record.sealed_at);
    }
    for (const auto& partial : log.partials) add_partial(s, log, partial);
  }
  return out;
}

nlohmann::json to_json(const SourceSummary& s) {
  nlohmann::json j = {{"source_id", s.source_id},
                      {"first_file", s.first_file},
                      {"last_file", s.last_file},
                      {"files", s.files},
                      {"segments", s.segments},
                      {"bytes", s.bytes},
                      {"stored_bytes", s.stored_bytes},
                      {"open_tail_bytes", s.open_tail_bytes},
                      {"events", s.events},
                      {"transactions", s.transactions},
                      {"first_event_time", iso_time(s.first_time)},
                      {"last_event_time", iso_time(s.last_time)},
                      {"last_capture_time", iso_time(s.last_capture)}};
  j["first_gtid"] = s.first_gtid ? nlohmann::json(*s.first_gtid) : nlohmann::json(nullptr);
  j["last_gtid"] = s.last_gtid ? nlohmann::json(*s.last_gtid) : nlohmann::json(nullptr);
  return j;
}

std::string pg_time(const std::optional<std::int64_t>& unix_us) {
  return unix_us ? format_postgres_time(*unix_us) : "-";
}

// The PostgreSQL side: WAL per timeline, base backups and the recoverable window.
nlohmann::json postgres_status(const archive::Archive& archive) {
  nlohmann::json out = nlohmann::json::array();
  auto backups = archive::list_pg_backups(archive);
  for (const auto& l : archive::list_wal_sources(archive)) {
    nlohmann::json s{{"source_id", l.source.source_id},
                     {"system_identifier", std::to_string(l.source.system_identifier)},
                     {"segment_size", l.source.segment_size},
                     {"timelines", nlohmann::json::array()},
                     {"backups", nlohmann::json::array()}};
    for (const auto& t : archive::summarize_wal(l))
      s["timelines"].push_back({{"timeline", t.timeline},
                                {"start_lsn", postgres::format_lsn(t.start)},
                                {"end_lsn", postgres::format_lsn(t.end)},
                                {"segments", t.segments},
                                {"commits_in_sealed_segments", t.commits},
                                {"first_commit_time", pg_time(t.first_commit_time)},
                                {"last_commit_time", pg_time(t.last_commit_time)},
                                {"missing_segments", t.holes}});
    std::optional<archive::PgBackupManifest> oldest;
    for (const auto& m : backups) {
      if (m.source_id != l.source.source_id) continue;
      if (!oldest) oldest = m;
      std::uint64_t bytes = 0, stored = 0;
      for (const auto& a : m.archives) {
        bytes += a.bytes;
        stored += a.stored_bytes;
      }
      s["backups"].push_back({{"id", m.id},
                              {"type", m.type},
                              {"method", "physical"},
                              {"parent", m.parent.empty() ? nullptr : nlohmann::json(m.parent)},
                              {"bytes", bytes},
                              {"stored_bytes", stored},
                              {"timeline", m.timeline},
                              {"start_lsn", postgres::format_lsn(m.start_lsn)},
                              {"end_lsn", postgres::format_lsn(m.end_lsn)},
                              {"consistent_at", format_postgres_time(m.finished_at)}});
    }
    if (oldest && !s["timelines"].empty())
      s["recoverable"] = {{"from", format_postgres_time(oldest->finished_at)},
                          {"from_lsn", postgres::format_lsn(oldest->end_lsn)},
                          {"to_lsn", s["timelines"].back()["end_lsn"]}};
    out.push_back(s);
  }
  return out;
}

void print_postgres_status(const nlohmann::json& sources) {
  for (const auto& s : sources) {
    fmt::print("PostgreSQL source {} (wal_segment_size {} MiB)\n",
               s["source_id"].get<std::string>(), s["segment_size"].get<std::uint64_t>() >> 20);
    for (const auto& t : s["timelines"]) {
      fmt::print("  timeline {:<7} WAL {} .. {} ({} segments), commits {} .. {}\n",
                 t["timeline"].get<int>(), t["start_lsn"].get<std::string>(),
                 t["end_lsn"].get<std::string>(), t["segments"].get<std::uint64_t>(),
                 t["first_commit_time"].get<std::string>(),
                 t["last_commit_time"].get<std::string>());
      for (const auto& h : t["missing_segments"])
        fmt::print("    missing {}\n", h.get<std::string>());
    }
    for (const auto& b : s["backups"])
      fmt::print(
          "  backup {}  {} {}, timeline {}, WAL {} .. {}, consistent at {}; {:.1f} MiB, "
          "{:.1f} MiB of it newly stored\n",
          b["id"].get<std::string>(), b["type"].get<std::string>(), b["method"].get<std::string>(),
          b["timeline"].get<int>(), b["start_lsn"].get<std::string>(),
          b["end_lsn"].get<std::string>(), b["consistent_at"].get<std::string>(),
          b["bytes"].get<std::uint64_t>() / 1048576.0,
          b["stored_bytes"].get<std::uint64_t>() / 1048576.0);
    if (s.contains("recoverable"))
      fmt::print("  recoverable      from {} ({}) to {}\n",
                 s["recoverable"]["from"].get<std::string>(),
                 s["recoverable"]["from_lsn"].get<std::string>(),
                 s["recoverable"]["to_lsn"].get<std::string>());
    else
      fmt::print("  recoverable      nothing yet: take a base backup with pitr backup\n");
  }
}

// A logical backup's SQL and what it takes in the archive.
std::pair<std::uint64_t, std::uint64_t> sizes_of(const archive::BackupManifest& m) {
  if (m.method == "physical") return {m.physical.bytes, m.physical.stored_bytes};
  std::uint64_t bytes = 0, stored = 0;
  for (const auto& f : m.files) {
    bytes += f.bytes;
    stored += f.stored_bytes;
  }
  return {bytes, stored};
}

// The MySQL/MariaDB side: binlog sources and their base backups.
void print_binlog_status(const std::vector<SourceSummary>& sources,
                         const std::vector<archive::BackupManifest>& backups) {
  for (auto& s : sources) {
    fmt::print("source {}\n", s.source_id);
    fmt::print("  binlog files     {} .. {} ({} files)\n", s.first_file, s.last_file, s.files);
    fmt::print("  events           {} from {} to {}\n", s.events, iso_time(s.first_time),
               iso_time(s.last_time));
    fmt::print("  transactions     {}\n", s.transactions);
    fmt::print("  GTIDs            {} .. {}\n", s.first_gtid.value_or("-"),
               s.last_gtid.value_or("-"));
    fmt::print(
        "  segments         {} sealed, {:.1f} MiB of binlog stored in {:.1f} MiB; open tail "
        "{:.1f} MiB\n",
        s.segments, s.bytes / 1048576.0, s.stored_bytes / 1048576.0, s.open_tail_bytes / 1048576.0);
    fmt::print("  last capture     {}\n", iso_time(s.last_capture));
  }
  fmt::print("base backups       {}\n", backups.empty() ? "none" : std::to_string(backups.size()));
  for (auto& m : backups) {
    auto [bytes, stored] = sizes_of(m);
    fmt::print(
        "  - {} of {}: {} {}, consistent at {}:{} ({}), GTID position '{}'; {:.1f} MiB "
        "of {} stored in {:.1f} MiB{}\n",
        m.id, m.source_id, m.type, m.method, m.binlog_file, m.binlog_position,
        iso_time(m.consistent_at), m.gtid_position, bytes / 1048576.0,
        m.method == "physical" ? "files" : "SQL", stored / 1048576.0,
        m.method == "physical" ? " new in the block store" : "");
  }
}

// ClickHouse backups: what each holds and what it stored.
nlohmann::json clickhouse_status(const archive::Archive& archive) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : archive::list_clickhouse_backups(archive)) {
    std::uint64_t rows = 0, parts = 0, tables = 0;
    for (const auto& t : m.tables) {
      rows += t.rows;
      parts += t.parts.size();
      tables += !t.name.starts_with(".inner.");
    }
    out.push_back({{"id", m.id},
                   {"source_id", m.source_id},
                   {"server_version", m.server_version},
                   {"type", m.type},
                   {"parent", m.parent.empty() ? nlohmann::json() : nlohmann::json(m.parent)},
                   {"finished_at", iso_time(m.finished_at / 1000000)},
                   {"databases", m.databases.size()},
                   {"tables", tables},
                   {"parts", parts},
                   {"rows", rows},
                   {"parts_unchanged", m.parts_unchanged},
                   {"parts_new", m.parts_new},
                   {"parts_gone", m.parts_gone},
                   {"stored_bytes", m.stored_bytes}});
  }
  return out;
}

void print_clickhouse_status(const nlohmann::json& backups) {
  if (!backups.empty()) fmt::print("ClickHouse backups\n");
  for (const auto& b : backups)
    fmt::print(
        "  - {} of {}: {}, taken {}; {} databases, {} tables, {} parts ({} new, {} unchanged, "
        "{} gone), {} rows; {:.1f} MiB newly stored\n",
        b["id"].get<std::string>(), b["source_id"].get<std::string>(), b["type"].get<std::string>(),
        b["finished_at"].get<std::string>(), b["databases"].get<std::size_t>(),
        b["tables"].get<std::uint64_t>(), b["parts"].get<std::uint64_t>(),
        b["parts_new"].get<std::uint64_t>(), b["parts_unchanged"].get<std::uint64_t>(),
        b["parts_gone"].get<std::uint64_t>(), b["rows"].get<std::uint64_t>(),
        b["stored_bytes"].get<std::uint64_t>() / 1048576.0);
}

int run_status(const ArchiveArgs& args, bool json) {
  auto archive = open_archive(args, SpoolUse::kOptional);
  archive::BinlogArchive catalog(archive);
  auto sources = summarize(catalog);
  auto gaps = catalog.gaps();
  auto backups = archive::list_backups(archive);
  if (json) {
    nlohmann::json j = {{"archive", archive.describe()},
                        {"sources", nlohmann::json::array()},
                        {"gaps", nlohmann::json::array()}};
    for (auto& s : sources) j["sources"].push_back(to_json(s));
    j["backups"] = nlohmann::json::array();
    for (auto& m : backups)
      j["backups"].push_back(
          {{"id", m.id},
           {"type", m.type},
           {"method", m.method},
           {"parent", m.parent.empty() ? nlohmann::json() : nlohmann::json(m.parent)},
           {"bytes", sizes_of(m).first},
           {"stored_bytes", sizes_of(m).second},
           {"source_id", m.source_id},
           {"binlog_file", m.binlog_file},
           {"binlog_position", m.binlog_position},
           {"gtid_position", m.gtid_position},
           {"consistent_at", iso_time(m.consistent_at)}});
    for (auto& g : gaps)
      j["gaps"].push_back({{"source_id", g.source_id},
                           {"after_file", g.after_file},
                           {"after_position", g.after_position},
                           {"wanted_file", g.wanted_file},
                           {"detected_at", iso_time(g.detected_at)},
                           {"error", g.server_error}});
    j["postgres"] = postgres_status(archive);
    j["clickhouse"] = clickhouse_status(archive);
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  fmt::print("archive {}\n", archive.describe());
  auto postgres = postgres_status(archive);
  bool mysql = !sources.empty() || !backups.empty();
  auto clickhouse = clickhouse_status(archive);
  if (!mysql && postgres.empty() && clickhouse.empty()) fmt::print("  (nothing archived yet)\n");
  if (mysql) print_binlog_status(sources, backups);
  fmt::print("gaps               {}\n", gaps.empty() ? "none" : std::to_string(gaps.size()));
  for (auto& g : gaps)
    fmt::print("  - {} after {}:{} ({}): {}\n", g.source_id, g.after_file, g.after_position,
               iso_time(g.detected_at), g.server_error);
  print_postgres_status(postgres);
  print_clickhouse_status(clickhouse);
  return kExitOk;
}

}  // namespace

CommandRunner add_status_command(CLI::App& app) {
  auto args = std::make_shared<ArchiveArgs>();
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("status",
                                 "Show what the archive holds: binlog files, GTIDs, WAL per "
                                 "timeline, base backups, the recoverable window and gaps");
  add_archive_options(cmd, *args, SpoolUse::kOptional);
  cmd->add_flag("--json", *json, "Machine-readable output");
  return [args, json] { return run_status(*args, *json); };
}

}  // namespace pitr::tools
