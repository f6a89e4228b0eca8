#include "capture/postgres/pg_file_reader.hpp"

#include <fmt/format.h>

namespace pitr::capture {
namespace {

// One query walks the tree: a directory's entries are stat'ed as they are listed, and
// directories are listed in turn (pg_stat_file follows tablespace links). Byte order puts a
// directory before what it holds.
constexpr const char* kListQuery = R"(
WITH RECURSIVE tree(path, size, mtime, isdir) AS (
  SELECT n, s.size, s.modification, s.isdir
    FROM pg_ls_dir('.', false, false) AS n, pg_stat_file(n, true) AS s
   WHERE s.isdir IS NOT NULL
  UNION ALL
  SELECT t.path || '/' || n, s.size, s.modification, s.isdir
    FROM tree AS t, pg_ls_dir(t.path, true, false) AS n, pg_stat_file(t.path || '/' || n, true) AS s
   WHERE t.isdir AND s.isdir IS NOT NULL
)
SELECT path, size, extract(epoch FROM mtime)::bigint, isdir FROM tree ORDER BY path COLLATE "C")";

constexpr const char* kReadQuery = R"(
SELECT pg_read_binary_file(r.path, r.off, r.len, true)
  FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS r(path, off, len, i)
 ORDER BY r.i)";

std::string number_array(const std::vector<std::uint64_t>& values) {
  return fmt::format("{{{}}}", fmt::join(values, ","));
}

}  // namespace

std::string text_array_literal(const std::vector<std::string>& values) {
  std::string out = "{";
  for (const auto& v : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::vector<DataDirEntry> list_data_directory(PgConnection& conn) {
  auto r = conn.query(kListQuery, {}, false, "listing the data directory (pg_ls_dir)");
  std::vector<DataDirEntry> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    DataDirEntry e;
    e.path = PQgetvalue(r.get(), i, 0);
    e.size = std::stoull(PQgetvalue(r.get(), i, 1));
    e.mtime = std::stoll(PQgetvalue(r.get(), i, 2));
    e.is_directory = PQgetvalue(r.get(), i, 3)[0] == 't';
    out.push_back(std::move(e));
  }
  return out;
}

FileRangesRead read_file_ranges(PgConnection& conn, const std::vector<FileRange>& ranges) {
  std::vector<std::string> paths;
  std::vector<std::uint64_t> offsets, lengths;
  for (const auto& r : ranges) {
    paths.push_back(r.path);
    offsets.push_back(r.offset);
    lengths.push_back(r.length);
  }
  auto r = conn.query(kReadQuery,
                      {text_array_literal(paths), number_array(offsets), number_array(lengths)},
                      true, fmt::format("reading {} (pg_read_binary_file)", ranges.front().path));
  if (PQntuples(r.get()) != static_cast<int>(ranges.size()))
    throw PgError(fmt::format("pg_read_binary_file on {}: {} ranges asked, {} answered",
                              conn.describe(), ranges.size(), PQntuples(r.get())),
                  "");
  FileRangesRead out{nullptr, std::vector<std::optional<Bytes>>(ranges.size())};
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    if (PQgetisnull(r.get(), i, 0)) continue;
    const auto* data = reinterpret_cast<const std::uint8_t*>(PQgetvalue(r.get(), i, 0));
    auto length = static_cast<std::size_t>(PQgetlength(r.get(), i, 0));
    if (length > ranges[static_cast<std::size_t>(i)].length)
      throw PgError(
          fmt::format("pg_read_binary_file on {} answered {} bytes for a range of {}",
                      conn.describe(), length, ranges[static_cast<std::size_t>(i)].length),
          "");
    out.ranges[static_cast<std::size_t>(i)].emplace(data, length);
  }
  out.result = std::move(r);
  return out;
}

}  // namespace pitr::capture
