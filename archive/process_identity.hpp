#pragma once
// Which process on which host holds something in the archive (a backup's claim, a capture's
// lease), and whether that process is known to be gone.
#include <string>

namespace pitr::archive {

struct ProcessIdentity {
  std::string host;
  long pid = 0;
};

ProcessIdentity this_process();
// True only when `who` ran on this host and no process has its pid any more.
bool known_gone(const ProcessIdentity& who);

}  // namespace pitr::archive
