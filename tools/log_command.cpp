// pitr log: the archived binlog's changes row by row, as JSON lines or text.
#include <fmt/format.h>

#include <set>

#include "formats/binlog/row_sql.hpp"
#include "formats/iso_time.hpp"
#include "formats/json_text.hpp"
#include "replay/change_log.hpp"
#include "tools/archive_options.hpp"
#include "tools/commands.hpp"
#include "tools/usage_error.hpp"

namespace pitr::tools {
namespace {

struct LogArgs {
  ArchiveArgs archive;
  std::optional<std::string> since, until, source_id, gtid;
  std::vector<std::string> tables, types;
  std::string format = "json";
  std::optional<std::size_t> limit;
};

// The kinds --type names: insert, update, delete, ddl (which takes DROP and TRUNCATE too).
bool kind_wanted(const std::set<std::string>& types, replay::ChangeKind kind) {
  if (types.empty()) return true;
  auto name = std::string(replay::change_kind_name(kind));
  bool ddl = kind == replay::ChangeKind::kDdl || kind == replay::ChangeKind::kDrop ||
             kind == replay::ChangeKind::kTruncate;
  return types.contains(ddl ? "ddl" : name);
}

// The ISO form of a change's time: consecutive changes mostly share it.
const std::string& iso_time_of(std::uint32_t time) {
  static std::uint32_t last = 0;
  static std::string text = format_iso_time(0);
  if (time != last) {
    last = time;
    text = format_iso_time(time);
  }
  return text;
}

// One JSON object per line, written directly (formats/json_text.hpp).
std::string to_json(const replay::RowChange& c) {
  std::string out = "{\"gtid\":";
  if (c.gtid)
    append_json_string(out, *c.gtid);
  else
    out += "null";
  out += ",\"time\":\"";
  out += iso_time_of(c.time);
  out += "\",\"source\":";
  append_json_string(out, c.source_id);
  out += ",\"file\":";
  append_json_string(out, c.file);
  fmt::format_to(std::back_inserter(out),
                 ",\"position\":{},\"server_id\":{},\"database\":", c.position, c.server_id);
  auto text = [&](const std::string& s) {
    if (!append_json_string(out, s)) append_json_string(out, "(not UTF-8)");
  };
  text(c.database);
  out += ",\"table\":";
  text(c.table);
  fmt::format_to(std::back_inserter(out), ",\"kind\":\"{}\"", replay::change_kind_name(c.kind));
  if (!c.statement.empty()) {
    out += ",\"statement\":";
    text(c.statement);
  } else {
    out += ",\"before\":" + (c.before.empty() ? std::string("null") : c.before);
    out += ",\"after\":" + (c.after.empty() ? std::string("null") : c.after);
  }
  return out + "}";
}

std::string to_text(const replay::RowChange& c) {
  auto head =
      fmt::format("{}  {}  {}:{}  {} {}.{}", format_iso_time(c.time), c.gtid.value_or("-"), c.file,
                  c.position, replay::change_kind_name(c.kind), c.database, c.table);
  if (!c.statement.empty()) return head + "  " + c.statement;
  if (!c.before.empty()) head += "\n    before " + c.before;
  if (!c.after.empty()) head += "\n    after  " + c.after;
  return head;
}

int run_log(const LogArgs& a) {
  if (a.format != "json" && a.format != "text" && a.format != "sql")
    throw UsageError("--format wants json, text or sql, got '" + a.format + "'");
  auto since = parse_time_option("--since", a.since);
  auto until = parse_time_option("--until", a.until);
  std::set<std::string> types(a.types.begin(), a.types.end());
  for (const auto& t : types)
    if (t != "insert" && t != "update" && t != "delete" && t != "ddl")
      throw UsageError("--type wants insert, update, delete or ddl, got '" + t + "'");
  std::set<std::string> tables(a.tables.begin(), a.tables.end());
  for (const auto& t : tables)
    if (t.find('.') == std::string::npos)
      throw UsageError("--table wants DB.TABLE, got '" + t + "'");
  archive::BinlogArchive catalog(open_archive(a.archive, SpoolUse::kOptional));
  std::size_t shown = 0;
  if (a.format == "sql") fmt::print("{}\n", binlog::kRowSqlPreamble);
  replay::for_each_row_change(
      catalog,
      [&](const replay::RowChange& c) {
        if (a.source_id && c.source_id != *a.source_id) return true;
        if (since && c.time < *since) return true;
        if (until && c.time > *until) return true;
        if (a.gtid && c.gtid != *a.gtid) return true;
        if (!tables.empty() && !tables.contains(c.database + "." + c.table)) return true;
        if (!kind_wanted(types, c.kind)) return true;
        if (a.format == "json")
          fmt::print("{}\n", to_json(c));
        else if (a.format == "sql")
          fmt::print("{}\n", c.sql);
        else
          fmt::print("{}\n", to_text(c));
        return !a.limit || ++shown < *a.limit;
      },
      {}, a.format == "sql");
  return kExitOk;
}

}  // namespace

CommandRunner add_log_command(CLI::App& app) {
  auto a = std::make_shared<LogArgs>();
  auto* cmd = app.add_subcommand(
      "log",
      "The archived binlog's changes row by row: every inserted, updated and deleted row with "
      "its before and after images, and every DDL statement (docs/cli.md, \"pitr log\")");
  add_archive_options(cmd, a->archive, SpoolUse::kOptional);
  cmd->add_option("--since", a->since,
                  "Only changes at or after this time (ISO 8601; UTC unless an "
                  "offset is given)");
  cmd->add_option("--until", a->until, "Only changes at or before this time");
  cmd->add_option("--table", a->tables, "Only this DB.TABLE (repeat for several)");
  cmd->add_option("--type", a->types, "Only these kinds: insert, update, delete, ddl")
      ->delimiter(',');
  cmd->add_option("--gtid", a->gtid, "Only the changes of this transaction");
  cmd->add_option("--source-id", a->source_id, "Only this source's changes");
  cmd->add_option("--format", a->format,
                  "json (one object per line, default), text, or sql (statements that apply "
                  "the changes; needs binlog_row_metadata=FULL)");
  cmd->add_option("--limit", a->limit, "Stop after this many changes");
  return [a] { return run_log(*a); };
}

}  // namespace pitr::tools
