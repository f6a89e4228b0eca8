#include "archive/storage/read_ahead_store.hpp"

#include <fmt/format.h>
#include <stdlib.h>

#include <fstream>

namespace pitr::storage {
namespace {

namespace fs = std::filesystem;

fs::path private_temporary_directory() {
  const char* base = std::getenv("TMPDIR");
  auto pattern = (fs::path(base && *base ? base : "/tmp") / "pitr-read-ahead-XXXXXX").string();
  if (!::mkdtemp(pattern.data()))
    throw StorageError(StorageErrorKind::kPermanent,
                       fmt::format("cannot create a directory like {} to read ahead into; set "
                                   "TMPDIR to a writable directory",
                                   pattern));
  return pattern;
}

// Streams [range.offset, range.offset + range.length) of a kept copy to `sink`.
void read_kept(const fs::path& file, const std::string& key, const ByteSink& sink,
               const ByteRange& range) {
  std::ifstream in(file, std::ios::binary);
  auto size = fs::file_size(file);
  if (!in || range.offset > size)
    throw StorageError(StorageErrorKind::kPermanent,
                       fmt::format("{}: the byte range starts past the object's end", key));
  auto left = std::min(size - range.offset, range.length.value_or(size));
  in.seekg(static_cast<std::streamoff>(range.offset));
  std::vector<std::uint8_t> chunk(std::min<std::uint64_t>(left, 1 << 20));
  while (left > 0) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
    if (!in.read(reinterpret_cast<char*>(chunk.data()), static_cast<std::streamsize>(n)))
      throw StorageError(StorageErrorKind::kPermanent,
                         fmt::format("cannot read back {}, fetched into {}", key, file.string()));
    sink(Bytes(chunk.data(), n));
    left -= n;
  }
}

}  // namespace

ReadAheadStore::ReadAheadStore(std::shared_ptr<ObjectStore> inner, std::size_t workers,
                               std::size_t window)
    : inner_(std::move(inner)), window_(window), dir_(private_temporary_directory()) {
  try {
    for (std::size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
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
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

void ReadAheadStore::will_read(const std::vector<std::string>& keys) const {
  std::lock_guard lock(mutex_);
  for (const auto& key : keys) {
    if (entries_.contains(key)) continue;
    entries_[key] = {queue_.size(), State::kQueued, dir_ / std::to_string(queue_.size())};
    queue_.push_back(key);
  }
  changed_.notify_all();
}

void ReadAheadStore::work() const {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(
        lock, [&] { return stopping_ || (next_ < queue_.size() && next_ < reached_ + window_); });
    if (stopping_) return;
    auto key = queue_[next_++];
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.state != State::kQueued) continue;
    it->second.state = State::kFetching;
    auto file = it->second.file;
    lock.unlock();
    bool kept = true;
    try {
      fetch(key, file);
    } catch (...) {
      kept = false;  // the reader asks the store itself and gets the error there
    }
    lock.lock();
    ++fetched_;
    it = entries_.find(key);
    if (it == entries_.end() || it->second.file != file) {
      std::error_code ignored;
      fs::remove(file, ignored);  // forgotten while it was being fetched
    } else {
      it->second.state = kept ? State::kKept : State::kFailed;
    }
    changed_.notify_all();
  }
}

void ReadAheadStore::fetch(const std::string& key, const fs::path& file) const {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  inner_->get(key, [&](Bytes b) {
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  });
  out.close();
  if (!out)
    throw StorageError(StorageErrorKind::kPermanent,
                       fmt::format("cannot write {} into {}", key, file.string()));
}

std::optional<fs::path> ReadAheadStore::kept_copy(const std::string& key) const {
  std::unique_lock lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  reached_ = std::max(reached_, it->second.position + 1);
  changed_.notify_all();
  changed_.wait(lock, [&] {
    auto at = entries_.find(key);
    return at == entries_.end() || at->second.state == State::kKept ||
           at->second.state == State::kFailed;
  });
  it = entries_.find(key);
  if (it == entries_.end() || it->second.state != State::kKept) return std::nullopt;
  return it->second.file;
}

void ReadAheadStore::get(const std::string& key, const ByteSink& sink,
                         const ByteRange& range) const {
  if (auto file = kept_copy(key)) return read_kept(*file, key, sink, range);
  inner_->get(key, sink, range);
}

void ReadAheadStore::forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (it->second.state == State::kKept) {
    std::error_code ignored;
    fs::remove(it->second.file, ignored);
  }
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
