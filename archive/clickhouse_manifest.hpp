#pragma once
// pitr's manifest of a ClickHouse backup (backups/<id>/manifest.json): every database and
// table with its DDL, and for MergeTree tables every active part with the identity of its
// content. The files of each distinct part (and the exports of Log-family tables) are in one
// member list over the block store beside it, "parts.blocks.json.zst", named
// "<part identity>/<file>" and "export/<n>". A part whose identity an earlier backup stored
// is taken from that backup's list by id: nothing is read or stored again.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "archive/archive.hpp"

namespace pitr::archive {

inline constexpr const char* kClickHouseBackupFormat = "pitr-clickhouse-backup";
inline constexpr const char* kClickHousePartsName = "parts.blocks.json.zst";
// Part files are cut into blocks of this size (they are compressed: whole parts dedupe, not
// pieces of them); recorded in each manifest as "file_block".
inline constexpr std::size_t kClickHouseFileBlock = 1u << 20;

struct ClickHousePart {
  std::string name;  // as the server named it, e.g. "202401_3_3_0"
  std::string partition_id;
  std::int64_t min_block = 0, max_block = 0;
  std::uint32_t level = 0;
  std::uint64_t rows = 0, bytes = 0;
  // SHA-256 of its checksums.txt and columns.txt: what the part holds, whatever its name.
  std::string identity;
  std::uint64_t content_hash = 0;  // the server's sum of row hashes (ClickHouseTable)
};

struct ClickHouseTable {
  std::string database, name, engine;
  // "merge_tree" (parts), "export" (rows exported in Native format), "view" (DDL only:
  // views, materialized views, dictionaries), or "ddl" (an engine whose data pitr does not
  // keep: Memory, Buffer, Distributed, ...).
  std::string kind;
  std::string create;  // system.tables.create_table_query
  std::uint64_t rows = 0;
  // sum(cityHash64(toString(tuple(columns...)))) over the rows, modulo 2^64: NULL-safe, and
  // the sum of the parts' hashes.
  std::uint64_t content_hash = 0;
  // The count-and-hash expression over its columns (clients/clickhouse/table_hash.hpp) the
  // parts' hashes were computed with: a later backup reuses them only while it is the same.
  std::string hash_expression;
  // Replacing and Collapsing tables: rows and hash of SELECT ... FINAL over the parts kept,
  // which depend on the parts' order as well as their rows.
  std::optional<std::uint64_t> final_rows, final_hash;
  std::vector<ClickHousePart> parts;  // merge_tree
  std::string export_member;          // export: its member's name
};

struct ClickHouseDatabase {
  std::string name, engine;
};

// A dictionary's configuration file (system.dictionaries.origin), kept whole: its source's
// data (a file, another server) is not.
struct ClickHouseDictionaryFile {
  std::vector<std::string> names;  // the dictionaries it defines
  std::string origin;              // its path on the source
  std::string member;              // "dictionaries/<n>" in the member list
};

struct ClickHouseBackupManifest {
  std::string id, source_id, server_version;
  std::string type = "full", parent;             // parent: the backup parts were compared with
  std::int64_t started_at = 0, finished_at = 0;  // Unix µs
  std::vector<ClickHouseDatabase> databases;
  std::vector<ClickHouseTable> tables;
  std::vector<ClickHouseDictionaryFile> dictionaries;
  // What this backup found against its parent: parts unchanged, new, and gone.
  std::uint64_t parts_unchanged = 0, parts_new = 0, parts_gone = 0;
  std::uint64_t bytes_read = 0, stored_bytes = 0;  // files read, and compressed bytes new
  std::size_t file_block = kClickHouseFileBlock;
};

std::string clickhouse_manifest_json(const ClickHouseBackupManifest& manifest);
ClickHouseBackupManifest read_clickhouse_manifest(const Archive& archive, const std::string& id);
// Complete ClickHouse backups, oldest first.
std::vector<ClickHouseBackupManifest> list_clickhouse_backups(const Archive& archive);

}  // namespace pitr::archive
