#pragma once
// The zstd levels a capture seals segments at. While the sealer keeps up with the server,
// every segment gets `steady`. A segment that others already wait behind (capture is ahead
// of compression: catching up after downtime, or a burst beyond what `steady` compresses on
// these cores) gets `catching_up`, so that the backlog drains at the faster level's speed
// and the ratio returns to `steady`'s once it has. Equal levels turn this off.
namespace pitr::capture {

struct CompressionLevels {
  int steady = 3;
  int catching_up = 1;
};

}  // namespace pitr::capture
