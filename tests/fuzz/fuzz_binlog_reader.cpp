// libFuzzer target: arbitrary bytes as a binlog file, through the reader, the transaction
// tracker and every body decoder pitr uses. Any crash or sanitizer report is a bug; a
// BinlogError or DecodeError is the expected answer to bad input.
#include <cstdint>
#include <cstring>

#include "archive/partial_scan.hpp"
#include "formats/binlog/event_bodies.hpp"
#include "formats/binlog/event_reader.hpp"
#include "formats/binlog/event_types.hpp"
#include "formats/binlog/row_image.hpp"
#include "formats/binlog/row_json.hpp"
#include "formats/binlog/transaction_payload.hpp"
#include "formats/binlog/transaction_tracker.hpp"

using namespace pitr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> image(binlog::kBinlogMagic, binlog::kBinlogMagic + 4);
  image.insert(image.end(), data, data + size);
  try {
    binlog::EventReader reader(image, "fuzz", {size % 2 == 0, true});
    binlog::TransactionTracker tracker;
    binlog::TableSchema table;
    while (auto ev = reader.next()) {
      tracker.feed(ev->header, ev->data, reader.format());
      // Row images are walked for find and for the write sets of parallel replay, and their
      // values decoded.
      if (ev->header.type == static_cast<std::uint8_t>(binlog::EventType::kTableMap))
        table = binlog::decode_table_schema(ev->data, reader.format());
      if (binlog::is_rows_event(ev->header.type))
        binlog::for_each_row_image(ev->data, reader.format(), table,
                                   [&](const binlog::RowImage& row) {
                                     std::string json;
                                     binlog::append_row_json(json, table, row);
                                   });
      if (ev->header.type == static_cast<std::uint8_t>(binlog::EventType::kTransactionPayload)) {
        auto payload = binlog::decompress_transaction_payload(
            binlog::decode_transaction_payload(ev->data, reader.format()), 1 << 20);
        auto inner = binlog::EventReader::inner_events(payload, "inner", reader.format());
        while (inner.next()) {
        }
      }
    }
  } catch (const binlog::BinlogError&) {
  } catch (const DecodeError&) {
  }
  archive::scan_partial(image, "fuzz", 0, std::nullopt);
  return 0;
}
