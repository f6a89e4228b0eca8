#include "formats/postgres/wal_changes.hpp"

#include <algorithm>

namespace pitr::postgres {
namespace {

constexpr std::uint8_t kRmXlog = 0, kRmXact = 1, kRmSmgr = 2, kRmDbase = 4;
constexpr std::uint8_t kSpecialRelUpdate = 0x01;  // XLR_SPECIAL_REL_UPDATE
constexpr std::uint8_t kXlogParameterChange = 0x60;
constexpr std::uint8_t kSmgrCreate = 0x10, kSmgrTruncate = 0x20;
constexpr std::uint32_t kTruncateHeap = 0x1;
constexpr std::uint8_t kXactOpMask = 0x70, kXactHasInfo = 0x80;
constexpr std::uint8_t kXactCommit = 0x00, kXactAbort = 0x20, kXactCommitPrepared = 0x30,
                       kXactAbortPrepared = 0x40;
constexpr std::uint32_t kXinfoDbInfo = 0x01, kXinfoSubxacts = 0x02, kXinfoRelFiles = 0x04;
constexpr std::uint8_t kDbaseCreateFileCopy = 0x00, kDbaseCreateWalLog = 0x10, kDbaseDrop = 0x20;
constexpr int kWalLevelMinimal = 0;

// Sorts and dedups blocks[from, end) into the sorted prefix.
void merge_sorted(std::vector<std::uint32_t>& blocks, std::size_t& sorted) {
  if (sorted == blocks.size()) return;
  std::sort(blocks.begin() + static_cast<long>(sorted), blocks.end());
  std::inplace_merge(blocks.begin(), blocks.begin() + static_cast<long>(sorted), blocks.end());
  blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
  sorted = blocks.size();
}

}  // namespace

void WalChanges::add(const WalRecordParts& r) {
  ++records_;
  switch (r.rmid) {
    case kRmXlog:
      add_xlog(r);
      break;
    case kRmXact:
      add_xact(r);
      break;
    case kRmSmgr:
      add_smgr(r);
      break;
    case kRmDbase:
      add_dbase(r);
      break;
    default:
      if (r.info & kSpecialRelUpdate) unknown_file_change_ = true;
      break;
  }
  for (const auto& b : r.blocks)
    if (b.fork != Fork::kFsm) add_block(b.file, b.fork, b.block);  // FSMs are taken whole
}

void WalChanges::add_block(const RelFile& file, Fork fork, std::uint32_t block) {
  auto& e = forks_[{file, fork}];
  e.changes.blocks.push_back(block);
  // Keep memory near the number of distinct blocks.
  if (e.changes.blocks.size() >= 2 * e.sorted + 1024) merge_sorted(e.changes.blocks, e.sorted);
}

void WalChanges::append(const WalChanges& later) {
  later.for_each_fork([&](const RelFile& file, Fork fork, const ForkChanges& c) {
    // A cut in `later` ends what this map knew past it; blocks `later` names come after it.
    if (c.limit) cut(file, fork, *c.limit);
    for (auto block : c.blocks) add_block(file, fork, block);
  });
  replaced_databases_.insert(later.replaced_databases_.begin(), later.replaced_databases_.end());
  minimal_wal_ = minimal_wal_ || later.minimal_wal_;
  unknown_file_change_ = unknown_file_change_ || later.unknown_file_change_;
  records_ += later.records_;
}

bool WalChanges::operator==(const WalChanges& other) const {
  if (replaced_databases_ != other.replaced_databases_ || minimal_wal_ != other.minimal_wal_ ||
      unknown_file_change_ != other.unknown_file_change_ || forks_.size() != other.forks_.size())
    return false;
  for (auto& [key, e] : forks_) {
    auto it = other.forks_.find(key);
    if (it == other.forks_.end()) return false;
    merge_sorted(e.changes.blocks, e.sorted);
    merge_sorted(it->second.changes.blocks, it->second.sorted);
    if (e.changes.blocks != it->second.changes.blocks ||
        e.changes.limit != it->second.changes.limit)
      return false;
  }
  return true;
}

void WalChanges::for_each_fork(
    const std::function<void(const RelFile&, Fork, const ForkChanges&)>& visit) const {
  for (auto& [key, e] : forks_) {
    merge_sorted(e.changes.blocks, e.sorted);
    visit(key.first, key.second, e.changes);
  }
}

const WalChanges::ForkChanges* WalChanges::changes(const RelFile& file, Fork fork) {
  auto it = forks_.find({file, fork});
  if (it == forks_.end()) return nullptr;
  merge_sorted(it->second.changes.blocks, it->second.sorted);
  return &it->second.changes;
}

// The fork was at most `limit` blocks long at this point: blocks at or past it changed
// wholesale, and what the map knew about them is moot.
void WalChanges::cut(const RelFile& file, Fork fork, std::uint32_t limit) {
  auto& e = forks_[{file, fork}];
  merge_sorted(e.changes.blocks, e.sorted);
  if (!e.changes.limit || limit < *e.changes.limit) e.changes.limit = limit;
  auto cut = std::lower_bound(e.changes.blocks.begin(), e.changes.blocks.end(), limit);
  e.changes.blocks.erase(cut, e.changes.blocks.end());
  e.sorted = e.changes.blocks.size();
}

void WalChanges::add_xlog(const WalRecordParts& r) {
  if ((r.info & 0xF0) != kXlogParameterChange) return;
  ByteCursor c(r.main_data, "XLOG_PARAMETER_CHANGE");
  c.skip(20);  // MaxConnections .. max_locks_per_xact
  if (static_cast<int>(c.u32()) == kWalLevelMinimal) minimal_wal_ = true;
}

void WalChanges::add_smgr(const WalRecordParts& r) {
  ByteCursor c(r.main_data, "storage record");
  switch (r.info & 0xF0) {
    case kSmgrCreate: {
      auto file = read_rel_file(c);
      auto fork = c.u32();
      if (fork <= static_cast<std::uint32_t>(Fork::kInit) && fork != static_cast<int>(Fork::kFsm))
        cut(file, static_cast<Fork>(fork), 0);
      break;
    }
    case kSmgrTruncate: {
      auto blocks = c.u32();
      auto file = read_rel_file(c);
      auto flags = c.u32();
      if (flags & kTruncateHeap) cut(file, Fork::kMain, blocks);
      break;  // visibility and free space maps are taken whole
    }
    default:
      break;
  }
}

// Commits drop the relations the transaction deleted; aborts (of subtransactions too) the
// ones it created. Either way their files end.
void WalChanges::add_xact(const WalRecordParts& r) {
  auto op = r.info & kXactOpMask;
  if (op != kXactCommit && op != kXactAbort && op != kXactCommitPrepared &&
      op != kXactAbortPrepared)
    return;
  if (!(r.info & kXactHasInfo)) return;
  ByteCursor c(r.main_data, "transaction record");
  c.skip(8);  // xact_time
  auto xinfo = c.u32();
  if (xinfo & kXinfoDbInfo) c.skip(8);
  if (xinfo & kXinfoSubxacts) c.skip(4 * std::size_t{c.u32()});
  if (!(xinfo & kXinfoRelFiles)) return;
  auto count = c.u32();
  for (std::uint32_t i = 0; i < count; ++i) {
    auto file = read_rel_file(c);
    for (auto fork : {Fork::kMain, Fork::kVm, Fork::kInit}) cut(file, fork, 0);
  }
}

void WalChanges::add_dbase(const WalRecordParts& r) {
  ByteCursor c(r.main_data, "database record");
  switch (r.info & 0xF0) {
    case kDbaseCreateFileCopy:
    case kDbaseCreateWalLog: {
      auto db = c.u32();
      auto spc = c.u32();
      replace_database(spc, db);
      break;
    }
    case kDbaseDrop: {
      auto db = c.u32();
      auto count = c.u32();
      for (std::uint32_t i = 0; i < count; ++i) replace_database(c.u32(), db);
      break;
    }
    default:
      break;
  }
}

}  // namespace pitr::postgres
