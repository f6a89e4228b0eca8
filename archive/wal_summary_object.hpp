#pragma once
// A sealed WAL segment's summary (formats/postgres/wal_summary.hpp) as an object of the
// archive: zstd-compressed, next to the segment (archive/wal_archive.hpp). It is derived
// data: capture writes it after the segment, may be stopped before it does, and an
// incremental backup that finds none, or a damaged one, reads the segment itself.
#include <string>

#include "archive/storage/object_store.hpp"
#include "formats/postgres/wal_summary.hpp"

namespace pitr::archive {

// Stores `summary` under `key`, replacing an older one (a summary only describes bytes that
// never change, so two runs can only improve on each other).
void store_wal_summary(storage::ObjectStore& store, const std::string& key,
                       const postgres::WalSegmentSummary& summary);

// The summary under `key`. Throws IoError when it is damaged or describes other bytes than
// the segment whose SHA-256 is `segment_sha256`.
postgres::WalSegmentSummary read_wal_summary(const storage::ObjectStore& store,
                                             const std::string& key,
                                             const std::string& segment_sha256);

}  // namespace pitr::archive
