#include "formats/binlog/transaction_payload.hpp"

#include <zstd.h>

#include <memory>
#include <optional>

#include "formats/binlog/event_types.hpp"

namespace pitr::binlog {
namespace {

enum PayloadField : std::uint64_t {
  kEndMark = 0,
  kPayloadSize = 1,
  kCompressionType = 2,
  kUncompressedSize = 3,
};

}  // namespace

TransactionPayload decode_transaction_payload(Bytes event, const FormatDescription& fd) {
  ByteCursor c(event, "TRANSACTION_PAYLOAD_EVENT");
  // The fields start right after the common header: MySQL's FDE declares a post-header
  // length for this type that the event does not actually have.
  c.skip(fd.common_header_length);
  TransactionPayload p;
  std::optional<std::uint64_t> size;
  while (true) {
    auto type = c.lenenc();
    if (type == kEndMark) break;
    auto length = c.lenenc();
    ByteCursor field(c.bytes(length), "TRANSACTION_PAYLOAD_EVENT field");
    switch (type) {
      case kPayloadSize:
        size = field.lenenc();
        break;
      case kCompressionType: {
        auto v = field.lenenc();
        if (v != 0 && v != 255)
          throw DecodeError("TRANSACTION_PAYLOAD_EVENT: unknown compression type " +
                            std::to_string(v));
        p.compression = static_cast<PayloadCompression>(v);
        break;
      }
      case kUncompressedSize:
        p.uncompressed_size = field.lenenc();
        break;
      default:
        break;  // fields from later servers are skipped by their length
    }
  }
  p.payload = c.rest();
  if (size && *size != p.payload.size())
    throw DecodeError("TRANSACTION_PAYLOAD_EVENT: declares " + std::to_string(*size) +
                      " payload bytes but holds " + std::to_string(p.payload.size()));
  return p;
}

std::vector<std::uint8_t> decompress_transaction_payload(const TransactionPayload& p,
                                                         std::uint64_t limit) {
  if (p.compression == PayloadCompression::kNone) return {p.payload.begin(), p.payload.end()};
  if (p.uncompressed_size > limit)
    throw DecodeError("TRANSACTION_PAYLOAD_EVENT: uncompressed size " +
                      std::to_string(p.uncompressed_size) + " exceeds the limit");
  std::vector<std::uint8_t> out(p.uncompressed_size);
  auto n = ZSTD_decompress(out.data(), out.size(), p.payload.data(), p.payload.size());
  if (ZSTD_isError(n))
    throw DecodeError(std::string("TRANSACTION_PAYLOAD_EVENT: zstd: ") + ZSTD_getErrorName(n));
  if (n != out.size())
    throw DecodeError("TRANSACTION_PAYLOAD_EVENT: decompressed " + std::to_string(n) +
                      " bytes, header declared " + std::to_string(out.size()));
  return out;
}

}  // namespace pitr::binlog
