#include "replay/write_set.hpp"

#include "formats/binlog/event_bodies.hpp"
#include "formats/binlog/event_types.hpp"

namespace pitr::replay {
namespace {

using binlog::EventType;

// Beyond this many keys a transaction is applied alone rather than tracked.
constexpr std::size_t kMostHashes = 200000;

// Every table with foreign keys shares one hash: see TableKeys::Mode::kForeignKeys.
constexpr std::string_view kForeignKeyTables = "\x01foreign-key tables";

std::uint64_t hash_of(std::string_view bytes) {
  return std::hash<std::string_view>{}(bytes);
}

void append_field(std::string& out, std::string_view field) {
  auto n = static_cast<std::uint32_t>(field.size());
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out.append(field);
}

}  // namespace

void WriteSet::reset() {
  tables_.clear();
  hashes_.clear();
  commit_id_.reset();
  serial_ = ran_statement_ = false;
}

void WriteSet::make_serial() {
  serial_ = true;
  hashes_.clear();
}

void WriteSet::event(const binlog::EventHeader& h, Bytes raw, const binlog::FormatDescription& fd) {
  Bytes data = raw.first(raw.size() - fd.checksum_size());
  switch (static_cast<EventType>(h.type)) {
    case EventType::kMariaGtid: {
      reset();
      auto g = binlog::decode_maria_gtid(data, fd);
      commit_id_ = g.commit_id;
      constexpr auto kAlone = binlog::kMariaGtidStandalone | binlog::kMariaGtidDdl |
                              binlog::kMariaGtidPreparedXa | binlog::kMariaGtidCompletedXa;
      if ((g.flags & kAlone) || !(g.flags & binlog::kMariaGtidTransactional) ||
          !(g.flags & binlog::kMariaGtidAllowParallel))
        make_serial();
      return;
    }
    case EventType::kGtid:
    case EventType::kAnonymousGtid:
      return reset();  // MySQL: its transactions are told apart by write set alone
    case EventType::kQuery: {
      auto text = binlog::decode_query(data, fd).query;
      if (text == "BEGIN" || text == "COMMIT") return;
      ran_statement_ = true;
      return make_serial();
    }
    case EventType::kTableMap: {
      auto t = binlog::decode_table_schema(data, fd);
      tables_[t.table_id] = std::move(t);
      return;
    }
    case EventType::kXid:
    case EventType::kMariaAnnotateRows:
    case EventType::kRowsQuery:
      return;
    default:
      if (binlog::is_rows_event(h.type)) return rows(data, fd);
      return make_serial();  // INTVAR, RAND, USER_VAR, XA, LOAD, and what pitr does not know
  }
}

// Starts a key in scratch_ with the table's name.
void WriteSet::start_key(const binlog::TableSchema& table) {
  scratch_.clear();
  append_field(scratch_, table.database);
  append_field(scratch_, table.table);
}

void WriteSet::rows(Bytes data, const binlog::FormatDescription& fd) {
  if (serial_) return;
  auto it = tables_.find(binlog::decode_rows_header(data, fd).table_id);
  if (it == tables_.end()) return make_serial();
  const auto& table = it->second;
  const auto& keys = lookup_(table.database, table.table);
  if (keys.mode == TableKeys::Mode::kForeignKeys) {
    hashes_.push_back(hash_of(kForeignKeyTables));
    return;
  }
  if (keys.mode == TableKeys::Mode::kWholeTable) {
    start_key(table);
    hashes_.push_back(hash_of(scratch_));
    return;
  }
  bool walked = binlog::for_each_row_image(data, fd, table, [&](const binlog::RowImage& image) {
    if (!serial_) key_row(table, keys, image);
  });
  if (!walked) make_serial();
}

void WriteSet::key_row(const binlog::TableSchema& table, const TableKeys& keys,
                       const binlog::RowImage& image) {
  for (std::size_t k = 0; k < keys.unique_keys.size(); ++k) {
    start_key(table);
    scratch_.push_back(static_cast<char>(k));
    bool has_null = false;
    for (auto column : keys.unique_keys[k]) {
      // A column missing from a partial image leaves the row unkeyed.
      if (column >= image.size() || image[column].state == binlog::ColumnValue::kAbsent)
        return make_serial();
      if (image[column].state == binlog::ColumnValue::kNull) has_null = true;
      const auto& v = image[column].bytes;
      append_field(scratch_, {reinterpret_cast<const char*>(v.data()), v.size()});
    }
    // Rows whose key has a NULL never collide on that unique key.
    if (!has_null) hashes_.push_back(hash_of(scratch_));
  }
  if (hashes_.size() > kMostHashes) make_serial();
}

}  // namespace pitr::replay
