#pragma once
// A base backup being written: its objects go under backups/<id>/, and the backup exists
// once its manifest is stored, last. The id is the start time in UTC to the second, with
// "-2", "-3", ... added when another backup has that name, so backups started in the same
// second never share one. The id is claimed by creating backups/<id>/in-progress.json
// (host, pid, start) only if absent. A backup that fails removes what it wrote; one that
// was killed is removed by a later backup on the same host once its process is gone.
#include <ctime>
#include <string>
#include <vector>

#include "archive/archive.hpp"

namespace pitr::archive {

class PendingBackup {
 public:
  PendingBackup(Archive archive, std::time_t started);
  ~PendingBackup();  // removes the backup's objects unless commit() ran
  PendingBackup(const PendingBackup&) = delete;
  PendingBackup& operator=(const PendingBackup&) = delete;

  const std::string& id() const { return id_; }
  storage::ObjectStore& store() const { return archive_.store(); }
  // The key of one of the backup's files ("data/db.t.0.sql.zst").
  std::string key(const std::string& file) const;
  // Stores the manifest (the backup is complete from then on) and drops the claim.
  void commit(const std::string& manifest_json);

 private:
  Archive archive_;
  std::string id_;
  bool committed_ = false;
};

// Removes backups abandoned by a process of this host that is gone (killed mid-backup);
// returns how many.
int remove_abandoned_backups(const Archive& archive);
// The ids of backups being written (claimed and without a manifest): running, or abandoned
// where remove_abandoned_backups cannot tell (another host).
std::vector<std::string> backups_in_progress(const Archive& archive);

}  // namespace pitr::archive
