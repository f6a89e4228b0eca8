#include "archive/compressed_file_writer.hpp"

#include <zstd.h>

namespace pitr::archive {

namespace {
fs::path with_tmp(const fs::path& p) {
  auto t = p;
  t += ".tmp";
  return t;
}
}  // namespace

CompressedFileWriter::CompressedFileWriter(fs::path path, const CompressionOptions& options)
    : path_(std::move(path)),
      tmp_(with_tmp(path_)),
      file_(tmp_, File::Mode::kCreateOrOpen),
      cctx_(ZSTD_createCCtx()),
      out_(ZSTD_CStreamOutSize()) {
  file_.truncate(0);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, options.level);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
  // A libzstd built without threads refuses this and compresses on the caller's thread.
  if (options.workers > 0) ZSTD_CCtx_setParameter(cctx_, ZSTD_c_nbWorkers, options.workers);
  if (options.sha256) sha_.emplace();
}

CompressedFileWriter::~CompressedFileWriter() {
  ZSTD_freeCCtx(cctx_);
  if (!committed_) {
    std::error_code ignored;
    fs::remove(tmp_, ignored);
  }
}

void CompressedFileWriter::compress(Bytes input, bool end) {
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  bool done = false;
  while (!done) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    auto left = ZSTD_compressStream2(cctx_, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(left))
      throw IoError("zstd error writing " + path_.string() + ": " + ZSTD_getErrorName(left));
    file_.pwrite_all({out_.data(), out.pos}, stored_);
    stored_ += out.pos;
    done = end ? left == 0 : in.pos == in.size;
  }
}

void CompressedFileWriter::write(Bytes bytes) {
  if (sha_) sha_->update(bytes);
  bytes_ += bytes.size();
  compress(bytes, false);
}

WrittenFile CompressedFileWriter::end_frame() {
  compress({}, true);
  return {bytes_, stored_, sha_ ? sha_->hex() : std::string()};
}

void CompressedFileWriter::append_raw(Bytes bytes) {
  file_.pwrite_all(bytes, stored_);
  stored_ += bytes.size();
}

void CompressedFileWriter::commit() {
  file_.sync();
  fs::rename(tmp_, path_);
  committed_ = true;
}

WrittenFile CompressedFileWriter::finish() {
  auto written = end_frame();
  commit();
  return written;
}

}  // namespace pitr::archive
