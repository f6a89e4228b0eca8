#pragma once
// The human-relevant content of one event, for `pitr inspect`.
#include <nlohmann/json.hpp>
#include <string>

#include "formats/binlog/event_reader.hpp"

namespace pitr::tools {

// Extra fields of the event: gtid, query, xid, next_file, table, ... (absent when none).
nlohmann::json describe_event(const binlog::Event& event, const binlog::FormatDescription& fd);

}  // namespace pitr::tools
