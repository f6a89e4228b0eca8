#pragma once
// Writes one object as a stream of pieces pushed by the caller (a compressor, a tar
// stream), while the store pulls them: ObjectStore::put runs on a worker thread fed through
// a bounded buffer, so memory stays bounded whatever the object's size. Nothing is visible
// under the key before commit() returns; an ObjectWriter destroyed without commit() leaves
// no object behind.
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "archive/storage/object_store.hpp"

namespace pitr::storage {

class ObjectWriter {
 public:
  ObjectWriter(ObjectStore& store, std::string key, PutMode mode);
  ~ObjectWriter();
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  const std::string& key() const { return key_; }
  std::uint64_t bytes() const { return bytes_; }
  // Blocks while the buffer is full; rethrows the store's error once the put has failed.
  void write(Bytes bytes);
  // Ends the object and waits until the store has it (durably, where the store promises
  // that); rethrows the put's error.
  void commit();

 private:
  std::size_t pull(std::span<std::uint8_t> out);

  static constexpr std::size_t kBufferBytes = 8u << 20;
  static constexpr std::size_t kChunkBytes = 256u << 10;

  std::string key_;
  std::uint64_t bytes_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<std::uint8_t>> chunks_;
  std::size_t front_used_ = 0, buffered_ = 0;
  bool closed_ = false, aborted_ = false, done_ = false;
  std::exception_ptr failure_;
  std::thread worker_;
};

}  // namespace pitr::storage
