#pragma once
// Incremental reader of the stream `mariabackup --backup --stream=mbstream` writes (the
// xbstream format). The stream is a sequence of chunks with no header or trailer; each is
// "XBSTCK01", a flags byte (0x01 ignorable, 0x02 rewrite), a type byte, the file's path
// (4-byte little-endian length, then the bytes) and, by type:
//   'P' payload: its length and offset in the file (8 bytes each), the zlib CRC-32 of the
//       payload (4 bytes), the payload (of any length: deltas come 64 MiB at a time);
//   'E' end of the file (an empty file is this chunk alone);
//   'S' seek: the offset (8 bytes) the file's next payload is written at;
//   'D' remove the (closed) file, the directory, or with a trailing '*' every file named so;
//   'R' rename the (closed) file to the path that follows (4-byte length, then the bytes).
// Chunks of different files interleave (--parallel, and the redo log always). Fed bytes in
// any pieces, the reader hands each payload on as it arrives and checks its CRC at the
// chunk's end: a consumer must treat everything as unconfirmed until feed() returns.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr::mariadb {

class MbstreamReader {
 public:
  struct Handlers {
    // A piece of a payload chunk written at `offset` of the file; `rewrite` marks a second
    // copy of a file that replaces the first one.
    std::function<void(const std::string& path, std::uint64_t offset, Bytes data, bool rewrite)>
        payload;
    std::function<void(const std::string& path)> end_of_file;
    std::function<void(const std::string& path, std::uint64_t offset)> seek;
    std::function<void(const std::string& path)> remove;
    std::function<void(const std::string& from, const std::string& to)> rename;
  };
  explicit MbstreamReader(Handlers handlers) : h_(std::move(handlers)) {}
  // Throws DecodeError on a damaged chunk: bad magic, an unknown type that may not be
  // skipped, a path that is empty, too long or leaves the directory, or a payload that fails
  // its CRC.
  void feed(Bytes data);
  // Throws DecodeError when the stream stopped inside a chunk.
  void finish() const;
  std::uint64_t chunks() const { return chunks_; }

 private:
  // The header's length once the bytes buffered say it (known), or until then how many bytes
  // it has at least.
  struct HeaderNeed {
    std::size_t bytes;
    bool known;
  };
  HeaderNeed header_need() const;
  void take_header();
  void end_payload();

  Handlers h_;
  std::vector<std::uint8_t> header_;
  // The payload being read: its file, where the next byte goes, how much is left, its CRC.
  std::string path_;
  std::uint64_t offset_ = 0, left_ = 0;
  std::uint32_t crc_ = 0, expected_crc_ = 0;
  bool in_payload_ = false, rewrite_ = false, deliver_ = true;
  std::uint64_t chunks_ = 0;
};

// One chunk in the stream format (for tests, and anything that writes mbstream).
std::vector<std::uint8_t> mbstream_payload_chunk(const std::string& path, std::uint64_t offset,
                                                 Bytes payload, bool rewrite = false);
std::vector<std::uint8_t> mbstream_end_chunk(const std::string& path);
std::vector<std::uint8_t> mbstream_seek_chunk(const std::string& path, std::uint64_t offset);
std::vector<std::uint8_t> mbstream_remove_chunk(const std::string& path);
std::vector<std::uint8_t> mbstream_rename_chunk(const std::string& from, const std::string& to);

}  // namespace pitr::mariadb
