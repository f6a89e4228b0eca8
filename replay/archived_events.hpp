#pragma once
// The archived binlog event by event, log by log: what find and log walk. Events up to
// `max_whole` bytes come whole (binlog/event_splitter.hpp).
#include <functional>

#include "archive/binlog_archive.hpp"
#include "formats/binlog/event_splitter.hpp"

namespace pitr::replay {

// Returns false to stop the walk.
using EventVisitor = std::function<bool(const binlog::StreamedEvent&)>;

// For each log `wanted` accepts (every log without it), in archive order, asks `start_log`
// for the visitor of its events, then feeds it every event.
void for_each_archived_event(
    const archive::BinlogArchive& archive, std::size_t max_whole,
    const std::function<bool(const archive::ArchivedLog&)>& wanted,
    const std::function<EventVisitor(const archive::ArchivedLog&)>& start_log);

}  // namespace pitr::replay
