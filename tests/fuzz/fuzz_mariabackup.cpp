// libFuzzer target: arbitrary bytes as mariabackup's output: its mbstream (fed whole and in
// uneven pieces, which must agree), an incremental's .delta and .meta files, and its
// xtrabackup_checkpoints and xtrabackup_binlog_info files. A DecodeError or a result, never a
// crash.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "formats/mariadb/backup_metadata.hpp"
#include "formats/mariadb/innodb_delta.hpp"
#include "formats/mariadb/mbstream_reader.hpp"

using namespace pitr;

namespace {

// What a stream delivered, or that it was refused.
std::string read_stream(Bytes data, std::size_t piece) {
  std::string seen;
  // Payload pieces are summed per file: how a chunk is cut into pieces must not matter.
  std::map<std::string, std::uint64_t> bytes;
  mariadb::MbstreamReader reader(
      {[&](const std::string& path, std::uint64_t, Bytes b, bool) { bytes[path] += b.size(); },
       [&](const std::string& path) { seen += path + "$;"; },
       [&](const std::string& path, std::uint64_t at) {
         seen += path + "@" + std::to_string(at) + ";";
       },
       [&](const std::string& path) { seen += "-" + path + ";"; },
       [&](const std::string& from, const std::string& to) { seen += from + ">" + to + ";"; }});
  try {
    for (std::size_t at = 0; at < data.size(); at += piece)
      reader.feed(data.subspan(at, std::min(piece, data.size() - at)));
    reader.finish();
  } catch (const DecodeError&) {
    seen += "refused";
  }
  for (const auto& [path, n] : bytes) seen += path + ":" + std::to_string(n) + ";";
  return seen;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes bytes(data, size);
  if (read_stream(bytes, size ? size : 1) != read_stream(bytes, 3)) __builtin_trap();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    mariadb::DeltaReader delta(1024, [](std::uint32_t, Bytes) {});
    delta.feed(bytes);
    delta.finish();
  } catch (const DecodeError&) {
  }
  try {
    mariadb::parse_delta_meta(text);
  } catch (const DecodeError&) {
  }
  try {
    mariadb::parse_checkpoints(text);
  } catch (const DecodeError&) {
  }
  try {
    mariadb::parse_binlog_info(text);
  } catch (const DecodeError&) {
  }
  return 0;
}
