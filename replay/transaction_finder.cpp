#include "replay/transaction_finder.hpp"

#include "formats/hex.hpp"

#include <fmt/format.h>

#include <map>

#include "archive/partial_scan.hpp"
#include "formats/binlog/event_bodies.hpp"
#include "formats/binlog/event_reader.hpp"
#include "formats/binlog/event_splitter.hpp"
#include "formats/binlog/event_types.hpp"
#include "formats/binlog/row_image.hpp"
#include "formats/binlog/transaction_payload.hpp"
#include "formats/binlog/transaction_tracker.hpp"
#include "replay/archived_events.hpp"

namespace pitr::replay {
namespace {

using binlog::EventType;

// A larger event (a statement over 16 MiB) is classified by its beginning.
constexpr std::size_t kLargestWholeEvent = 16u << 20;

ChangeKind kind_of_rows(std::uint8_t type) {
  switch (binlog::rows_kind(type)) {
    case binlog::RowsKind::kInsert:
      return ChangeKind::kInsert;
    case binlog::RowsKind::kDelete:
      return ChangeKind::kDelete;
    default:
      return ChangeKind::kUpdate;
  }
}

// Collects one log's transactions.
class LogWalker {
 public:
  LogWalker(const archive::ArchivedLog& log,
            const std::function<bool(const TransactionRecord&)>& visit)
      : log_(log), visit_(visit) {
    if (auto hex = log.format_description())
      fd_ = binlog::decode_format_description(from_hex(*hex));
  }

  // Returns false once the visitor asked to stop.
  bool on_event(const binlog::StreamedEvent& ev) {
    const auto& h = ev.header;
    if (h.type == static_cast<std::uint8_t>(EventType::kFormatDescription) && ev.whole)
      fd_ = binlog::decode_format_description(ev.bytes);
    Bytes data = ev.whole && ev.bytes.size() >= fd_.checksum_size() + binlog::kEventHeaderSize
                     ? ev.bytes.first(ev.bytes.size() - fd_.checksum_size())
                     : ev.bytes;
    if (tracker_.at_boundary()) {
      current_ = TransactionRecord{};
      current_.source_id = log_.source_id;
      current_.file = log_.file;
      current_.start = ev.offset;
    }
    tracker_.feed(h, data, fd_);
    collect(h, data, ev.whole, fd_);
    if (!tracker_.completed_transaction()) return true;
    current_.end = ev.offset + h.event_size;
    current_.commit_time = tracker_.commit_time();
    current_.gtid = tracker_.gtid();
    tables_.clear();
    if (current_.changes.empty()) return true;
    return visit_(current_);
  }

 private:
  void collect(const binlog::EventHeader& h, Bytes data, bool whole,
               const binlog::FormatDescription& fd) {
    switch (static_cast<EventType>(h.type)) {
      case EventType::kTableMap: {
        auto t = binlog::decode_table_schema(data, fd);
        tables_[t.table_id] = std::move(t);
        return;
      }
      case EventType::kQuery: {
        if (!whole)
          return add({ChangeKind::kDdl, "", std::nullopt, "(statement too large to show)"});
        auto q = binlog::decode_query(data, fd);
        if (auto change = classify_query(std::string(q.query), std::string(q.database)))
          add(*change);
        return;
      }
      case EventType::kTransactionPayload:
        return collect_payload(data, fd);
      default:
        break;
    }
    if (!binlog::is_rows_event(h.type)) return;
    auto id = binlog::decode_rows_header(data, fd).table_id;
    auto table = tables_.find(id);
    if (table == tables_.end())
      throw binlog::BinlogError(
          log_.file, current_.start,
          fmt::format("rows event for table id {} without its TABLE_MAP", id));
    std::optional<std::uint64_t> rows;
    if (whole) rows = binlog::count_rows(data, fd, table->second);
    add({kind_of_rows(h.type), table->second.qualified(), rows, ""});
  }

  void collect_payload(Bytes data, const binlog::FormatDescription& fd) {
    auto inner_bytes =
        binlog::decompress_transaction_payload(binlog::decode_transaction_payload(data, fd));
    auto inner = binlog::EventReader::inner_events(inner_bytes, log_.file, fd);
    while (auto e = inner.next()) collect(e->header, e->data, true, inner.format());
  }

  void add(TableChange change) {
    for (auto& c : current_.changes)
      if (c.kind == change.kind && c.table == change.table && change.statement.empty() &&
          c.statement.empty()) {
        c.rows = c.rows && change.rows ? std::optional(*c.rows + *change.rows) : std::nullopt;
        return;
      }
    current_.changes.push_back(std::move(change));
  }

  const archive::ArchivedLog& log_;
  const std::function<bool(const TransactionRecord&)>& visit_;
  binlog::FormatDescription fd_;
  binlog::TransactionTracker tracker_;
  std::map<std::uint64_t, binlog::TableSchema> tables_;
  TransactionRecord current_;
};

}  // namespace

void for_each_transaction(const archive::BinlogArchive& archive,
                          const std::function<bool(const TransactionRecord&)>& visit,
                          const std::function<bool(const archive::ArchivedLog&)>& wanted) {
  std::unique_ptr<LogWalker> walker;
  for_each_archived_event(
      archive, kLargestWholeEvent, wanted, [&](const archive::ArchivedLog& log) -> EventVisitor {
        walker = std::make_unique<LogWalker>(log, visit);
        return [&](const binlog::StreamedEvent& ev) { return walker->on_event(ev); };
      });
}

}  // namespace pitr::replay
