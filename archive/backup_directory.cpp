#include "archive/backup_directory.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "archive/file_io.hpp"

namespace pitr::archive {
namespace {

constexpr const char* kPartial = ".partial";

// An flock on the directory itself, so the backup's files are all it contains.
int try_lock_directory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A directory made a moment ago may not be locked yet by the backup that made it.
bool old_enough(const fs::path& dir) {
  std::error_code ec;
  auto modified = fs::last_write_time(dir, ec);
  return !ec && fs::file_time_type::clock::now() - modified > std::chrono::seconds(60);
}

}  // namespace

int remove_abandoned_partial_backups(const fs::path& backups_dir) {
  int removed = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(backups_dir, ec)) {
    if (!e.is_directory() || e.path().extension() != kPartial || !old_enough(e.path())) continue;
    int fd = try_lock_directory(e.path());
    if (fd < 0) continue;  // a backup is writing it
    std::error_code ignored;
    fs::remove_all(e.path(), ignored);
    ::close(fd);
    ++removed;
  }
  return removed;
}

BackupDirectory::BackupDirectory(const ArchiveLayout& layout, std::time_t started)
    : backups_(layout.backups_dir()) {
  fs::create_directories(backups_);
  remove_abandoned_partial_backups(backups_);
  auto base = fmt::format("{:%Y%m%dT%H%M%SZ}", fmt::gmtime(started));
  for (int n = 1;; ++n) {
    id_ = n == 1 ? base : fmt::format("{}-{}", base, n);
    partial_ = backups_ / (id_ + kPartial);
    if (fs::exists(backups_ / id_)) continue;
    if (::mkdir(partial_.c_str(), 0750) == 0) break;  // mkdir is the atomic claim
    if (errno != EEXIST) throw_errno("cannot create the backup directory", partial_);
  }
  lock_fd_ = try_lock_directory(partial_);
  if (lock_fd_ < 0) throw_errno("cannot lock the backup directory", partial_);
}

BackupDirectory::~BackupDirectory() {
  if (!committed_) {
    std::error_code ignored;
    fs::remove_all(partial_, ignored);
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

fs::path BackupDirectory::commit() {
  fsync_directory(partial_);
  auto final_dir = backups_ / id_;
  if (::rename(partial_.c_str(), final_dir.c_str()) != 0)
    throw_errno("cannot rename the finished backup to " + final_dir.string(), partial_);
  committed_ = true;
  fsync_directory(backups_);
  return final_dir;
}

}  // namespace pitr::archive
