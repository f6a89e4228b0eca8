#include "archive/pending_backup.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>

#include "archive/file_io.hpp"
#include "archive/process_identity.hpp"

namespace pitr::archive {
namespace {

constexpr const char* kClaimName = "in-progress.json";

// Removes a backup's objects, its claim last so that an interrupted removal is retried.
void remove_backup(storage::ObjectStore& store, const std::string& id) {
  auto claim = layout::backup_file(id, kClaimName);
  for (const auto& object : store.list(layout::backup_prefix(id)))
    if (object.key != claim) store.remove(object.key);
  store.remove(claim);
}

}  // namespace

PendingBackup::PendingBackup(Archive archive, std::time_t started) : archive_(std::move(archive)) {
  remove_abandoned_backups(archive_);
  auto base = fmt::format("{:%Y%m%dT%H%M%SZ}", fmt::gmtime(started));
  nlohmann::json claim{{"holder", to_json(this_process())}, {"started_at", started}};
  for (int n = 1;; ++n) {
    id_ = n == 1 ? base : fmt::format("{}-{}", base, n);
    if (store().list(layout::backup_prefix(id_)).empty() &&
        archive_.create_text(layout::backup_file(id_, kClaimName), claim.dump() + "\n"))
      return;
  }
}

PendingBackup::~PendingBackup() {
  if (committed_) return;
  try {
    remove_backup(store(), id_);
  } catch (const std::exception&) {
    // Left for remove_abandoned_backups: the claim names this process, which is ending.
  }
}

std::string PendingBackup::key(const std::string& file) const {
  return layout::backup_file(id_, file);
}

void PendingBackup::commit(const std::string& manifest_json) {
  // A backup whose claim was taken for abandoned has lost files: it must not look complete.
  if (!store().exists(key(kClaimName)))
    throw IoError(fmt::format(
        "backup {} lost its claim ({}) while it was written, so its files may have been "
        "removed as abandoned; take the backup again",
        id_, key(kClaimName)));
  archive_.write_text(key(layout::kManifestName), manifest_json, storage::PutMode::kIfAbsent);
  committed_ = true;
  store().remove(key(kClaimName));
}

namespace {

// Per backup id: whether it has a manifest, and its claim's key.
std::map<std::string, std::pair<bool, std::string>> backup_states(const Archive& archive) {
  std::map<std::string, std::pair<bool, std::string>> backups;
  for (const auto& object : archive.store().list(layout::backups_prefix())) {
    auto key = layout::split_under(layout::backups_prefix(), object.key);
    if (!key) continue;
    auto& entry = backups[key->first];
    if (key->rest == layout::kManifestName) entry.first = true;
    if (key->rest == kClaimName) entry.second = object.key;
  }
  return backups;
}

}  // namespace

std::vector<std::string> backups_in_progress(const Archive& archive) {
  std::vector<std::string> out;
  for (const auto& [id, entry] : backup_states(archive))
    if (!entry.first && !entry.second.empty()) out.push_back(id);
  return out;
}

int remove_abandoned_backups(const Archive& archive) {
  auto backups = backup_states(archive);
  int removed = 0;
  for (const auto& [id, entry] : backups) {
    const auto& [complete, claim_key] = entry;
    if (claim_key.empty()) continue;
    if (complete) {  // a crash between the manifest and the claim's removal
      archive.store().remove(claim_key);
      continue;
    }
    auto claim = nlohmann::json::parse(archive.read_text(claim_key).value_or("{}"), nullptr, false);
    if (claim.is_discarded() || !claim.is_object() ||
        !known_gone(identity_from_json(claim.value("holder", nlohmann::json::object()))))
      continue;
    remove_backup(archive.store(), id);
    ++removed;
  }
  return removed;
}

}  // namespace pitr::archive
