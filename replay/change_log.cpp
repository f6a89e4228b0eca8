#include "replay/change_log.hpp"

#include <fmt/format.h>

#include <map>
#include <regex>

#include "formats/binlog/event_bodies.hpp"
#include "formats/binlog/event_reader.hpp"
#include "formats/binlog/event_splitter.hpp"
#include "formats/binlog/event_types.hpp"
#include "formats/binlog/row_image.hpp"
#include "formats/binlog/row_json.hpp"
#include "formats/binlog/row_sql.hpp"
#include "formats/binlog/transaction_payload.hpp"
#include "formats/binlog/transaction_tracker.hpp"
#include "formats/hex.hpp"
#include "replay/archived_events.hpp"

namespace pitr::replay {
namespace {

using binlog::EventType;

constexpr std::size_t kLargestEvent = std::size_t{1} << 30;

// A statement with the default database it ran in; not for statements about databases
// themselves, whose default database may not exist (yet, or any more).
std::string statement_sql(const std::string& statement, const std::string& database) {
  static const std::regex about_databases(R"(^\s*(CREATE|DROP|ALTER)\s+(DATABASE|SCHEMA)\b)",
                                          std::regex::icase);
  if (database.empty() || std::regex_search(statement, about_databases)) return statement + ";";
  return "USE " + binlog::quote_identifier(database) + ";\n" + statement + ";";
}

// One log's changes, event by event.
class RowWalker {
 public:
  RowWalker(const archive::ArchivedLog& log, const std::function<bool(const RowChange&)>& visit,
            bool with_sql)
      : log_(log), visit_(visit), with_sql_(with_sql) {
    if (auto hex = log.format_description())
      fd_ = binlog::decode_format_description(from_hex(*hex));
  }

  // Returns false once the visitor asked to stop.
  bool on_event(const binlog::StreamedEvent& ev) {
    const auto& h = ev.header;
    if (!ev.whole)
      throw binlog::BinlogError(log_.file, ev.offset,
                                "an event larger than 1 GiB, which pitr log does not hold");
    if (h.type == static_cast<std::uint8_t>(EventType::kFormatDescription))
      fd_ = binlog::decode_format_description(ev.bytes);
    Bytes data = ev.bytes.size() >= fd_.checksum_size() + binlog::kEventHeaderSize
                     ? ev.bytes.first(ev.bytes.size() - fd_.checksum_size())
                     : ev.bytes;
    tracker_.feed(h, data, fd_);
    event(h, data, ev.offset, fd_);
    if (tracker_.completed_transaction()) tables_.clear();
    return !stopped_;
  }

 private:
  void event(const binlog::EventHeader& h, Bytes data, std::uint64_t offset,
             const binlog::FormatDescription& fd) {
    switch (static_cast<EventType>(h.type)) {
      case EventType::kTableMap: {
        auto t = binlog::decode_table_schema(data, fd);
        tables_[t.table_id] = std::move(t);
        return;
      }
      case EventType::kQuery:
        return query(h, data, offset, fd);
      case EventType::kTransactionPayload: {
        auto inner_bytes =
            binlog::decompress_transaction_payload(binlog::decode_transaction_payload(data, fd));
        auto inner = binlog::EventReader::inner_events(inner_bytes, log_.file, fd);
        while (auto e = inner.next()) event(e->header, e->data, offset, inner.format());
        return;
      }
      default:
        if (binlog::is_rows_event(h.type)) rows(h, data, offset, fd);
    }
  }

  RowChange base(const binlog::EventHeader& h, std::uint64_t offset) const {
    RowChange c;
    c.source_id = log_.source_id;
    c.file = log_.file;
    c.position = offset;
    c.server_id = h.server_id;
    c.time = h.timestamp;
    c.gtid = tracker_.gtid();
    return c;
  }

