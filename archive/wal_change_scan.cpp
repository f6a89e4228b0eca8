#include "archive/wal_change_scan.hpp"

#include <fmt/format.h>

#include "formats/postgres/wal_scanner.hpp"

namespace pitr::archive {

WalChangeScan scan_wal_changes(const WalSourceListing& source, TimelineId timeline, Lsn from,
                               Lsn to) {
  auto size = source.source.segment_size;
  std::map<std::uint64_t, WalPiece> pieces;
  for (const auto& p : source.pieces())
    if (p.timeline == timeline) pieces[p.segment] = p;
  postgres::WalChanges changes;
  postgres::WalScanner scanner(size);
  scanner.set_record_sink([&](Lsn lsn, const postgres::WalRecordParts& record) {
    if (lsn >= from && lsn < to) changes.add(record);
  });
  auto missing = [&](const std::string& what) {
    return WalChangeScan{std::nullopt, fmt::format("the archived WAL between {} and {} on "
                                                   "timeline {} is not whole: {}",
                                                   postgres::format_lsn(from),
                                                   postgres::format_lsn(to), timeline, what)};
  };
  if (to <= from) return {changes, ""};
  for (auto s = postgres::segment_of(from, size); s <= postgres::segment_of(to - 1, size); ++s) {
    auto it = pieces.find(s);
    auto name = postgres::wal_file_name(timeline, s, size);
    if (it == pieces.end()) return missing(name + " is not in the archive");
    Lsn at = it->second.start;
    source.read(it->second, [&](Bytes b) {
      scanner.feed(at, b, [](const postgres::WalEvent&) {});
      at += b.size();
    });
    if (scanner.ended() && scanner.position() < to)
      return missing(
          fmt::format("the WAL in {} ends at {}", name, postgres::format_lsn(scanner.position())));
    if (at < std::min<Lsn>(to, (s + 1) * size))
      return missing(fmt::format("{} ends at {}", name, postgres::format_lsn(at)));
  }
  return {changes, ""};
}

}  // namespace pitr::archive
