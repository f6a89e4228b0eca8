#pragma once
// Many small reads from one store at once: on object storage each read is a round trip, and a
// catalog of thousands of objects would otherwise wait on one after the other.
#include <cstddef>
#include <functional>

#include "archive/storage/object_store.hpp"

namespace pitr::archive {

enum class ReadLoad {
  kIo,   // mostly waiting for the store
  kCpu,  // mostly work on what was read (decompressing, hashing)
};

// Calls read(i) for every i < count: on up to 16 threads from object storage; from local
// files in this thread for kIo, on one thread per core for kCpu. The first failure stops the
// rest and is rethrown.
void read_in_parallel(const storage::ObjectStore& store, std::size_t count,
                      const std::function<void(std::size_t)>& read);
void read_in_parallel(const storage::ObjectStore& store, std::size_t count, ReadLoad load,
                      const std::function<void(std::size_t)>& read);

}  // namespace pitr::archive
