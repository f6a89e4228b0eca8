#include "archive/segment_record.hpp"

namespace pitr::archive {
namespace {

template <class T>
void put_optional(nlohmann::json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

std::optional<std::string> get_optional(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<std::string>();
}

}  // namespace

nlohmann::json to_json(const SegmentRecord& r) {
  nlohmann::json j = {{"version", 1},
                      {"source", r.source_id},
                      {"file", r.file},
                      {"start", r.start},
                      {"end", r.end},
                      {"first_time", r.first_time},
                      {"last_time", r.last_time},
                      {"events", r.events},
                      {"transactions", r.transactions},
                      {"sha256", r.sha256},
                      {"format_description", r.format_description},
                      {"ends_file", r.ends_file},
                      {"sealed_at", r.sealed_at}};
  put_optional(j, "first_gtid", r.first_gtid);
  put_optional(j, "last_gtid", r.last_gtid);
  put_optional(j, "next_file", r.next_file);
  return j;
}

SegmentRecord segment_record_from_json(const nlohmann::json& j) {
  SegmentRecord r;
  r.source_id = j.at("source").get<std::string>();
  r.file = j.at("file").get<std::string>();
  r.start = j.at("start").get<std::uint64_t>();
  r.end = j.at("end").get<std::uint64_t>();
  r.first_time = j.at("first_time").get<std::uint32_t>();
  r.last_time = j.at("last_time").get<std::uint32_t>();
  r.events = j.at("events").get<std::uint64_t>();
  r.transactions = j.at("transactions").get<std::uint64_t>();
  r.sha256 = j.at("sha256").get<std::string>();
  r.format_description = j.value("format_description", "");
  r.ends_file = j.value("ends_file", false);
  r.sealed_at = j.value("sealed_at", std::uint64_t{0});
  r.first_gtid = get_optional(j, "first_gtid");
  r.last_gtid = get_optional(j, "last_gtid");
  r.next_file = get_optional(j, "next_file");
  return r;
}

}  // namespace pitr::archive
