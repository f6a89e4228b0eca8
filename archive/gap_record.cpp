#include "archive/gap_record.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "archive/file_io.hpp"

namespace pitr::archive {

void record_gap(const ArchiveLayout& layout, const GapRecord& gap) {
  fs::create_directories(layout.gaps_dir());
  nlohmann::json j = {{"source", gap.source_id},
                      {"after_file", gap.after_file},
                      {"after_position", gap.after_position},
                      {"wanted_file", gap.wanted_file},
                      {"detected_at", gap.detected_at},
                      {"server_error", gap.server_error}};
  auto ns = std::chrono::system_clock::now().time_since_epoch().count();
  auto text = j.dump(2) + "\n";
  write_file_atomically(layout.gaps_dir() / fmt::format("{}.json", ns), as_bytes(text));
}

std::vector<GapRecord> list_gaps(const ArchiveLayout& layout) {
  std::vector<GapRecord> gaps;
  if (!fs::exists(layout.gaps_dir())) return gaps;
  std::vector<fs::path> files;
  for (auto& entry : fs::directory_iterator(layout.gaps_dir()))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (auto& path : files) {
    auto j = nlohmann::json::parse(read_small_file(path));
    gaps.push_back({j.at("source"), j.at("after_file"), j.at("after_position"),
                    j.value("wanted_file", ""), j.at("detected_at"), j.value("server_error", "")});
  }
  return gaps;
}

void record_gap_once(const ArchiveLayout& layout, const GapRecord& gap) {
  for (const auto& g : list_gaps(layout))
    if (g.source_id == gap.source_id && g.after_file == gap.after_file &&
        g.after_position == gap.after_position)
      return;
  record_gap(layout, gap);
}

}  // namespace pitr::archive
