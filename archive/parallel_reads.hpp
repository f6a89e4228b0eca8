#pragma once
// Many small reads from one store at once: on object storage each read is a round trip, and a
// catalog of thousands of objects would otherwise wait on one after the other.
#include <cstddef>
#include <functional>

#include "archive/storage/object_store.hpp"

namespace pitr::archive {

// Calls read(i) for every i < count: in this thread for a store of local files, else on up
// to 16 threads. The first failure stops the rest and is rethrown.
void read_in_parallel(const storage::ObjectStore& store, std::size_t count,
                      const std::function<void(std::size_t)>& read);

}  // namespace pitr::archive
