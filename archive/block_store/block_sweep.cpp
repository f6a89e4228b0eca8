#include "archive/block_store/block_sweep.hpp"

#include <chrono>
#include <nlohmann/json.hpp>

#include "archive/archive_layout.hpp"
#include "archive/block_store/block_writer.hpp"

namespace pitr::archive {
namespace {

void condemn(storage::ObjectStore& store, const std::string& pack) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  try {
    store.put_bytes(layout::block_condemned(pack),
                    as_bytes(nlohmann::json{{"condemned_at", now}}.dump() + "\n"),
                    storage::PutMode::kIfAbsent);
  } catch (const storage::StorageError& e) {
    if (e.kind() != storage::StorageErrorKind::kAlreadyExists) throw;
  }
}

class Sweep {
 public:
  Sweep(storage::ObjectStore& store, const SweepHooks& hooks, const SweepOptions& options)
      : store_(store),
        hooks_(hooks),
        options_(options),
        index_(
            BlockIndex::load(store, {.condemned = true, .pack_contents = true, .leave_out = {}})),
        reader_(store, index_) {}

  SweepReport run() {
    report_.packs = index_.pack_count();
    hooks_.mark(reader_, {}, seen_, live_);
    std::vector<std::uint32_t> repack;
    for (std::uint32_t p = 0; p < index_.pack_count(); ++p) {
      if (index_.condemned().contains(index_.pack_name(p))) {
        doomed_.push_back(p);
        continue;
      }
      auto [live, unused] = stored_bytes(p);
      if (live == 0) doomed_.push_back(p);
      if (live > 0 && unused >= options_.repack_unused_share * static_cast<double>(live + unused))
        repack.push_back(p);
    }
    if (options_.dry_run) {
      for (auto p : repack) {
        report_.repacked_bytes += stored_bytes(p).first;
        for (const auto& e : index_.entries_of(p))  // as if copied
          if (live_.contains(e.id)) copied_.insert(e.id);
      }
      report_.repacked = repack.size();
      doomed_.insert(doomed_.end(), repack.begin(), repack.end());
      keep_needed();
      return report();
    }
    copy_live_blocks(repack);
    doomed_.insert(doomed_.end(), repack.begin(), repack.end());
    keep_needed();
    for (auto p : doomed_) condemn(store_, index_.pack_name(p));
    all_doomed_marked_ = true;
    report_.deferred_by = hooks_.backups_in_progress();
    if (report_.deferred()) return report();
    std::set<std::string> since;
    hooks_.mark(reader_, seen_, since, live_);
    keep_needed();
    for (auto p : doomed_) {
      const auto& pack = index_.pack_name(p);
      store_.remove(layout::block_pack(pack));
      store_.remove(layout::block_pack_index(pack));
      store_.remove(layout::block_condemned(pack));
    }
    remove_stale_marks();
    return report();
  }

 private:
  // Of a pack's frames: bytes of live blocks, bytes of the others.
  std::pair<std::uint64_t, std::uint64_t> stored_bytes(std::uint32_t p) const {
    std::uint64_t live = 0, unused = 0;
    for (const auto& e : index_.entries_of(p)) (live_.contains(e.id) ? live : unused) += e.stored;
    return {live, unused};
  }

  // Copies the live blocks of `packs` into new packs, through an index without them.
  void copy_live_blocks(const std::vector<std::uint32_t>& packs) {
    if (packs.empty()) return;
    BlockIndexOptions without;
    for (auto p : packs) without.leave_out.insert(index_.pack_name(p));
    auto others = BlockIndex::load(store_, without);
    BlockWriter writer(store_, others, {.level = options_.compression_level});
    std::vector<BlockId> wanted;
    for (auto p : packs)
      for (const auto& e : index_.entries_of(p))
        if (live_.contains(e.id)) wanted.push_back(e.id);
    reader_.read_all(wanted, [&](std::size_t, Bytes content) {
      std::lock_guard lock(writing_);  // read_all delivers from several threads
      copied_.insert(writer.put(content));
    });
    writer.finish();
    report_.repacked = packs.size();
    report_.repacked_bytes = writer.stats().stored_bytes;
  }

  // Takes back from the doomed packs each one holding a live block that no pack staying (nor
  // a copy) holds, removing its mark if it had one.
  void keep_needed() {
    std::set<std::uint32_t> doomed(doomed_.begin(), doomed_.end());
    LiveBlocks elsewhere = copied_;
    for (std::uint32_t p = 0; p < index_.pack_count(); ++p)
      if (!doomed.contains(p))
        for (const auto& e : index_.entries_of(p)) elsewhere.insert(e.id);
    std::erase_if(doomed_, [&](std::uint32_t p) {
      for (const auto& e : index_.entries_of(p))
        if (live_.contains(e.id) && !elsewhere.contains(e.id)) {
          if (all_doomed_marked_ || index_.condemned().contains(index_.pack_name(p))) {
            if (!options_.dry_run) store_.remove(layout::block_condemned(index_.pack_name(p)));
            ++report_.revived;
          }
          return true;
        }
      return false;
    });
  }

  // Marks whose pack an interrupted sweep already deleted.
  void remove_stale_marks() {
    for (const auto& [pack, size] : index_.condemned())
      if (size == 0 && !store_.exists(layout::block_pack(pack))) {
        store_.remove(layout::block_pack_index(pack));
        store_.remove(layout::block_condemned(pack));
      }
  }

  SweepReport report() {
    report_.doomed.clear();
    report_.doomed_bytes = 0;
    for (auto p : doomed_) {
      report_.doomed.push_back(index_.pack_name(p));
      report_.doomed_bytes += index_.pack_size(p);
    }
    return report_;
  }

  storage::ObjectStore& store_;
  const SweepHooks& hooks_;
  SweepOptions options_;
  BlockIndex index_;
  BlockReader reader_;
  std::set<std::string> seen_;
  LiveBlocks live_, copied_;
  std::vector<std::uint32_t> doomed_;
  bool all_doomed_marked_ = false;  // step 3 done
  std::mutex writing_;
  SweepReport report_;
};

}  // namespace

SweepReport sweep_blocks(storage::ObjectStore& store, const SweepHooks& hooks,
                         const SweepOptions& options) {
  return Sweep(store, hooks, options).run();
}

}  // namespace pitr::archive
