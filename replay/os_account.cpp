#include "replay/os_account.hpp"

#include <pwd.h>
#include <unistd.h>

#include <stdexcept>

#include "archive/file_io.hpp"

namespace pitr::replay {

namespace fs = std::filesystem;

OsAccount account_of(const std::string& user) {
  auto* pw = ::getpwnam(user.c_str());
  if (!pw) throw std::runtime_error("no OS user " + user + " to own the restored data directory");
  return {pw->pw_uid, pw->pw_gid};
}

void chown_tree(const fs::path& root, const OsAccount& account) {
  if (::lchown(root.c_str(), account.uid, account.gid) != 0) archive::throw_errno("chown", root);
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (::lchown(e.path().c_str(), account.uid, account.gid) != 0)
      archive::throw_errno("chown", e.path());
}

}  // namespace pitr::replay
