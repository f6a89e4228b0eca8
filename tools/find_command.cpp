// pitr find: the archived transactions that match, one per line.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "formats/iso_time.hpp"
#include "replay/transaction_finder.hpp"
#include "tools/archive_options.hpp"
#include "tools/commands.hpp"
#include "tools/usage_error.hpp"

namespace pitr::tools {
namespace {

struct FindArgs {
  ArchiveArgs archive;
  std::optional<std::string> since, until, source_id;
  std::vector<std::string> matches;
  bool json = false;
  std::optional<std::size_t> limit;
};

std::string describe(const replay::TableChange& c) {
  if (!c.statement.empty())
    return fmt::format("{}: {}", replay::change_kind_name(c.kind), c.statement);
  auto rows = c.rows ? fmt::format("{} row{}", *c.rows, *c.rows == 1 ? "" : "s") : "rows";
  return fmt::format("{} {} ({})", replay::change_kind_name(c.kind), c.table, rows);
}

nlohmann::json to_json(const replay::TransactionRecord& t) {
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& c : t.changes) {
    nlohmann::json j = {{"kind", replay::change_kind_name(c.kind)}, {"table", c.table}};
    j["rows"] = c.rows ? nlohmann::json(*c.rows) : nlohmann::json(nullptr);
    if (!c.statement.empty()) j["statement"] = c.statement;
    changes.push_back(j);
  }
  return {{"commit_time", format_iso_time(t.commit_time)},
          {"commit_unix", t.commit_time},
          {"gtid", t.gtid ? nlohmann::json(*t.gtid) : nlohmann::json(nullptr)},
          {"source", t.source_id},
          {"file", t.file},
          {"pos", t.start},
          {"end_pos", t.end},
          {"changes", changes}};
}

int run_find(const FindArgs& a) {
  std::vector<replay::ChangeMatch> matches;
  for (const auto& m : a.matches) matches.push_back(replay::ChangeMatch::parse(m));
  auto since = parse_time_option("--since", a.since);
  auto until = parse_time_option("--until", a.until);
  archive::BinlogArchive catalog(open_archive(a.archive, SpoolUse::kOptional));
  std::size_t found = 0;
  replay::for_each_transaction(catalog, [&](const replay::TransactionRecord& t) {
    if (a.source_id && t.source_id != *a.source_id) return true;
    if (since && t.commit_time < *since) return true;
    if (until && t.commit_time > *until) return true;
    bool hit = matches.empty();
    for (const auto& m : matches)
      for (const auto& c : t.changes) hit = hit || m.matches(c);
    if (!hit) return true;
    if (a.json) {
      fmt::print("{}\n", to_json(t).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
      std::string what;
      for (const auto& c : t.changes) what += (what.empty() ? "" : "; ") + describe(c);
      fmt::print("{}  {}  {}:{}  {}\n", format_iso_time(t.commit_time), t.gtid.value_or("-"),
                 t.file, t.start, what);
    }
    return !a.limit || ++found < *a.limit;
  });
  return kExitOk;
}

}  // namespace

CommandRunner add_find_command(CLI::App& app) {
  auto a = std::make_shared<FindArgs>();
  auto* cmd = app.add_subcommand(
      "find",
      "List the archived transactions that match: commit time, GTID, binlog file:pos of the "
      "transaction's start, and what it changed");
  add_archive_options(cmd, a->archive, SpoolUse::kOptional);
  cmd->add_option("--since", a->since,
                  "Only transactions committed at or after this time "
                  "(ISO 8601; UTC unless an offset is given)");
  cmd->add_option("--until", a->until, "Only transactions committed at or before this time");
  cmd->add_option("--match", a->matches,
                  "KIND[:DB.TABLE], KIND one of insert, update, delete, ddl, drop, truncate, "
                  "any; TABLE may be *. Repeat for several; a transaction matching any is "
                  "listed");
  cmd->add_option("--source-id", a->source_id, "Only this source's transactions");
  cmd->add_option("--limit", a->limit, "Stop after this many transactions");
  cmd->add_flag("--json", a->json, "One JSON object per transaction");
  return [a] { return run_find(*a); };
}

}  // namespace pitr::tools
