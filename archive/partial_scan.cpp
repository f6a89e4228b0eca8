#include "archive/partial_scan.hpp"

#include "formats/hex.hpp"

#include <stdexcept>

#include "formats/binlog/event_reader.hpp"
#include "formats/binlog/event_types.hpp"

namespace pitr::archive {

PartialScan scan_partial(Bytes bytes, const std::string& file, std::uint64_t start,
                         const std::optional<std::string>& fde_hex) {
  PartialScan scan;
  scan.boundary = start == 0 ? 0 : start;
  scan.end = start + bytes.size();
  std::vector<std::uint8_t> fde_bytes;
  std::optional<binlog::EventReader> reader;
  try {
    if (start == 0) {
      if (bytes.size() < 4) {
        if (!bytes.empty()) scan.tail_problem = "incomplete binlog magic";
        return scan;
      }
      reader.emplace(bytes, file);
      scan.boundary = 4;
    } else {
      if (!fde_hex) throw std::runtime_error("no FORMAT_DESCRIPTION_EVENT known for " + file);
      fde_bytes = from_hex(*fde_hex);
      scan.format = binlog::decode_format_description(fde_bytes);
      scan.format_description_hex = fde_hex;
      reader.emplace(binlog::EventReader::continuation(bytes, file, start, *scan.format));
    }
    while (auto ev = reader->next()) {
      if (ev->header.type == static_cast<std::uint8_t>(binlog::EventType::kFormatDescription)) {
        scan.format = reader->format();
        scan.format_description_hex = to_hex(ev->raw);
      }
      scan.stats.feed(ev->header, ev->data, reader->format(), ev->end());
      if (scan.stats.at_boundary()) scan.boundary = ev->end();
    }
  } catch (const std::exception& e) {
    scan.tail_problem = e.what();
  }
  return scan;
}

}  // namespace pitr::archive
