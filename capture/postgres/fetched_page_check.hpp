#pragma once
// Checks the data-page checksums of the relation pages an incremental backup reads over SQL,
// as BASE_BACKUP does for the pages of a full one (on a cluster initialised with
// --data-checksums). Like BASE_BACKUP it skips pages the WAL after the backup's start will
// overwrite anyway (page LSN at or after it) and new, all-zero pages, and reads a page that
// fails once more before calling it damaged: pg_read_binary_file can see a page half
// written by the server (a torn read), which the second read no longer sees; a page gone at
// the second read was truncated away meanwhile, which the WAL replays.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "capture/postgres/pg_connection.hpp"
#include "formats/postgres/lsn.hpp"

namespace pitr::capture {

class FetchedPageCheck {
 public:
  FetchedPageCheck(PgConnection& conn, postgres::Lsn backup_start)
      : conn_(conn), backup_start_(backup_start) {}

  // Checks `page`, read at `offset` of the server's file `path`; `block` is its number in
  // its relation fork. Returns the page read again when it failed once (it replaces `page`).
  std::optional<std::vector<std::uint8_t>> check(const std::string& path, std::uint64_t offset,
                                                 std::uint32_t block,
                                                 std::span<const std::uint8_t> page);

  // Pages whose checksum was compared (not new ones, nor ones the WAL overwrites).
  std::uint64_t checked() const { return checked_; }
  // One line per damaged page: file, block, stored and computed checksums.
  const std::vector<std::string>& damaged() const { return damaged_; }

 private:
  // Not overwritten by the WAL after the backup's start.
  bool needs_check(std::span<const std::uint8_t> page) const;

  PgConnection& conn_;
  postgres::Lsn backup_start_;
  std::uint64_t checked_ = 0;
  std::vector<std::string> damaged_;
};

}  // namespace pitr::capture
