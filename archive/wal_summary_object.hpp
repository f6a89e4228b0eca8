#pragma once
// A sealed WAL segment's summary (formats/postgres/wal_summary.hpp) as an object of the
// archive: zstd-compressed, next to the segment (archive/wal_archive.hpp). It is derived
// data: capture writes it after the segment, may be stopped before it does, and an
// incremental backup that finds none, or a damaged one, reads the segment itself.
#include <string>

#include "archive/storage/object_store.hpp"
#include "archive/wal_archive.hpp"
#include "formats/postgres/wal_summary.hpp"

namespace pitr::archive {

// Stores `summary` under `key`, replacing an older one (a summary only describes bytes that
// never change, so two runs can only improve on each other).
void store_wal_summary(storage::ObjectStore& store, const std::string& key,
                       const postgres::WalSegmentSummary& summary);

// The summary under `key` of `segment`. Throws IoError when it is damaged or describes
// another segment or other bytes (its place, size or SHA-256 differ).
postgres::WalSegmentSummary read_wal_summary(const storage::ObjectStore& store,
                                             const std::string& key,
                                             const WalSegmentRecord& segment);

}  // namespace pitr::archive
