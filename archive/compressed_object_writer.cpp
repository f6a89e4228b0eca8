#include "archive/compressed_object_writer.hpp"

#include <zstd.h>

#include "archive/file_io.hpp"

namespace pitr::archive {

CompressedObjectWriter::CompressedObjectWriter(storage::ObjectStore& store, const std::string& key,
                                               const CompressionOptions& options,
                                               storage::PutMode mode)
    : out_(store, key, mode), cctx_(ZSTD_createCCtx()), buffer_(ZSTD_CStreamOutSize()) {
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, options.level);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
  // A libzstd built without threads refuses this and compresses on the caller's thread.
  if (options.workers > 0) ZSTD_CCtx_setParameter(cctx_, ZSTD_c_nbWorkers, options.workers);
  if (options.sha256) sha_.emplace();
}

CompressedObjectWriter::~CompressedObjectWriter() {
  ZSTD_freeCCtx(cctx_);
}

void CompressedObjectWriter::compress(Bytes input, bool end) {
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  bool done = false;
  while (!done) {
    ZSTD_outBuffer out{buffer_.data(), buffer_.size(), 0};
    auto left = ZSTD_compressStream2(cctx_, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(left))
      throw IoError("zstd error writing " + out_.key() + ": " + ZSTD_getErrorName(left));
    out_.write({buffer_.data(), out.pos});
    stored_ += out.pos;
    done = end ? left == 0 : in.pos == in.size;
  }
}

void CompressedObjectWriter::write(Bytes bytes) {
  if (sha_) sha_->update(bytes);
  bytes_ += bytes.size();
  compress(bytes, false);
}

WrittenFile CompressedObjectWriter::end_frame() {
  compress({}, true);
  return {bytes_, stored_, sha_ ? sha_->hex() : std::string()};
}

void CompressedObjectWriter::append_raw(Bytes bytes) {
  out_.write(bytes);
  stored_ += bytes.size();
}

void CompressedObjectWriter::commit() {
  out_.commit();
}

WrittenFile CompressedObjectWriter::finish() {
  auto written = end_frame();
  commit();
  return written;
}

}  // namespace pitr::archive
