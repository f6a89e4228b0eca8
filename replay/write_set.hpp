#pragma once
// The write set of one transaction, built from its binlog events: a hash for every unique
// key value of every row image it changes (as MySQL's WRITESET dependency tracking does),
// or the finding that it must be applied alone. Two transactions whose write sets do not
// meet change disjoint rows and may be applied in either order. No I/O of its own: table
// keys come through a lookup.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "formats/binlog/event_header.hpp"
#include "formats/binlog/format_description.hpp"
#include "formats/binlog/row_image.hpp"
#include "replay/table_keys.hpp"

namespace pitr::replay {

class WriteSet {
 public:
  using KeyLookup =
      std::function<const TableKeys&(const std::string& db, const std::string& table)>;
  explicit WriteSet(KeyLookup lookup) : lookup_(std::move(lookup)) {}

  // Every event of the transaction, in order; `raw` is the whole event, checksum included.
  void event(const binlog::EventHeader& header, Bytes raw, const binlog::FormatDescription& fd);
  // Starts the next transaction.
  void reset();

  // The transaction must run alone: it has statements, a non-transactional or XA part,
  // rows that pitr cannot key, or too many rows to track.
  bool serial() const { return serial_; }
  // It ran a statement, which may have changed a table's keys.
  bool ran_statement() const { return ran_statement_; }
  const std::vector<std::uint64_t>& hashes() const { return hashes_; }
  // MariaDB's group-commit id: transactions that share one committed together on the
  // source, which proves them independent.
  std::optional<std::uint64_t> commit_id() const { return commit_id_; }

 private:
  void rows(Bytes data, const binlog::FormatDescription& fd);
  void start_key(const binlog::TableSchema& table);
  void key_row(const binlog::TableSchema& table, const TableKeys& keys,
               const binlog::RowImage& image);
  void make_serial();

  KeyLookup lookup_;
  std::map<std::uint64_t, binlog::TableSchema> tables_;  // by table id, this transaction's
  std::vector<std::uint64_t> hashes_;
  std::optional<std::uint64_t> commit_id_;
  bool serial_ = false;
  bool ran_statement_ = false;
  std::string scratch_;
};

}  // namespace pitr::replay
