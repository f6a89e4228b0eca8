#include "replay/mariadb/physical_restore.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "archive/member_list_object.hpp"
#include "capture/child_process.hpp"
#include "capture/interruption.hpp"
#include "capture/scratch_dir.hpp"
#include "replay/os_account.hpp"
#include "replay/tar_extractor.hpp"

namespace pitr::replay {
namespace {

namespace fs = std::filesystem;

constexpr const char* kServerOptionsFile = "backup-my.cnf";

// Writes every file of the backup under `datadir`.
std::uint64_t rebuild_files(const archive::Archive& archive, const archive::BackupManifest& m,
                            const fs::path& datadir) {
  auto members = archive::physical_members(archive, m);
  TarExtractor tar(datadir);
  archive::CompleteBackupBlocks(archive).read_files(members, [&](Bytes b) {
    capture::throw_if_interrupted();
    tar.feed(b);
  });
  tar.finish();
  return tar.files();
}

void prepare(const PhysicalRestoreOptions& o) {
  capture::ScratchDir scratch("prepare");
  auto log = scratch.path() / "prepare.log";
  auto status = capture::run_to_end(
      {.argv = {o.mariabackup, "--prepare", "--target-dir=" + o.datadir.string()},
       .stderr_log = log});
  if (status != 0)
    throw std::runtime_error(
        fmt::format("mariabackup --prepare failed (exit status {}); the end of its log:\n{}",
                    status, capture::tail_of_log(log, 15)));
}

// mariabackup's files, which a server's data directory does not hold.
void remove_backup_metadata(const fs::path& datadir) {
  for (const auto& e : fs::directory_iterator(datadir)) {
    auto name = e.path().filename().string();
    if (e.is_regular_file() && (name.starts_with("xtrabackup_") || name == kServerOptionsFile))
      fs::remove(e.path());
  }
}

}  // namespace

void discard_restored_files(const fs::path& datadir) {
  std::error_code ignored;
  for (const auto& e : fs::directory_iterator(datadir, ignored)) fs::remove_all(e.path(), ignored);
}

PhysicalRestoreResult restore_physical_backup(const archive::Archive& archive,
                                              const archive::BackupManifest& m,
                                              const PhysicalRestoreOptions& o) {
  require_empty_directory(o.datadir, "data directory");
  fs::create_directories(o.datadir);
  capture::InterruptibleScope interruptible;
  PhysicalRestoreResult result;
  try {
    if (o.progress) fmt::print(stderr, "pitr restore: rebuilding the files of backup {}\n", m.id);
    result.files = rebuild_files(archive, m, o.datadir);
    result.server_options = archive::read_small_file(o.datadir / kServerOptionsFile);
    if (o.progress) fmt::print(stderr, "pitr restore: mariabackup --prepare\n");
    prepare(o);
    remove_backup_metadata(o.datadir);
    if (!o.run_as.empty()) chown_tree(o.datadir, account_of(o.run_as));
    archive::sync_filesystem_of(o.datadir);
    capture::throw_if_interrupted();  // a signal between the programs above
  } catch (...) {
    discard_restored_files(o.datadir);
    throw;
  }
  return result;
}

}  // namespace pitr::replay
