#pragma once
// Removes the blocks no backup uses any more (mark and sweep), safe against a backup taken at
// the same time, which may count on blocks that look unused:
//   1. mark: the blocks every complete backup uses ("live");
//   2. repack: a pack with a large share of blocks no backup uses has its live blocks
//      copied into new packs; it is then doomed like a pack no backup uses at all;
//   3. condemn: blocks/condemned/<pack>.json for each doomed pack; a backup that loads the
//      block index from then on leaves condemned packs out (it stores such a block again);
//   4. if any backup is in progress it may have loaded the index before step 3: stop here,
//      the packs stay condemned until a run with no backup in progress;
//   5. mark again for the backups completed since step 1 (they finished before step 4
//      looked); a doomed pack holding a live block found in no other pack is revived (its
//      mark removed);
//   6. delete each pack still doomed: pack, then index, then mark.
// Every run revives condemned packs the same way (a backup in progress during step 4 may
// have completed since, counting on them). Two sweeps must not run at once.
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "archive/block_store/block_reader.hpp"

namespace pitr::archive {

using LiveBlocks = std::unordered_set<BlockId>;

struct SweepHooks {
  // Adds the blocks of every complete backup not in `skip` to `live`, and the backup's id to
  // `seen`. Reads list blocks through `reader` (condemned packs included).
  std::function<void(const BlockReader& reader, const std::set<std::string>& skip,
                     std::set<std::string>& seen, LiveBlocks& live)>
      mark;
  // The backups being written (step 4), by id; none when none is.
  std::function<std::vector<std::string>()> backups_in_progress;
};

struct SweepOptions {
  bool dry_run = false;
  // Repack a pack once at least this share of its stored bytes is unused.
  double repack_unused_share = 0.2;
  int compression_level = 1;  // of repacked blocks
};

struct SweepReport {
  std::size_t packs = 0;
  std::vector<std::string> doomed;   // deleted, or (dry run, deferred) to be deleted
  std::uint64_t doomed_bytes = 0;    // their size
  std::size_t repacked = 0;          // doomed packs whose live blocks were copied first
  std::uint64_t repacked_bytes = 0;  // stored by the copying (or, dry run, that would be)
  std::size_t revived = 0;
  // Backups that were in progress: the doomed packs stay condemned (deferred) because of them.
  std::vector<std::string> deferred_by;
  bool deferred() const { return !deferred_by.empty(); }
};

SweepReport sweep_blocks(storage::ObjectStore& store, const SweepHooks& hooks,
                         const SweepOptions& options);

}  // namespace pitr::archive
