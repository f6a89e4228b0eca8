#pragma once
// pitr backup for ClickHouse, run on the server's host (it reads the server's data path,
// learned from the server): every database's and table's DDL; MergeTree-family tables frozen
// (ALTER TABLE ... FREEZE WITH NAME) with their merges stopped for the moment, and each part
// in the shadow stored once by its content identity (archive/clickhouse_manifest.hpp), its
// rows counted and hashed by the server when it is new; Log-family and Memory tables exported
// in Native format; views, materialized views and dictionaries as DDL. The shadow is removed
// afterwards, and shadows of earlier runs that died are removed first.
#include <string>
#include <vector>

#include "archive/archive.hpp"
#include "archive/clickhouse_manifest.hpp"
#include "clients/clickhouse/clickhouse_client.hpp"

namespace pitr::capture {

struct ClickHouseBackupOptions {
  clients::ClickHouseEndpoint endpoint;
  archive::Archive archive;
  std::vector<std::string> databases;  // empty: all but system (and an empty default)
  // "full", "diff" or "incr": parts are stored by content either way, so the type only names
  // which backup the report compares with (the last full, or the last backup).
  std::string type = "full";
  int compression_level = 1;
  std::size_t pack_bytes = 16u << 20;
};

archive::ClickHouseBackupManifest take_clickhouse_backup(const ClickHouseBackupOptions& options);

}  // namespace pitr::capture
