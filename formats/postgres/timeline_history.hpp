#pragma once
// Timeline history files ("00000002.history"): each line names a parent timeline and the
// LSN where the child branched off it.
#include <string_view>
#include <vector>

#include "formats/postgres/lsn.hpp"

namespace pitr::postgres {

struct TimelineSwitch {
  TimelineId parent = 0;
  Lsn switch_point = 0;  // the first LSN that belongs to the child, not the parent
};

// Comments and blank lines are skipped; a malformed line is a DecodeError.
std::vector<TimelineSwitch> parse_timeline_history(std::string_view text);

}  // namespace pitr::postgres
