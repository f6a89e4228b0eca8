#pragma once
// Turns a restore plan into a PostgreSQL data directory ready for recovery: the base
// backup's archives extracted (tablespaces where the map says), recovery.signal, and the
// recovery settings with `pitr wal-fetch` as restore_command. Optionally starts the server
// and waits until recovery has reached the target and the server is promoted.
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "replay/postgres/pg_restore_plan.hpp"

namespace pitr::replay {

struct PgDataOptions {
  std::filesystem::path pgdata;
  std::map<std::string, std::string> tablespace_map;  // source location → new location
  std::string restore_command;                        // the full shell command line
  std::string run_as;  // OS user that owns the files and runs the server (root only)
  bool progress = false;
};

struct PgDataResult {
  std::uint64_t files = 0;
  std::string pg_version;  // from PG_VERSION, e.g. "15"
};

// Throws when pgdata (or a tablespace location) exists and is not empty.
PgDataResult write_restored_pgdata(const archive::Archive& archive, const PgRestorePlan& plan,
                                   const PgDataOptions& options);

struct PgServerStart {
  std::filesystem::path pgdata;
  std::string pg_version;
  std::uint16_t port = 5432;
  std::string run_as;
  std::chrono::seconds timeout{3600};
  bool progress = false;
};

// Starts the server and waits for promotion; returns the server log's line saying where
// recovery stopped. Throws with the end of the server log when recovery fails.
std::string start_restored_server(const PgServerStart& options);

// Writes `content` to `path` durably, readable only by `run_as` (or the caller when empty).
void write_private_file(const std::filesystem::path& path, const std::string& content,
                        const std::string& run_as);

// A shell word: 'text' with single quotes escaped.
std::string shell_quote(const std::string& text);

}  // namespace pitr::replay