  void query(const binlog::EventHeader& h, Bytes data, std::uint64_t offset,
             const binlog::FormatDescription& fd) {
    auto q = binlog::decode_query(data, fd);
    if (q.query.empty()) return;  // MariaDB's compressed query: not decoded yet
    auto found = classify_query(std::string(q.query), std::string(q.database));
    if (!found) return;  // BEGIN, COMMIT, ...
    const auto& t = *found;
    auto c = base(h, offset);
    c.kind = t.kind;  // ddl, or statement-based DML
    auto dot = t.table.find('.');
    c.database = dot == std::string::npos ? std::string(q.database) : t.table.substr(0, dot);
    c.table = dot == std::string::npos ? t.table : t.table.substr(dot + 1);
    c.statement = std::string(q.query);
    if (with_sql_) c.sql = statement_sql(c.statement, std::string(q.database));
    emit(c);
  }

  void rows(const binlog::EventHeader& h, Bytes data, std::uint64_t offset,
            const binlog::FormatDescription& fd) {
    auto id = binlog::decode_rows_header(data, fd).table_id;
    auto table = tables_.find(id);
    if (table == tables_.end())
      throw binlog::BinlogError(
          log_.file, offset, fmt::format("rows event for table id {} without its TABLE_MAP", id));
    const auto& schema = table->second;
    auto kind = binlog::rows_kind(h.type);
    std::string before;
    binlog::RowImage before_row;
    bool have_before = false;
    bool walked = binlog::for_each_row_image(data, fd, schema, [&](const binlog::RowImage& row) {
      if (kind == binlog::RowsKind::kUpdate && !have_before) {
        before.clear();
        if (!with_sql_) binlog::append_row_json(before, schema, row);
        before_row = row;
        have_before = true;
        return;
      }
      auto c = base(h, offset);
      c.database = schema.database;
      c.table = schema.table;
      std::string image;  // the images are for json and text; sql needs only the statement
      if (!with_sql_) binlog::append_row_json(image, schema, row);
      if (kind == binlog::RowsKind::kInsert) {
        c.kind = ChangeKind::kInsert;
        c.after = std::move(image);
        if (with_sql_) c.sql = binlog::insert_sql(schema, row);
      } else if (kind == binlog::RowsKind::kDelete) {
        c.kind = ChangeKind::kDelete;
        c.before = std::move(image);
        if (with_sql_) c.sql = binlog::delete_sql(schema, row);
      } else {
        c.kind = ChangeKind::kUpdate;
        c.before = std::move(before);
        c.after = std::move(image);
        if (with_sql_) c.sql = binlog::update_sql(schema, before_row, row);
        have_before = false;
      }
      emit(c);
    });
    if (!walked)
      throw binlog::BinlogError(
          log_.file, offset,
          "a rows event pitr log cannot decode yet (MariaDB compressed rows or a MySQL partial "
          "JSON update)");
  }

  void emit(const RowChange& c) {
    if (!stopped_) stopped_ = !visit_(c);
  }

  const archive::ArchivedLog& log_;
  const std::function<bool(const RowChange&)>& visit_;
  binlog::FormatDescription fd_;
  binlog::TransactionTracker tracker_;
  bool with_sql_;
  std::map<std::uint64_t, binlog::TableSchema> tables_;
  bool stopped_ = false;
};

}  // namespace

void for_each_row_change(const archive::BinlogArchive& archive,
                         const std::function<bool(const RowChange&)>& visit,
                         const std::function<bool(const archive::ArchivedLog&)>& wanted,
                         bool with_sql) {
  std::unique_ptr<RowWalker> walker;
  for_each_archived_event(
      archive, kLargestEvent, wanted, [&](const archive::ArchivedLog& log) -> EventVisitor {
        walker = std::make_unique<RowWalker>(log, visit, with_sql);
        return [&](const binlog::StreamedEvent& ev) { return walker->on_event(ev); };
      });
}

}  // namespace pitr::replay
