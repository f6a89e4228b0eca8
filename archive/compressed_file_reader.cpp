#include "archive/compressed_file_reader.hpp"

#include <zstd.h>

#include <memory>
#include <vector>

#include "archive/sha256.hpp"

namespace pitr::archive {

ReadResult read_zstd_file(const fs::path& path, const std::function<void(Bytes)>& sink) {
  File f(path, File::Mode::kRead);
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  std::vector<std::uint8_t> in(ZSTD_DStreamInSize()), out(ZSTD_DStreamOutSize());
  Sha256 sha;
  ReadResult result;
  std::uint64_t offset = 0;
  auto size = f.size();
  std::size_t last = 0;
  while (offset < size) {
    auto n = f.pread_some(in, offset);
    offset += n;
    ZSTD_inBuffer input{in.data(), n, 0};
    while (input.pos < input.size) {
      ZSTD_outBuffer output{out.data(), out.size(), 0};
      last = ZSTD_decompressStream(dctx.get(), &output, &input);
      if (ZSTD_isError(last))
        throw IoError(path.string() + " is damaged: zstd: " + ZSTD_getErrorName(last));
      if (output.pos) {
        Bytes chunk{out.data(), output.pos};
        sha.update(chunk);
        result.bytes += output.pos;
        sink(chunk);
      }
    }
  }
  if (last != 0) throw IoError(path.string() + " is truncated (incomplete zstd frame)");
  result.sha256 = sha.hex();
  return result;
}

}  // namespace pitr::archive
