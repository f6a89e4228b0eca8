#include "archive/compressed_object_reader.hpp"

#include <zstd.h>

#include <memory>
#include <vector>

#include "archive/file_io.hpp"
#include "archive/sha256.hpp"

namespace pitr::archive {

ReadResult read_zstd_object(const storage::ObjectStore& store, const std::string& key,
                            const std::function<void(Bytes)>& sink) {
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  std::vector<std::uint8_t> out(ZSTD_DStreamOutSize());
  Sha256 sha;
  ReadResult result;
  std::size_t last = 0;
  bool any = false;
  store.get(key, [&](Bytes in) {
    any = any || !in.empty();
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    while (input.pos < input.size) {
      ZSTD_outBuffer output{out.data(), out.size(), 0};
      last = ZSTD_decompressStream(dctx.get(), &output, &input);
      if (ZSTD_isError(last)) throw IoError(key + " is damaged: zstd: " + ZSTD_getErrorName(last));
      if (output.pos) {
        Bytes chunk{out.data(), output.pos};
        sha.update(chunk);
        result.bytes += output.pos;
        sink(chunk);
      }
    }
  });
  if (last != 0 || !any) throw IoError(key + " is truncated (incomplete zstd frame)");
  result.sha256 = sha.hex();
  return result;
}

}  // namespace pitr::archive
