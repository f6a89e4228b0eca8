#pragma once
// pitr restore of a ClickHouse backup onto a server, run on that server's host: databases
// that do not exist there (or exist and hold no table), then their tables (not the `.inner.`
// tables of materialized views), materialized views (which create those), and views; each
// part's files written into the table's detached/ under a temporary name from blocks checked
// against their ids, given to the server's OS user, renamed, and attached with ATTACH PART
// in (partition, min block) order; exported tables loaded back; dictionary files written into
// the target's dictionaries directory before Dictionary tables are created. Each table's rows and
// content hash are then checked against the backup's (and SELECT ... FINAL's too for Replacing
// and Collapsing tables). A restore that fails drops what it created.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "archive/archive.hpp"
#include "archive/clickhouse_manifest.hpp"
#include "clients/clickhouse/clickhouse_client.hpp"

namespace pitr::replay {

struct ClickHouseRestoreOptions {
  clients::ClickHouseEndpoint target;
  archive::Archive archive;
  std::optional<std::string> backup_id;  // default: the newest ClickHouse backup
  std::vector<std::string> databases;    // the backup's names; default: all it holds
  // OLD → NEW: restore database OLD of the backup as NEW, every DDL that names it rewritten
  // (formats/clickhouse/ddl_rename.hpp).
  std::map<std::string, std::string> rename;
  // The target's dictionaries_config directory: the backup's dictionary files are written
  // there before Dictionary tables are created. Without it they are listed and skipped.
  std::optional<std::filesystem::path> dictionaries_dir;
};

struct ClickHouseRestoreResult {
  std::string backup_id;
  std::size_t databases = 0, tables = 0, parts = 0;
  std::uint64_t rows = 0, bytes = 0;
};

ClickHouseRestoreResult restore_clickhouse(const ClickHouseRestoreOptions& options);

}  // namespace pitr::replay
