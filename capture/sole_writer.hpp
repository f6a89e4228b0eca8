#pragma once
// The one capture writing an archive: an flock on the spool's capture.lock always (the open
// tails are there), and in object storage, where no other host sees that lock, a lease too
// (archive/capture_lease.hpp), through which every write is fenced.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "archive/archive.hpp"
#include "archive/archive_lock.hpp"
#include "archive/capture_lease.hpp"

namespace pitr::capture {

class SoleWriter {
 public:
  // Throws naming the other capture when one writes the archive.
  SoleWriter(const archive::Archive& archive, std::chrono::seconds lease_time,
             const std::function<void(const std::string&)>& log);
  // The archive to write through.
  const archive::Archive& archive() const { return archive_; }

 private:
  archive::ArchiveLock lock_;
  std::unique_ptr<archive::CaptureLease> lease_;
  archive::Archive archive_;
};

}  // namespace pitr::capture
