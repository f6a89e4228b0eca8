#include "archive/archive_layout.hpp"

#include <fmt/format.h>

#include "archive/file_io.hpp"

namespace pitr::archive::layout {
namespace {

constexpr std::string_view kSegmentSuffix = ".seg.zst";
constexpr std::string_view kPartialSuffix = ".partial";

bool ends_with_number_and(const std::string& name, std::string_view suffix) {
  if (name.size() != 16 + suffix.size() || !name.ends_with(suffix)) return false;
  return name.find_first_not_of("0123456789") == 16;
}

}  // namespace

std::string binlog_prefix() {
  return "binlog/";
}
std::string source_prefix(const std::string& source_id) {
  return binlog_prefix() + source_id + "/";
}
std::string log_prefix(const std::string& source_id, const std::string& file) {
  return source_prefix(source_id) + file + "/";
}
std::string segment(const std::string& source_id, const std::string& file, std::uint64_t start) {
  return log_prefix(source_id, file) + fmt::format("{:016d}{}", start, kSegmentSuffix);
}
std::string partial(const std::string& source_id, const std::string& file, std::uint64_t start) {
  return log_prefix(source_id, file) + fmt::format("{:016d}{}", start, kPartialSuffix);
}
std::string format_description(const std::string& source_id, const std::string& file) {
  return log_prefix(source_id, file) + kFormatDescriptionName;
}
bool is_segment_name(const std::string& name) {
  return ends_with_number_and(name, kSegmentSuffix);
}
bool is_partial_name(const std::string& name) {
  return ends_with_number_and(name, kPartialSuffix);
}
std::uint64_t start_of(const std::string& name) {
  return std::stoull(name.substr(0, 16));
}

std::string gaps_prefix() {
  return "gaps/";
}
std::string gap(std::int64_t detected_ns) {
  return fmt::format("{}{}.json", gaps_prefix(), detected_ns);
}

std::string block_packs_prefix() {
  return "blocks/packs/";
}
std::string block_indexes_prefix() {
  return "blocks/index/";
}
std::string block_pack(const std::string& pack) {
  return block_packs_prefix() + pack + ".pack";
}
std::string block_pack_index(const std::string& pack) {
  return block_indexes_prefix() + pack + ".idx";
}
std::string block_condemned_prefix() {
  return "blocks/condemned/";
}
std::string block_condemned(const std::string& pack) {
  return block_condemned_prefix() + pack + ".json";
}
std::optional<std::string> pack_name_of(const std::string& key) {
  for (auto [prefix, suffix] : {std::pair{block_packs_prefix(), std::string(".pack")},
                                std::pair{block_indexes_prefix(), std::string(".idx")},
                                std::pair{block_condemned_prefix(), std::string(".json")}}) {
    if (!key.starts_with(prefix) || !key.ends_with(suffix)) continue;
    auto name = key.substr(prefix.size(), key.size() - prefix.size() - suffix.size());
    if (name.size() == 32 && name.find_first_not_of("0123456789abcdef") == std::string::npos)
      return name;
  }
  return std::nullopt;
}

std::string backups_prefix() {
  return "backups/";
}
std::string backup_prefix(const std::string& id) {
  return backups_prefix() + id + "/";
}
std::string backup_file(const std::string& id, const std::string& file) {
  return backup_prefix(id) + file;
}

std::string wal_prefix() {
  return "wal/";
}
std::string wal_source_prefix(const std::string& source_id) {
  return wal_prefix() + source_id + "/";
}
std::string wal_source_record(const std::string& source_id) {
  return wal_source_prefix(source_id) + "source.json";
}
std::string sealed_wal(const std::string& source_id, const std::string& file, bool complete) {
  return wal_source_prefix(source_id) + file + (complete ? ".zst" : ".partial.zst");
}
std::string open_wal(const std::string& source_id, const std::string& file) {
  return wal_source_prefix(source_id) + file + ".partial";
}
std::string wal_summary(const std::string& source_id, const std::string& file) {
  return wal_source_prefix(source_id) + file + ".summary.zst";
}
std::string wal_history(const std::string& source_id, postgres::TimelineId timeline) {
  return wal_source_prefix(source_id) + postgres::history_file_name(timeline);
}

std::string binlog_catalogs_prefix() {
  return "catalogs/binlog/";
}
std::string binlog_catalog_prefix(const std::string& source_id) {
  return binlog_catalogs_prefix() + source_id + "/";
}
std::string wal_catalog_prefix(const std::string& source_id) {
  return "catalogs/wal/" + source_id + "/";
}

std::string capture_leases_prefix() {
  return "leases/capture/";
}
std::string capture_lease(std::uint64_t generation) {
  return fmt::format("{}{:016d}.json", capture_leases_prefix(), generation);
}

std::optional<KeyUnder> split_under(const std::string& prefix, const std::string& key) {
  if (!key.starts_with(prefix)) return std::nullopt;
  auto slash = key.find('/', prefix.size());
  if (slash == std::string::npos || slash == prefix.size() || slash + 1 == key.size())
    return std::nullopt;
  return KeyUnder{key.substr(prefix.size(), slash - prefix.size()), key.substr(slash + 1)};
}

std::optional<LogKey> parse_log_key(const std::string& key) {
  auto source = split_under(binlog_prefix(), key);
  if (!source) return std::nullopt;
  auto file = split_under("", source->rest);
  if (!file || file->rest.find('/') != std::string::npos) return std::nullopt;
  return LogKey{source->first, file->first, file->rest};
}

std::string base_name(const std::string& key) {
  auto slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

}  // namespace pitr::archive::layout

namespace pitr::archive {

void check_path_component(const std::string& name, const char* what) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos || name.size() > 200)
    throw IoError(fmt::format("refusing {} '{}': not usable as a file name", what, name));
}

}  // namespace pitr::archive
