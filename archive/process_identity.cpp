#include "archive/process_identity.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace pitr::archive {
namespace {

std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The start time of process `pid` in clock ticks since boot; 0 when there is no such process.
std::uint64_t start_ticks_of(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return 0;
  auto after_name = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (after_name == std::string::npos) return 0;
  std::istringstream fields(stat.substr(after_name + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i)
    if (i == 22) return std::stoull(field);
  return 0;
}

}  // namespace

ProcessIdentity this_process() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  struct ::stat ns {};
  ::stat("/proc/self/ns/pid", &ns);
  auto pid = static_cast<long>(::getpid());
  return {name, pid, first_line("/proc/sys/kernel/random/boot_id"),
          static_cast<std::uint64_t>(ns.st_ino), start_ticks_of(pid)};
}

bool visible_from_here(const ProcessIdentity& who) {
  auto me = this_process();
  return who.pid > 0 && who.host == me.host && !who.boot_id.empty() && who.boot_id == me.boot_id &&
         who.pid_namespace == me.pid_namespace;
}

bool known_gone(const ProcessIdentity& who) {
  // Gone, or its pid now someone else's.
  return visible_from_here(who) && start_ticks_of(who.pid) != who.start_ticks;
}

nlohmann::json to_json(const ProcessIdentity& who) {
  return {{"host", who.host},
          {"pid", who.pid},
          {"boot_id", who.boot_id},
          {"pid_namespace", who.pid_namespace},
          {"start_ticks", who.start_ticks}};
}

ProcessIdentity identity_from_json(const nlohmann::json& j) {
  return {j.value("host", ""), j.value("pid", 0L), j.value("boot_id", ""),
          j.value("pid_namespace", std::uint64_t{0}), j.value("start_ticks", std::uint64_t{0})};
}

}  // namespace pitr::archive
