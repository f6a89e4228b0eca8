#pragma once
// Binlog file names ("binlog.000012"): ordering by sequence number.
#include <cstdint>
#include <string>

namespace pitr::archive {

// The numeric extension of a binlog name, or 0 when it has none.
std::uint64_t binlog_sequence(const std::string& name);
// Orders names of one server's binlogs by base name, then sequence number.
bool binlog_name_less(const std::string& a, const std::string& b);
// Whether both names are of one series (the same base name), so their order says which
// the server wrote first.
bool binlog_same_series(const std::string& a, const std::string& b);

}  // namespace pitr::archive
