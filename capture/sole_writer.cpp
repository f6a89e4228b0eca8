#include "capture/sole_writer.hpp"

namespace pitr::capture {

SoleWriter::SoleWriter(const archive::Archive& archive, std::chrono::seconds lease_time,
                       const std::function<void(const std::string&)>& log)
    : lock_(archive.spool_path(archive::layout::kCaptureLock)), archive_(archive) {
  if (archive.store().capabilities().local_files) return;
  lease_ = std::make_unique<archive::CaptureLease>(archive, lease_time, log);
  archive_ = archive::fenced_by(archive, *lease_);
}

}  // namespace pitr::capture
