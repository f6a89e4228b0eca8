#include "archive/archive_layout.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "archive/file_io.hpp"

namespace pitr::archive {
namespace {

constexpr std::string_view kSegmentSuffix = ".seg.zst";
constexpr std::string_view kPartialSuffix = ".partial";

bool ends_with_number_and(const std::string& name, std::string_view suffix) {
  if (name.size() != 16 + suffix.size() || !name.ends_with(suffix)) return false;
  return name.find_first_not_of("0123456789") == 16;
}

}  // namespace

fs::path ArchiveLayout::segment(const std::string& source_id, const std::string& file,
                                std::uint64_t start) const {
  return log_dir(source_id, file) / fmt::format("{:016d}{}", start, kSegmentSuffix);
}

fs::path ArchiveLayout::partial(const std::string& source_id, const std::string& file,
                                std::uint64_t start) const {
  return log_dir(source_id, file) / fmt::format("{:016d}{}", start, kPartialSuffix);
}

bool ArchiveLayout::is_segment_name(const std::string& name) {
  return ends_with_number_and(name, kSegmentSuffix);
}
bool ArchiveLayout::is_partial_name(const std::string& name) {
  return ends_with_number_and(name, kPartialSuffix);
}
std::uint64_t ArchiveLayout::start_of(const std::string& name) {
  return std::stoull(name.substr(0, 16));
}

void ArchiveLayout::check_exists() const {
  if (!fs::exists(marker()))
    throw IoError(root_.string() +
                  " is not a pitr archive (no pitr-archive.json); "
                  "start `pitr capture --archive " +
                  root_.string() + "` to create one");
  auto meta = nlohmann::json::parse(read_small_file(marker()));
  int version = meta.value("version", 0);
  if (meta.value("format", "") != "pitr-archive" || version < 1 || version > kArchiveFormatVersion)
    throw IoError(
        fmt::format("{} has archive format version {}, this pitr reads 1 to {}; "
                    "use a newer pitr",
                    root_.string(), version, kArchiveFormatVersion));
}

void ArchiveLayout::create_or_check() const {
  if (fs::exists(marker())) return check_exists();
  fs::create_directories(root_);
  nlohmann::json meta = {{"format", "pitr-archive"}, {"version", kArchiveFormatVersion}};
  auto text = meta.dump(2) + "\n";
  write_file_atomically(marker(), as_bytes(text));
}

void check_path_component(const std::string& name, const char* what) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos || name.size() > 200)
    throw IoError(fmt::format("refusing {} '{}': not usable as a file name", what, name));
}

}  // namespace pitr::archive
