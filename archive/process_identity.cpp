#include "archive/process_identity.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

namespace pitr::archive {

ProcessIdentity this_process() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return {name, static_cast<long>(::getpid())};
}

bool known_gone(const ProcessIdentity& who) {
  return who.pid > 0 && who.host == this_process().host &&
         ::kill(static_cast<pid_t>(who.pid), 0) != 0 && errno == ESRCH;
}

}  // namespace pitr::archive
