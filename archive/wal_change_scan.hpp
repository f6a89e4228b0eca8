#pragma once
// Reads what the archived WAL between two LSNs of one timeline changed into a change map
// (formats/postgres/wal_changes.hpp): what an incremental PostgreSQL backup compares with
// its parent. Whole chunks of sealed segments come from their summaries
// (archive/wal_summary_object.hpp); the chunks at the range's two ends, and any without a
// usable summary, are decoded from the WAL itself.
#include <optional>
#include <string>
#include <vector>

#include "archive/wal_archive.hpp"
#include "formats/postgres/wal_changes.hpp"

namespace pitr::archive {

struct WalChangeScan {
  std::optional<postgres::WalChanges> changes;  // none when the WAL is not whole
  std::string missing;                          // then: what is missing, for the user
  std::uint64_t summarized_bytes = 0;           // WAL whose changes came from summaries
  std::uint64_t decoded_bytes = 0;              // WAL decoded record by record
  std::vector<std::string> warnings;            // summaries that could not be used, and why
};

// The records that start in [from, to) on `timeline` (`from` and `to` are record
// boundaries, as a backup's start is). Every segment the range touches must be archived
// (sealed or in the spool), and the WAL must reach `to`.
WalChangeScan scan_wal_changes(const WalSourceListing& source, TimelineId timeline, Lsn from,
                               Lsn to);

}  // namespace pitr::archive
