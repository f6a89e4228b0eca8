#include "replay/archived_events.hpp"

namespace pitr::replay {
namespace {

struct Stop {};

}  // namespace

void for_each_archived_event(
    const archive::BinlogArchive& archive, std::size_t max_whole,
    const std::function<bool(const archive::ArchivedLog&)>& wanted,
    const std::function<EventVisitor(const archive::ArchivedLog&)>& start_log) {
  std::vector<const archive::ArchivedLog*> logs;
  for (const auto& log : archive.logs())
    if (!wanted || wanted(log)) logs.push_back(&log);
  archive.will_read(logs);
  try {
    for (const auto* log : logs) {
      auto visit = start_log(*log);
      binlog::EventSplitter splitter(log->start(), max_whole);
      archive.read_log(*log, [&](Bytes chunk) {
        splitter.feed(chunk, [&](const binlog::StreamedEvent& ev) {
          if (!visit(ev)) throw Stop{};
        });
      });
    }
  } catch (const Stop&) {
  }
}

}  // namespace pitr::replay
