#pragma once
// Which process on which host holds something in the archive (a backup's claim, a capture's
// lease), and whether that process is known to be gone. A host name alone is not enough:
// containers share one and not their process ids, and a pid is reused after a reboot or
// once its process ended; so the boot, the pid namespace and the process's start time are
// recorded too.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace pitr::archive {

struct ProcessIdentity {
  std::string host;
  long pid = 0;
  std::string boot_id;              // /proc/sys/kernel/random/boot_id
  std::uint64_t pid_namespace = 0;  // inode of /proc/self/ns/pid
  std::uint64_t start_ticks = 0;    // field 22 of /proc/PID/stat
};

ProcessIdentity this_process();
// Whether `who` ran where this process can see it: this host, this boot, this pid namespace.
bool visible_from_here(const ProcessIdentity& who);
// True only when `who` ran on this host since its last boot, in this pid namespace, and no
// process with its pid and start time exists any more.
bool known_gone(const ProcessIdentity& who);

nlohmann::json to_json(const ProcessIdentity& who);
ProcessIdentity identity_from_json(const nlohmann::json& j);

}  // namespace pitr::archive
