#pragma once
// A MariaDB incremental backup made complete: the parent's file map (every file a list of
// block ids) with the pages of the incremental's .delta files put in, tablespaces created,
// replaced (a new space id under the same name), renamed or dropped as the incremental says,
// and every other file taken from the incremental. The result needs one mariabackup
// --prepare, with the incremental's redo log: the incremental must take every page changed
// since the parent's redo log starts (its --incremental-lsn), so that no page the parent
// copied while it changed stays stale (mariadb_physical notes in docs/archive-format.md).
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "archive/block_store/block_reader.hpp"
#include "archive/block_store/block_writer.hpp"
#include "archive/block_store/stored_tar.hpp"
#include "formats/mariadb/innodb_delta.hpp"

namespace pitr::capture {

// A backup's files by path, and the InnoDB space id of each tablespace file.
struct PhysicalFileMap {
  std::map<std::string, archive::StoredTarMember> files;
  std::map<std::string, std::uint32_t> space_ids;
};

// The pages of one tablespace file's .delta, stored as blocks when a page is a block (16 KiB),
// held otherwise (compressed tables' smaller pages).
struct DeltaPages {
  std::optional<mariadb::DeltaMeta> meta;
  std::vector<std::pair<std::uint32_t, archive::BlockId>> blocks;
  std::map<std::uint32_t, std::vector<std::uint8_t>> held;
  std::optional<std::uint32_t> tablespace_pages;  // FSP_SIZE, from page 0
};

struct IncrementalParts {
  PhysicalFileMap whole;                       // the stream's files but .delta and .meta
  std::map<std::string, DeltaPages> deltas;    // by tablespace file: "db/t.ibd", "ibdata1"
  std::map<std::string, std::string> renames;  // "db/t.ren" → its content, "db/new"
};

struct MergeContext {
  archive::BlockWriter& blocks;
  const archive::BlockReader& parent_blocks;
  std::size_t block_size;
};

// Throws DecodeError when the parts do not fit the parent (a delta of a page size that cannot
// be placed, a tablespace without its .meta).
PhysicalFileMap merge_incremental(PhysicalFileMap parent, IncrementalParts parts,
                                  const std::string& checkpoints_text, const MergeContext& context);

// Applies mariabackup's markers of tablespaces changed during a backup, as --prepare would:
// "X.del" drops X.ibd, "X.ren" (holding "db/new") renames X.ibd to db/new.ibd, "X.new" (a
// complete copy) replaces X.ibd. `rename_text` gives a .ren file's content.
void apply_ddl_markers(PhysicalFileMap& map,
                       const std::function<std::string(const std::string&)>& rename_text);

}  // namespace pitr::capture
