#pragma once
// Read side of the binlog archive: the catalog of every archived binlog file, built from
// the segment files themselves, and the operations on it (get, verify).
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "archive/archive.hpp"
#include "archive/file_io.hpp"
#include "archive/gap_record.hpp"
#include "archive/index_frame.hpp"
#include "archive/segment_file.hpp"
#include "archive/segment_record.hpp"

namespace pitr::archive {

struct ArchivedSegment {
  std::string key;
  std::uint64_t stored_bytes = 0;
  SegmentRecord record;
};

// An open segment, in the spool. It is opened when listed: a live capture may seal and
// remove it at any moment, and what the listing holds must stay readable.
struct PartialFile {
  fs::path path;
  std::uint64_t start = 0;
  std::shared_ptr<const File> file;
  std::vector<std::uint8_t> read() const { return file->read_all(); }
};

struct ArchivedLog {
  std::string source_id;
  std::string file;
  std::vector<ArchivedSegment> segments;  // sorted by start
  // Open segments not sealed yet, sorted by start: the last is the tail being written;
  // earlier ones were handed off at a transaction boundary and are being compressed.
  // A partial whose sealed segment already exists is left out.
  std::vector<PartialFile> partials;

  std::uint64_t start() const;
  std::uint64_t sealed_end() const;  // end of the last sealed segment, or start()
  const PartialFile* tail() const { return partials.empty() ? nullptr : &partials.back(); }
  // The file's ROTATE or STOP event is archived (sealed or in an open segment).
  bool complete() const { return ends_file; }
  bool ends_file = false;
  std::optional<std::string> next_file;  // named by the ROTATE event
  // The file's FORMAT_DESCRIPTION_EVENT (hex), from a segment record or the first open
  // segment; needed to parse any part of the file after it.
  std::optional<std::string> format_description() const { return fde_hex; }
  std::optional<std::string> fde_hex;
  // What a crash can leave in the spool: interrupted atomic writes (*.tmp) and open
  // segments whose sealed copy is already stored. Capture's recovery removes them.
  std::vector<fs::path> leftovers;
};

class BinlogArchive {
 public:
  // The catalog of `archive`: its sealed segments, and the open ones when it has a spool.
  explicit BinlogArchive(Archive archive);

  const Archive& archive() const { return archive_; }
  // All archived logs, grouped by source and in binlog order within a source.
  const std::vector<ArchivedLog>& logs() const { return logs_; }
  std::vector<GapRecord> gaps() const { return list_gaps(archive_); }

  // The log named `file`; `source_id` disambiguates when several sources have one.
  const ArchivedLog& find(const std::string& file,
                          const std::optional<std::string>& source_id) const;
  // The source's archived logs in binlog order (a log directory with nothing in it is none).
  std::vector<const ArchivedLog*> logs_of(const std::string& source_id) const;

  // Writes the archived bytes of `log` (sealed segments, then the complete transactions of
  // its partial tail). Throws when the archive does not hold the file from its start.
  void write_log(const ArchivedLog& log, const ByteSink& sink) const;
  // The same from wherever the archive's copy of the file starts (log.start()).
  void read_log(const ArchivedLog& log, const ByteSink& sink) const;

  // Tells the store these logs' sealed segments will be read next, in this order (a store in
  // object storage then fetches them ahead).
  void will_read(const std::vector<const ArchivedLog*>& logs) const;

  // The sealed segments whose records no record catalog held (archive/record_catalog.hpp).
  const std::vector<IndexedObject>& uncatalogued() const { return uncatalogued_; }

  // Every problem found: damaged segments and record catalogs, holes, overlaps, recorded
  // gaps.
  std::vector<std::string> verify() const;

 private:
  void scan();
  void scan_spool(std::map<std::pair<std::string, std::string>, ArchivedLog>& logs) const;
  void verify_log(const ArchivedLog& log, const ArchivedLog* previous,
                  std::vector<std::string>& problems) const;

  Archive archive_;
  std::vector<ArchivedLog> logs_;
  std::vector<IndexedObject> uncatalogued_;
  std::vector<std::string> damaged_catalogs_;
};

}  // namespace pitr::archive
