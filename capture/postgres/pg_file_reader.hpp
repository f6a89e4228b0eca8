#pragma once
// Reads a PostgreSQL server's data directory over an ordinary SQL session: pg_ls_dir and
// pg_stat_file to list it, pg_read_binary_file for byte ranges, many ranges per query and
// results in binary (a role needs EXECUTE on exactly these functions; docs/cli.md).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "capture/postgres/pg_connection.hpp"
#include "formats/byte_cursor.hpp"

namespace pitr::capture {

struct DataDirEntry {
  std::string path;  // relative to the data directory, '/' between components
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // seconds since the epoch
  bool is_directory = false;
};

// Every file and directory under the data directory (through tablespace links), parents
// before what they hold. What vanished while it was listed is not there.
std::vector<DataDirEntry> list_data_directory(PgConnection& conn);

struct FileRange {
  std::string path;
  std::uint64_t offset = 0, length = 0;
};

// Each range's bytes, in order: shorter at the end of the file, none when the file is gone.
// They stay in the query's result (no copy of megabytes per query).
struct FileRangesRead {
  PgResult result;
  std::vector<std::optional<Bytes>> ranges;
};
FileRangesRead read_file_ranges(PgConnection& conn, const std::vector<FileRange>& ranges);

// A PostgreSQL array literal of text values, quoted for any content.
std::string text_array_literal(const std::vector<std::string>& values);

}  // namespace pitr::capture
