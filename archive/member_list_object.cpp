#include "archive/member_list_object.hpp"

#include "archive/compressed_object_reader.hpp"
#include "archive/compressed_object_writer.hpp"
#include "archive/file_io.hpp"

namespace pitr::archive {

void store_member_list(const PendingBackup& backup, const std::string& file,
                       const std::vector<StoredTarMember>& members) {
  CompressedObjectWriter out(backup.store(), backup.key(file),
                             {.level = 3, .workers = 0, .sha256 = false});
  out.write(stored_tar_json(members).dump());
  out.finish();
}

std::vector<StoredTarMember> read_member_list(const Archive& archive, const std::string& key) {
  std::string text;
  read_zstd_object(archive.store(), key, [&](Bytes b) { text.append(as_text(b)); });
  return stored_tar_from_json(nlohmann::json::parse(text, nullptr, false), key);
}

BlockReader CompleteBackupBlocks::reader() {
  if (!index_)
    index_ = BlockIndex::load(archive_.store(),
                              {.condemned = true, .pack_contents = false, .leave_out = {}});
  return BlockReader(archive_.store(), *index_);
}

std::uint64_t CompleteBackupBlocks::read_files(const std::vector<StoredTarMember>& members,
                                               const std::function<void(Bytes)>& sink) {
  std::uint64_t length = 0;
  read_stored_tar(reader(), members, [&](Bytes b) {
    length += b.size();
    sink(b);
  });
  return length;
}

}  // namespace pitr::archive
