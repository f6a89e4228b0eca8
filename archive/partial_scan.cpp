#include "archive/partial_scan.hpp"

#include <stdexcept>

#include "formats/binlog/event_reader.hpp"
#include "formats/binlog/event_types.hpp"

namespace pitr::archive {

std::string to_hex(Bytes bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::vector<std::uint8_t> from_hex(const std::string& hex) {
  if (hex.size() % 2) throw std::invalid_argument("odd-length hex string");
  std::vector<std::uint8_t> out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  return out;
}

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
