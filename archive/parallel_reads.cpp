#include "archive/parallel_reads.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace pitr::archive {

void read_in_parallel(const storage::ObjectStore& store, std::size_t count,
                      const std::function<void(std::size_t)>& read) {
  read_in_parallel(store, count, ReadLoad::kIo, read);
}

void read_in_parallel(const storage::ObjectStore& store, std::size_t count, ReadLoad load,
                      const std::function<void(std::size_t)>& read) {
  std::atomic<std::size_t> next{0};
  std::mutex failed;
  std::exception_ptr failure;
  auto work = [&] {
    for (auto i = next++; i < count; i = next++) {
      try {
        read(i);
      } catch (...) {
        std::lock_guard lock(failed);
        if (!failure) failure = std::current_exception();
        next = count;
      }
    }
  };
  std::size_t workers = std::min<std::size_t>(16, count);
  if (store.capabilities().local_files)
    workers = load == ReadLoad::kIo
                  ? 1
                  : std::min<std::size_t>(std::max(1u, std::thread::hardware_concurrency()), count);
  std::vector<std::thread> threads;
  try {
    for (std::size_t i = 1; i < workers; ++i) threads.emplace_back(work);
  } catch (const std::system_error&) {
    // No more threads: the ones started and this one do the work.
  }
  work();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace pitr::archive
