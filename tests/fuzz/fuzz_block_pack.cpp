// libFuzzer target: arbitrary bytes as a block-store pack index and pack footer
// (archive/block_store/pack_format.hpp): a DecodeError or entries inside the pack, never a
// crash.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "archive/block_store/pack_format.hpp"

using namespace pitr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes bytes(data, size);
  // As given, and with the checksum an index ends with made right, so that the entries
  // behind it are reached.
  std::vector<std::uint8_t> summed(data, data + size);
  auto sum = archive::BlockId::of(bytes);
  summed.insert(summed.end(), sum.bytes.begin(), sum.bytes.end());
  auto data_end = size > 40 ? load_le(data + 16, 4) : UINT64_MAX;
  for (Bytes index : {bytes, Bytes(summed)}) {
    try {
      for (const auto& e : archive::decode_pack_index(index, "fuzz", data_end))
        if (e.offset < archive::kPackHeaderSize || e.offset + e.stored > data_end) std::abort();
    } catch (const DecodeError&) {
    }
  }
  try {
    if (size >= archive::kPackFooterSize) {
      auto pack_size = load_le(data + archive::kPackFooterSize - 8, 8) ^ 0x5a5a;
      auto f =
          archive::decode_pack_footer(bytes.first(archive::kPackFooterSize), pack_size, "fuzz");
      if (f.index_offset + f.index_length + archive::kPackFooterSize != pack_size) std::abort();
    }
  } catch (const DecodeError&) {
  }
  return 0;
}
