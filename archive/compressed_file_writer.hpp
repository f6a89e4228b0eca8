#pragma once
// Writes a zstd-compressed file as a stream of pieces, durably: to a temporary name,
// fsynced and renamed by finish(). Records the SHA-256 and size of what was written.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "archive/file_io.hpp"
#include "archive/sha256.hpp"

struct ZSTD_CCtx_s;

namespace pitr::archive {

struct WrittenFile {
  std::uint64_t bytes = 0;         // uncompressed
  std::uint64_t stored_bytes = 0;  // compressed
  std::string sha256;              // of the uncompressed bytes (empty when not asked for)
};

struct CompressionOptions {
  int level = 1;
  int workers = 0;     // > 0: zstd threads compress while the caller goes on feeding
  bool sha256 = true;  // off where another checksum already covers the content
};

class CompressedFileWriter {
 public:
  CompressedFileWriter(fs::path path, int level) : CompressedFileWriter(path, {.level = level}) {}
  CompressedFileWriter(fs::path path, const CompressionOptions& options);
  ~CompressedFileWriter();
  void write(Bytes bytes);
  void write(std::string_view text) { write(as_bytes(text)); }
  std::uint64_t bytes() const { return bytes_; }
  // Ends the compressed data; what it returns describes everything written so far.
  WrittenFile end_frame();
  // Bytes after the compressed data, as they are (e.g. a zstd skippable frame).
  void append_raw(Bytes bytes);
  // Fsyncs and renames the file into place (the directory is fsynced by the caller once all
  // its files are written). Without commit(), the temporary file is removed.
  void commit();
  // end_frame() then commit().
  WrittenFile finish();

 private:
  void compress(Bytes input, bool end);

  fs::path path_, tmp_;
  File file_;
  ZSTD_CCtx_s* cctx_;
  std::optional<Sha256> sha_;
  std::vector<std::uint8_t> out_;
  std::uint64_t bytes_ = 0, stored_ = 0;
  bool committed_ = false;
};

}  // namespace pitr::archive
