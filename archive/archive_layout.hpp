#pragma once
// Every key of an archive, built in one place (see docs/archive-format.md). Keys are
// '/'-separated names inside the archive's store; the open tails of capture live under the
// same names in the local spool directory.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "formats/postgres/lsn.hpp"

namespace pitr::archive {

namespace fs = std::filesystem;

// 2: the archive is encrypted (its marker says with which key); otherwise as 1.
inline constexpr int kArchiveFormatVersion = 2;

namespace layout {

inline constexpr const char* kMarker = "pitr-archive.json";
inline constexpr const char* kFormatDescriptionName = "format-description.bin";
inline constexpr const char* kManifestName = "manifest.json";
// In the spool: flock(2)ed by the one capture writing through it.
inline constexpr const char* kCaptureLock = "capture.lock";

// Binlog: binlog/<source>/<file>/<start:016d>.seg.zst (sealed) or .partial (spool).
std::string binlog_prefix();
std::string source_prefix(const std::string& source_id);
std::string log_prefix(const std::string& source_id, const std::string& file);
std::string segment(const std::string& source_id, const std::string& file, std::uint64_t start);
std::string partial(const std::string& source_id, const std::string& file, std::uint64_t start);
// The FORMAT_DESCRIPTION_EVENT of a file archived from its middle (the archived part does
// not hold it), as the server re-sent it.
std::string format_description(const std::string& source_id, const std::string& file);
bool is_segment_name(const std::string& name);
bool is_partial_name(const std::string& name);
std::uint64_t start_of(const std::string& name);

// gaps/<nanoseconds>.json
std::string gaps_prefix();
std::string gap(std::int64_t detected_ns);

// backups/<id>/<file>
std::string backups_prefix();
std::string backup_prefix(const std::string& id);
std::string backup_file(const std::string& id, const std::string& file);

// PostgreSQL: wal/<source>/source.json, <WAL file>.zst, <WAL file>.partial.zst (sealed),
// <WAL file>.partial (spool), <TLI>.history, <WAL file>.summary.zst (a sealed segment's block
// changes, formats/postgres/wal_summary.hpp).
std::string wal_prefix();
std::string wal_source_prefix(const std::string& source_id);
std::string wal_source_record(const std::string& source_id);
std::string sealed_wal(const std::string& source_id, const std::string& file, bool complete);
std::string open_wal(const std::string& source_id, const std::string& file);
std::string wal_history(const std::string& source_id, postgres::TimelineId timeline);
std::string wal_summary(const std::string& source_id, const std::string& file);

// leases/capture/<generation:016d>.json: the lease of the one capture writing an archive in
// object storage (archive/capture_lease.hpp).
std::string capture_leases_prefix();
std::string capture_lease(std::uint64_t generation);

// catalogs/binlog/<source>/<hash>.json.zst, catalogs/wal/<source>/<hash>.json.zst: the index
// records of many sealed objects in one (archive/record_catalog.hpp).
std::string binlog_catalogs_prefix();
std::string binlog_catalog_prefix(const std::string& source_id);
std::string wal_catalog_prefix(const std::string& source_id);

// The block store (archive/block_store/): blocks/packs/<pack>.pack holds blocks,
// blocks/index/<pack>.idx says which; <pack> is 32 hex digits.
std::string block_packs_prefix();
std::string block_indexes_prefix();
std::string block_pack(const std::string& pack);
std::string block_pack_index(const std::string& pack);
// blocks/condemned/<pack>.json: a pack retention found unused and will delete (see
// archive/block_store/block_sweep.hpp); new backups do not use its blocks.
std::string block_condemned_prefix();
std::string block_condemned(const std::string& pack);
// The <pack> of a key listed under one of these prefixes; none for any other key.
std::optional<std::string> pack_name_of(const std::string& key);

// The last component of a key.
std::string base_name(const std::string& key);

// Keys read back from a listing, split where the layout above builds them:
// "<prefix><first>/<rest>" into first and rest (rest may hold further '/'), if it has that form.
struct KeyUnder {
  std::string first, rest;
};
std::optional<KeyUnder> split_under(const std::string& prefix, const std::string& key);
// binlog/<source>/<file>/<name>
struct LogKey {
  std::string source_id, file, name;
};
std::optional<LogKey> parse_log_key(const std::string& key);

}  // namespace layout

// A name that is safe as one key component (binlog names, source ids).
void check_path_component(const std::string& name, const char* what);

}  // namespace pitr::archive
