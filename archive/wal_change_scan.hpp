#pragma once
// Reads the archived WAL between two LSNs of one timeline into a change map
// (formats/postgres/wal_changes.hpp): what an incremental PostgreSQL backup compares with
// its parent.
#include <optional>
#include <string>

#include "archive/wal_archive.hpp"
#include "formats/postgres/wal_changes.hpp"

namespace pitr::archive {

struct WalChangeScan {
  std::optional<postgres::WalChanges> changes;  // none when the WAL is not whole
  std::string missing;                          // then: what is missing, for the user
};

// The records that start in [from, to) on `timeline`. Every segment the range touches must be
// archived (sealed or in the spool), and the WAL must reach `to`.
WalChangeScan scan_wal_changes(const WalSourceListing& source, TimelineId timeline, Lsn from,
                               Lsn to);

}  // namespace pitr::archive
