#include "formats/postgres/segment_plan.hpp"

#include <algorithm>

namespace pitr::postgres {
namespace {

// Past this share of changed blocks one read of the whole segment is cheaper.
constexpr double kWholeShare = 0.9;

SegmentPlan whole() {
  return {true, {}};
}

}  // namespace

SegmentPlan plan_segment(const RelationSegment& segment, std::optional<std::uint32_t> parent_blocks,
                         std::uint32_t current_blocks, WalChanges& changes,
                         std::uint32_t blocks_per_segment) {
  if (segment.fork != Fork::kMain || !parent_blocks || current_blocks == 0) return whole();
  if (changes.database_replaced(segment.file.spc, segment.file.db)) return whole();
  std::uint64_t first = std::uint64_t{segment.segment} * blocks_per_segment;
  const auto* fork = changes.changes(segment.file, Fork::kMain);
  // From here on the parent's blocks say nothing: past its length, or past the shortest the
  // fork was since (created, dropped or truncated, then grown again).
  std::uint64_t unknown_from = *parent_blocks;
  if (fork && fork->limit) {
    if (*fork->limit <= first) return whole();
    unknown_from = std::min<std::uint64_t>(unknown_from, *fork->limit - first);
  }
  SegmentPlan plan;
  if (fork) {
    auto from = std::lower_bound(fork->blocks.begin(), fork->blocks.end(), first);
    for (auto it = from; it != fork->blocks.end() && *it < first + unknown_from; ++it)
      if (*it < first + current_blocks)
        plan.blocks.push_back(static_cast<std::uint32_t>(*it - first));
  }
  for (auto b = unknown_from; b < current_blocks; ++b)
    plan.blocks.push_back(static_cast<std::uint32_t>(b));
  if (plan.blocks.size() > kWholeShare * current_blocks) return whole();
  return plan;
}

}  // namespace pitr::postgres
