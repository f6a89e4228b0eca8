#include "archive/gap_record.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "archive/file_io.hpp"

namespace pitr::archive {

void record_gap(const Archive& archive, const GapRecord& gap) {
  nlohmann::json j = {{"source", gap.source_id},
                      {"after_file", gap.after_file},
                      {"after_position", gap.after_position},
                      {"wanted_file", gap.wanted_file},
                      {"detected_at", gap.detected_at},
                      {"server_error", gap.server_error}};
  auto ns = std::chrono::system_clock::now().time_since_epoch().count();
  archive.write_text(layout::gap(ns), j.dump(2) + "\n", storage::PutMode::kIfAbsent);
}

std::vector<GapRecord> list_gaps(const Archive& archive) {
  std::vector<GapRecord> gaps;
  for (const auto& object : archive.store().list(layout::gaps_prefix())) {
    if (!object.key.ends_with(".json")) continue;
    auto text = archive.read_text(object.key);
    if (!text) continue;  // removed since the listing
    auto j = nlohmann::json::parse(*text);
    gaps.push_back({j.at("source"), j.at("after_file"), j.at("after_position"),
                    j.value("wanted_file", ""), j.at("detected_at"), j.value("server_error", "")});
  }
  return gaps;
}

void record_gap_once(const Archive& archive, const GapRecord& gap) {
  for (const auto& g : list_gaps(archive))
    if (g.source_id == gap.source_id && g.after_file == gap.after_file &&
        g.after_position == gap.after_position)
      return;
  record_gap(archive, gap);
}

}  // namespace pitr::archive
