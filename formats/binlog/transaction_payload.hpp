#pragma once
// MySQL 8.0.20+ TRANSACTION_PAYLOAD_EVENT: a whole transaction's events, compressed.
#include <cstdint>
#include <vector>

#include "formats/binlog/format_description.hpp"

namespace pitr::binlog {

enum class PayloadCompression : std::uint8_t { kZstd = 0, kNone = 255 };

struct TransactionPayload {
  PayloadCompression compression = PayloadCompression::kNone;
  std::uint64_t uncompressed_size = 0;
  Bytes payload;  // as stored, still compressed
};

// Decodes the field list of the event (header included, checksum excluded).
TransactionPayload decode_transaction_payload(Bytes event, const FormatDescription& fd);

// The inner events, decompressed and concatenated. Refuses a payload whose declared
// uncompressed size exceeds `limit` (hostile input must not exhaust memory).
std::vector<std::uint8_t> decompress_transaction_payload(const TransactionPayload& payload,
                                                         std::uint64_t limit = 1ull << 32);

}  // namespace pitr::binlog
