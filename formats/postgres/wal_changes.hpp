#pragma once
// What the WAL between two LSNs says about a cluster's relation files, record by record:
// for each relation fork the blocks that changed, and the shortest length the fork had in
// the range (0 once created or dropped, the new length after a truncation), as PostgreSQL
// 17's WAL summarizer keeps it (src/common/blkreftable.c) but built from archived WAL, so it
// works on 15 and 16. A backup compared with an earlier one takes from the server the
// changed blocks, every block at or past the shortest length, and whole what this map cannot
// speak for: free space maps and visibility maps (not reliably WAL-logged), databases created
// or dropped in the range (their files are copied without per-block WAL), and everything when
// the range ran at wal_level=minimal. (The research behind these rules, record by record, is
// summarized in docs/design-notes.md, "Incremental PostgreSQL backups from WAL".)
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "formats/postgres/wal_record.hpp"

namespace pitr::postgres {

class WalChanges {
 public:
  // Applies one record of the range, in WAL order. Throws DecodeError for a record whose
  // main data is too short for what its type says it holds.
  void add(const WalRecordParts& record);

  struct ForkChanges {
    std::vector<std::uint32_t> blocks;   // sorted, unique (after blocks_of)
    std::optional<std::uint32_t> limit;  // shortest length in blocks, when it was cut
  };
  // The fork's changes, or none when no record touched it.
  const ForkChanges* changes(const RelFile& file, Fork fork);
  // A database created or dropped in the range (its files are taken whole).
  bool database_replaced(std::uint32_t spc, std::uint32_t db) const {
    return replaced_databases_.contains({spc, db});
  }
  // wal_level=minimal was in force somewhere in the range: relation files may have been
  // written without WAL, so nothing can be compared.
  bool minimal_wal_seen() const { return minimal_wal_; }
  // A record changed relation files in a way its block references do not tell and this map
  // does not know (XLR_SPECIAL_REL_UPDATE from a custom or newer resource manager).
  bool unknown_file_change_seen() const { return unknown_file_change_; }
  std::uint64_t records() const { return records_; }

  // The same forks, blocks, limits, databases and flags (the record counts aside).
  bool operator==(const WalChanges& other) const;

  // Applies `later`, the map of the WAL that follows this map's, as if its records had been
  // added here one by one.
  void append(const WalChanges& later);

  // What a map holds, for storing it (formats/postgres/wal_summary.hpp) and building it
  // back: every fork touched, its blocks sorted and unique.
  void for_each_fork(
      const std::function<void(const RelFile&, Fork, const ForkChanges&)>& visit) const;
  const std::set<std::pair<std::uint32_t, std::uint32_t>>& replaced_databases() const {
    return replaced_databases_;
  }
  // The fork was at most `limit` blocks long at this point of the WAL.
  void cut(const RelFile& file, Fork fork, std::uint32_t limit);
  void add_block(const RelFile& file, Fork fork, std::uint32_t block);
  void replace_database(std::uint32_t spc, std::uint32_t db) {
    replaced_databases_.insert({spc, db});
  }
  void mark_minimal_wal() { minimal_wal_ = true; }
  void mark_unknown_file_change() { unknown_file_change_ = true; }

 private:
  void add_xlog(const WalRecordParts& r);
  void add_smgr(const WalRecordParts& r);
  void add_xact(const WalRecordParts& r);
  void add_dbase(const WalRecordParts& r);

  struct Entry {
    ForkChanges changes;
    std::size_t sorted = 0;  // blocks[0, sorted) are sorted and unique
  };
  // mutable: blocks are sorted lazily, also by readers
  mutable std::map<std::pair<RelFile, Fork>, Entry> forks_;
  std::set<std::pair<std::uint32_t, std::uint32_t>> replaced_databases_;
  bool minimal_wal_ = false;
  bool unknown_file_change_ = false;
  std::uint64_t records_ = 0;
};

}  // namespace pitr::postgres
