#include "archive/storage/object_writer.hpp"

#include <algorithm>

namespace pitr::storage {
namespace {

struct Aborted {};  // thrown into the store's put when the writer is abandoned

}  // namespace

ObjectWriter::ObjectWriter(ObjectStore& store, std::string key, PutMode mode)
    : key_(std::move(key)) {
  check_key(key_);
  worker_ = std::thread([this, &store, mode] {
    std::exception_ptr failure;
    try {
      store.put(
          key_, [this](std::span<std::uint8_t> out) { return pull(out); }, mode);
    } catch (const Aborted&) {
    } catch (...) {
      failure = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    failure_ = failure;
    done_ = true;
    changed_.notify_all();
  });
}

ObjectWriter::~ObjectWriter() {
  {
    std::lock_guard lock(mutex_);
    if (!done_) aborted_ = true;
    changed_.notify_all();
  }
  if (worker_.joinable()) worker_.join();
}

std::size_t ObjectWriter::pull(std::span<std::uint8_t> out) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return aborted_ || closed_ || !chunks_.empty(); });
  if (aborted_) throw Aborted{};
  std::size_t n = 0;
  while (n < out.size() && !chunks_.empty()) {
    auto& front = chunks_.front();
    auto take = std::min(out.size() - n, front.size() - front_used_);
    std::copy_n(front.begin() + static_cast<std::ptrdiff_t>(front_used_), take, out.begin() + n);
    n += take;
    front_used_ += take;
    buffered_ -= take;
    if (front_used_ == front.size()) {
      chunks_.pop_front();
      front_used_ = 0;
    }
  }
  changed_.notify_all();
  return n;
}

void ObjectWriter::write(Bytes bytes) {
  bytes_ += bytes.size();
  while (!bytes.empty()) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return done_ || buffered_ < kBufferBytes; });
    if (done_) {
      if (failure_) std::rethrow_exception(failure_);
      throw StorageError(StorageErrorKind::kPermanent,
                         "the store finished " + key_ + " before its last byte");
    }
    if (chunks_.empty() || chunks_.back().size() >= kChunkBytes) {
      chunks_.emplace_back();
      chunks_.back().reserve(kChunkBytes);
    }
    auto& back = chunks_.back();
    auto take = std::min(bytes.size(), kChunkBytes - back.size());
    back.insert(back.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    buffered_ += take;
    bytes = bytes.subspan(take);
    changed_.notify_all();
  }
}

void ObjectWriter::commit() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }
  worker_.join();
  if (failure_) std::rethrow_exception(failure_);
}

}  // namespace pitr::storage
