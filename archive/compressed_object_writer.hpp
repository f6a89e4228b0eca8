#pragma once
// Writes a zstd-compressed object as a stream of pieces into the archive's store; the
// object appears under its key only once commit() succeeds. Records the SHA-256 and size
// of what was written.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "archive/sha256.hpp"
#include "archive/storage/object_writer.hpp"

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

class CompressedObjectWriter {
 public:
  CompressedObjectWriter(storage::ObjectStore& store, const std::string& key,
                         const CompressionOptions& options,
                         storage::PutMode mode = storage::PutMode::kIfAbsent);
  ~CompressedObjectWriter();
  CompressedObjectWriter(const CompressedObjectWriter&) = delete;
  CompressedObjectWriter& operator=(const CompressedObjectWriter&) = delete;

  void write(Bytes bytes);
  void write(std::string_view text) { write(as_bytes(text)); }
  std::uint64_t bytes() const { return bytes_; }
  // Everything handed to the store so far: compressed data and raw bytes.
  std::uint64_t stored_bytes() const { return stored_; }
  // Ends the compressed data; what it returns describes everything written so far.
  WrittenFile end_frame();
  // Bytes after the compressed data, as they are (e.g. a zstd skippable frame).
  void append_raw(Bytes bytes);
  // Hands the object to the store and waits until it has it. Without commit(), nothing is
  // stored.
  void commit();
  // end_frame() then commit().
  WrittenFile finish();

 private:
  void compress(Bytes input, bool end);

  storage::ObjectWriter out_;
  ZSTD_CCtx_s* cctx_;
  std::optional<Sha256> sha_;
  std::vector<std::uint8_t> buffer_;
  std::uint64_t bytes_ = 0, stored_ = 0;
};

}  // namespace pitr::archive
