#pragma once
// The few character sets (collation ids, as TABLE_MAP metadata gives them) pitr converts:
// binary, and latin1 (to UTF-8).
#include <cstdint>
#include <string>

namespace pitr::binlog {

inline constexpr std::uint32_t kBinaryCharset = 63;

bool is_latin1(std::uint32_t collation);
std::string latin1_to_utf8(const std::string& latin1);

}  // namespace pitr::binlog
