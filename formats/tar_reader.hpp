#pragma once
// Incremental reader of a ustar stream (what PostgreSQL's BASE_BACKUP sends): fed bytes
// in any pieces, it reports each entry's header, its data and its end. The end-of-archive
// zero blocks are optional, since the server leaves them out.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr {

struct TarEntry {
  enum class Type { kFile, kDirectory, kSymlink, kOther };
  std::string name;
  std::string link_target;
  std::uint64_t size = 0;
  std::uint32_t mode = 0;
  std::int64_t mtime = 0;
  Type type = Type::kFile;
};

class TarReader {
 public:
  struct Handlers {
    std::function<void(const TarEntry&)> begin;
    std::function<void(Bytes)> data;
    std::function<void()> end;
  };
  explicit TarReader(Handlers handlers) : h_(std::move(handlers)) {}
  void feed(Bytes data);  // throws DecodeError on a damaged header
  // Throws DecodeError when the stream stopped inside an entry.
  void finish() const;

 private:
  void parse_header();

  Handlers h_;
  std::vector<std::uint8_t> block_;
  std::uint64_t data_left_ = 0, padding_left_ = 0;
  bool in_entry_ = false, ended_ = false;
};

// The 512-byte ustar header of a TarEntry (used by tests and by anything that writes tar).
std::vector<std::uint8_t> tar_header(const TarEntry& entry);

}  // namespace pitr
