#include "archive/storage/read_ahead_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace pitr::storage {

struct ReadAheadStore::KeptCopy {
  int fd = -1;
  std::uint64_t size = 0;
  ~KeptCopy() {
    if (fd >= 0) ::close(fd);
  }
};

namespace {

using KeptCopy = ReadAheadStore::KeptCopy;

StorageError copy_error(const std::string& what, const std::string& key) {
  return StorageError(StorageErrorKind::kPermanent,
                      fmt::format("{} a local copy of {}: {}", what, key, std::strerror(errno)));
}

// An unlinked file in $TMPDIR holding the object `key`, as `inner` gives it.
std::shared_ptr<const KeptCopy> fetch(const ObjectStore& inner, const std::string& key) {
  const char* base = std::getenv("TMPDIR");
  auto pattern =
      (std::filesystem::path(base && *base ? base : "/tmp") / "pitr-read-ahead-XXXXXX").string();
  auto copy = std::make_shared<KeptCopy>();
  copy->fd = ::mkstemp(pattern.data());
  if (copy->fd < 0) throw copy_error("cannot create", key);
  ::unlink(pattern.c_str());  // gone with the last descriptor, whatever ends the process
  inner.get(key, [&](Bytes b) {
    for (std::size_t done = 0; done < b.size();) {
      auto n = ::write(copy->fd, b.data() + done, b.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw copy_error("cannot write", key);
      done += static_cast<std::size_t>(n);
    }
    copy->size += b.size();
  });
  return copy;
}

// Streams [range.offset, range.offset + range.length) of a kept copy to `sink`.
void read_kept(const KeptCopy& copy, const std::string& key, const ByteSink& sink,
               const ByteRange& range) {
  if (range.offset > copy.size)
    throw StorageError(StorageErrorKind::kPermanent,
                       fmt::format("{}: the byte range starts past the object's end", key));
  auto left = std::min(copy.size - range.offset, range.length.value_or(copy.size));
  std::vector<std::uint8_t> chunk(std::min<std::uint64_t>(left, 1 << 20));
  for (auto at = range.offset; left > 0;) {
    auto n = ::pread(copy.fd, chunk.data(), std::min<std::uint64_t>(left, chunk.size()),
                     static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw copy_error("cannot read back", key);
    sink(Bytes(chunk.data(), static_cast<std::size_t>(n)));
    at += static_cast<std::uint64_t>(n);
    left -= static_cast<std::uint64_t>(n);
  }
}

}  // namespace

ReadAheadStore::ReadAheadStore(std::shared_ptr<ObjectStore> inner, ReadAheadLimits limits)
    : inner_(std::move(inner)), limits_(limits) {
  try {
    for (std::size_t i = 0; i < limits_.workers; ++i) workers_.emplace_back([this] { work(); });
  } catch (...) {
    stop();
    throw;
  }
}

ReadAheadStore::~ReadAheadStore() {
  stop();
}

void ReadAheadStore::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& w : workers_)
    if (w.joinable()) w.join();
  workers_.clear();
}

void ReadAheadStore::will_read(const std::vector<std::string>& keys) const {
  std::lock_guard lock(mutex_);
  for (const auto& key : keys) {
    if (entries_.contains(key)) continue;
    entries_[key] = {queue_.size(), State::kQueued, nullptr, 0};
    queue_.push_back(key);
  }
  changed_.notify_all();
}

void ReadAheadStore::work() const {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] {
      return stopping_ || (next_ < queue_.size() && next_ < reached_ + limits_.window);
    });
    if (stopping_) return;
    auto position = next_++;
    auto key = queue_[position];
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.position != position ||
        it->second.state != State::kQueued)
      continue;
    it->second.state = State::kFetching;
    lock.unlock();
    std::shared_ptr<const KeptCopy> copy;
    try {
      copy = fetch(*inner_, key);
    } catch (...) {
      // The reader asks the store itself and gets the error there.
    }
    lock.lock();
    ++fetched_;
    it = entries_.find(key);
    if (it != entries_.end() && it->second.position == position) {  // not forgotten meanwhile
      it->second.state = copy ? State::kKept : State::kFailed;
      it->second.copy = copy;
      if (copy) kept_bytes_ += copy->size, ++kept_files_;
      drop_read_copies_beyond_limits();
    }
    changed_.notify_all();
  }
}

// The most recently read copy goes first: reads come as two scans in the same order (plan,
// then apply from a later point), and dropping the latest keeps the run the second scan
// finds first, where dropping the oldest would make every later read of it miss.
void ReadAheadStore::drop_read_copies_beyond_limits() const {
  while (kept_bytes_ > limits_.max_kept_bytes || kept_files_ > limits_.max_kept_files) {
    auto latest = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (it->second.copy && it->second.last_read > 0 &&
          (latest == entries_.end() || it->second.last_read > latest->second.last_read))
        latest = it;
    if (latest == entries_.end()) return;  // only copies not read yet: the window bounds them
    kept_bytes_ -= latest->second.copy->size;
    --kept_files_;
    entries_.erase(latest);  // read again, it is announced and fetched again
  }
}

std::shared_ptr<const KeptCopy> ReadAheadStore::kept_copy(const std::string& key) const {
  std::unique_lock lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  reached_ = std::max(reached_, it->second.position + 1);
  changed_.notify_all();
  changed_.wait(lock, [&] {
    auto at = entries_.find(key);
    return stopping_ || at == entries_.end() || at->second.state == State::kKept ||
           at->second.state == State::kFailed;
  });
  it = entries_.find(key);
  if (it == entries_.end() || it->second.state != State::kKept) return nullptr;
  it->second.last_read = ++read_ticks_;
  auto copy = it->second.copy;
  drop_read_copies_beyond_limits();
  return copy;
}

void ReadAheadStore::get(const std::string& key, const ByteSink& sink,
                         const ByteRange& range) const {
  if (auto copy = kept_copy(key)) return read_kept(*copy, key, sink, range);
  inner_->get(key, sink, range);
}

void ReadAheadStore::forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (it->second.copy) kept_bytes_ -= it->second.copy->size, --kept_files_;
  entries_.erase(it);
  changed_.notify_all();
}

void ReadAheadStore::put(const std::string& key, const ByteSource& source, PutMode mode) {
  forget(key);
  inner_->put(key, source, mode);
}

void ReadAheadStore::remove(const std::string& key) {
  forget(key);
  inner_->remove(key);
}

std::size_t ReadAheadStore::fetched() const {
  std::lock_guard lock(mutex_);
  return fetched_;
}

}  // namespace pitr::storage
