#pragma once
// The OS user a restored data directory belongs to and its server runs as (postgres, mysql):
// restores running as root hand the files over before the server starts.
#include <sys/types.h>

#include <filesystem>
#include <string>

namespace pitr::replay {

struct OsAccount {
  uid_t uid;
  gid_t gid;
};

// Throws when there is no such user.
OsAccount account_of(const std::string& user);
// Gives `root` and everything under it to the account (symlinks themselves, not their targets).
void chown_tree(const std::filesystem::path& root, const OsAccount& account);

}  // namespace pitr::replay
