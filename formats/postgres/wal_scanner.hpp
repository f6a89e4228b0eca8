#pragma once
// Walks raw WAL bytes page by page and record by record (every record's CRC is checked)
// and reports what point-in-time restore needs: each transaction's commit or abort with
// its xid and time, named restore points, and segment switches.
// Layouts: src/include/access/xlog_internal.h, xlogrecord.h, xact.h (PostgreSQL 13-17).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "formats/byte_cursor.hpp"
#include "formats/postgres/lsn.hpp"
#include "formats/postgres/wal_record.hpp"

namespace pitr::postgres {

inline constexpr std::uint32_t kWalPageSize = 8192;  // XLOG_BLCKSZ

enum class WalEventKind { kCommit, kAbort, kRestorePoint };

struct WalEvent {
  WalEventKind kind = WalEventKind::kCommit;
  Lsn lsn = 0;  // start of the record
  Lsn end = 0;  // one past its last byte
  std::uint32_t xid = 0;
  std::int64_t time = 0;  // PostgreSQL timestamp (µs since 2000-01-01 UTC)
  std::string name;       // restore points
};

using WalEventSink = std::function<void(const WalEvent&)>;
// Every complete record (its CRC checked) and where it starts.
using WalRecordSink = std::function<void(Lsn lsn, const WalRecordParts& record)>;
// Every complete record as it is (its CRC checked), where it starts, and the page magic
// that says which version wrote it.
using WalRawRecordSink = std::function<void(Lsn lsn, Bytes record, std::uint16_t page_magic)>;

class WalScanner {
 public:
  explicit WalScanner(std::uint64_t segment_size) : segment_size_(segment_size) {}

  // Feeds bytes that start at `lsn`. When `lsn` is not where the previous feed ended the
  // scanner starts afresh there (which must be a page boundary). A record that began
  // before the first byte fed is skipped. Throws DecodeError for damaged WAL.
  void feed(Lsn lsn, Bytes data, const WalEventSink& sink);

  // Also hands every complete record to `sink`, decoded (for change maps).
  void set_record_sink(WalRecordSink sink) { record_sink_ = std::move(sink); }
  // Or undecoded, for a caller that decides what a record it cannot decode means.
  void set_raw_record_sink(WalRawRecordSink sink) { raw_record_sink_ = std::move(sink); }

  // True once the WAL ended: a zeroed page or a zero-length record where one should start.
  bool ended() const { return ended_; }
  Lsn position() const { return pos_; }
  // End of the last complete record seen (0 before the first).
  Lsn last_record_end() const { return last_end_; }
  std::uint64_t records() const { return records_; }
  // Where the record being assembled began: none between records, and unknown while the
  // scanner skips the rest of one that began before it started.
  struct OpenRecord {
    bool open = false, start_known = true;
    Lsn start = 0;
  };
  OpenRecord open_record() const;
  std::uint64_t system_identifier() const { return system_id_; }

 private:
  void start_at(Lsn lsn);
  std::size_t consume_page_header(Bytes data);
  std::size_t consume_record_bytes(Bytes data, const WalEventSink& sink);
  void finish_record(const WalEventSink& sink);
  void decode_record(Lsn lsn, Bytes rec, const WalEventSink& sink);

  std::uint64_t segment_size_;
  Lsn pos_ = 0;
  bool started_ = false, ended_ = false;
  std::vector<std::uint8_t> header_;  // page header being assembled
  std::vector<std::uint8_t> record_;  // record being assembled
  Lsn record_lsn_ = 0;
  std::uint64_t skip_ = 0;  // continuation bytes of a record we never saw begin
  bool skip_then_align_ = false;
  bool skipping_unknown_ = false;  // skip_ is the rest of a record we never saw begin
  std::uint16_t magic_ = 0;
  std::uint64_t system_id_ = 0;
  Lsn last_end_ = 0;
  std::uint64_t records_ = 0;
  WalRecordSink record_sink_;
  WalRawRecordSink raw_record_sink_;
};

// Main data of one record (the last bytes of the record, after the block references);
// exposed for tests. `page_magic` tells the PostgreSQL version that wrote the record.
Bytes wal_record_main_data(Bytes record, std::uint16_t page_magic);

}  // namespace pitr::postgres
