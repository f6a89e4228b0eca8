// libFuzzer target for the PostgreSQL parsers: the WAL record walker, one record's block
// references and the change map, replication and base-backup messages, tar streams, backup
// manifests, timeline history files, and data directory paths as a server lists them (with
// the plan of the segment they name), WAL summaries, and PostgreSQL 17's incremental files
// with the plan of the segment rebuilt from one. The
// first byte picks the parser; everything must end in success or a DecodeError.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "formats/crc32c.hpp"
#include "formats/postgres/base_backup_stream.hpp"
#include "formats/postgres/data_dir_rules.hpp"
#include "formats/postgres/incremental_file.hpp"
#include "formats/postgres/replication_messages.hpp"
#include "formats/postgres/segment_plan.hpp"
#include "formats/postgres/server_manifest.hpp"
#include "formats/postgres/timeline_history.hpp"
#include "formats/postgres/wal_changes.hpp"
#include "formats/postgres/wal_scanner.hpp"
#include "formats/postgres/wal_summary.hpp"
#include "formats/tar_reader.hpp"

using namespace pitr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Bytes input(data + 1, size - 1);
  try {
    switch (data[0] % 10) {
      case 0: {
        postgres::WalScanner scanner(1u << 20);
        // In two pieces, so that records and page headers are split across feeds.
        auto half = input.size() / 2;
        scanner.feed(0, input.first(half), [](const postgres::WalEvent&) {});
        scanner.feed(half, input.subspan(half), [](const postgres::WalEvent&) {});
        break;
      }
      case 1:
        postgres::parse_server_message(input);
        break;
      case 2:
        postgres::parse_backup_message(input);
        break;
      case 3: {
        TarReader tar({[](const TarEntry&) {}, [](Bytes) {}, [] {}});
        tar.feed(input);
        tar.finish();
        break;
      }
      case 4:
        postgres::parse_server_manifest(as_text(input));
        break;
      case 5:
        postgres::parse_timeline_history(as_text(input));
        break;
      case 6: {
        // One record (its length field made right, so the headers behind it are reached),
        // then into the change map.
        std::vector<std::uint8_t> record(input.begin(), input.end());
        if (record.size() >= 4) store_le(record.data(), record.size(), 4);
        postgres::WalChanges changes;
        changes.add(postgres::decode_wal_record(record, 0xD110));
        break;
      }
      case 7: {
        auto path = as_text(input);
        postgres::backup_rule(path, input.size() % 2 == 0);
        if (auto segment = postgres::relation_segment(path)) {
          postgres::WalChanges changes;
          postgres::plan_segment(*segment, segment->file.rel % 5, segment->segment % 9, changes,
                                 131072);
        }
        break;
      }
      case 8: {
        // A WAL summary, its CRC made right so that the body is reached, merged into a map.
        std::vector<std::uint8_t> summary(input.begin(), input.end());
        if (summary.size() >= 4)
          store_le(summary.data() + summary.size() - 4,
                   crc32c(Bytes(summary).first(summary.size() - 4)), 4);
        postgres::WalChanges changes;
        for (const auto& chunk : postgres::decode_wal_summary(summary).chunks)
          changes.append(chunk.changes);
        break;
      }
      case 9: {
        // Small pages, so that headers, padding and pages all fit in an input; in two pieces.
        postgres::IncrementalFileReader file("INCREMENTAL.1", 64, 32, [](std::size_t, Bytes) {});
        auto half = input.size() / 2;
        file.feed(input.first(half));
        file.feed(input.subspan(half));
        postgres::reconstruction_plan(file.finish(), static_cast<std::uint32_t>(input.size() % 40));
        break;
      }
    }
  } catch (const DecodeError&) {
  }
  return 0;
}
