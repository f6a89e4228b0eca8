#pragma once
// pitr restore --pgdata: the PostgreSQL restore (base backup, recovery settings, and
// optionally the server started and waited for until it is promoted).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/archive_options.hpp"

namespace pitr::tools {

struct PgRestoreArgs {
  ArchiveArgs archive;
  std::string pgdata, source_id;
  std::optional<std::string> to_time, to_lsn, to_name, backup;
  std::optional<std::uint32_t> to_xid, timeline;
  bool immediate = false, start = false, dry_run = false;
  std::optional<std::uint16_t> port;        // default 5432
  std::string run_as;                       // default when root: postgres
  std::vector<std::string> tablespace_map;  // OLD=NEW
};

int run_pg_restore(const PgRestoreArgs& args);

}  // namespace pitr::tools
