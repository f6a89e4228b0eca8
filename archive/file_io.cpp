#include "archive/file_io.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pitr::archive {

void throw_errno(const std::string& operation, const fs::path& path) {
  throw IoError(operation + " " + path.string() + ": " + std::strerror(errno));
}

File::File(const fs::path& path, Mode mode) : path_(path) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case Mode::kRead:
      flags |= O_RDONLY;
      break;
    case Mode::kReadWrite:
      flags |= O_RDWR;
      break;
    case Mode::kCreateOrOpen:
      flags |= O_RDWR | O_CREAT;
      break;
    case Mode::kCreateExclusive:
      flags |= O_RDWR | O_CREAT | O_EXCL;
      break;
  }
  fd_ = ::open(path.c_str(), flags, 0640);
  if (fd_ < 0) throw_errno("cannot open", path);
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

File::File(File&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) {
  other.fd_ = -1;
}

std::uint64_t File::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw_errno("cannot stat", path_);
  return static_cast<std::uint64_t>(st.st_size);
}

std::shared_ptr<const File> open_if_present(const fs::path& path) {
  try {
    return std::make_shared<const File>(path, File::Mode::kRead);
  } catch (const IoError&) {
    std::error_code ec;
    if (!fs::exists(path, ec) && !ec) return nullptr;
    throw;
  }
}

std::int64_t File::modified_at() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw_errno("cannot stat", path_);
  return static_cast<std::int64_t>(st.st_mtim.tv_sec);
}

std::vector<std::uint8_t> File::read_all() const {
  std::vector<std::uint8_t> out(size());
  std::size_t got = 0;
  while (true) {
    if (got == out.size()) out.resize(std::max<std::size_t>(2 * got, 64 * 1024));
    auto n = pread_some(std::span(out).subspan(got), got);
    if (n == 0) break;
    got += n;
  }
  out.resize(got);
  return out;
}

void File::pwrite_all(Bytes data, std::uint64_t offset) {
  while (!data.empty()) {
    auto n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot write", path_);
    }
    data = data.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
}

void File::write_all(Bytes data) {
  pwrite_all(data, size());
}

std::size_t File::pread_some(std::span<std::uint8_t> out, std::uint64_t offset) const {
  while (true) {
    auto n = ::pread(fd_, out.data(), out.size(), static_cast<off_t>(offset));
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) throw_errno("cannot read", path_);
  }
}

void File::pread_exact(std::span<std::uint8_t> out, std::uint64_t offset) const {
  while (!out.empty()) {
    auto n = pread_some(out, offset);
    if (n == 0) throw IoError("unexpected end of file reading " + path_.string());
    out = out.subspan(n);
    offset += n;
  }
}

void File::truncate(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) throw_errno("cannot truncate", path_);
}

void File::sync() {
  if (::fdatasync(fd_) != 0) throw_errno("cannot fsync", path_);
}

void fsync_directory(const fs::path& dir) {
  // parent_path() of a bare name ("archive") is empty: the directory is the current one.
  auto path = dir.empty() ? fs::path(".") : dir;
  File d(path, File::Mode::kRead);
  if (::fsync(d.fd()) != 0) throw_errno("cannot fsync directory", path);
}

void sync_filesystem_of(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::syncfs(fd);
  ::close(fd);
}

void write_file_atomically(const fs::path& path, Bytes data) {
  // The temporary name is the writer's own: capture and backup may both set up a new
  // archive at the same moment.
  auto tmp = path;
  tmp += "." + std::to_string(::getpid()) + ".tmp";
  {
    File f(tmp, File::Mode::kCreateOrOpen);
    f.truncate(0);
    f.pwrite_all(data, 0);
    f.sync();
  }
  fs::rename(tmp, path);
  fsync_directory(path.parent_path());
}

std::string read_small_file(const fs::path& path) {
  File f(path, File::Mode::kRead);
  std::string s(f.size(), '\0');
  f.pread_exact({reinterpret_cast<std::uint8_t*>(s.data()), s.size()}, 0);
  return s;
}

void remove_files(const std::vector<fs::path>& files, const fs::path& dir) {
  if (files.empty()) return;
  for (const auto& f : files) fs::remove(f);
  fsync_directory(dir);
}

MappedFile::MappedFile(const fs::path& path) {
  File f(path, File::Mode::kRead);
  size_ = f.size();
  if (size_ == 0) return;
  data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, f.fd(), 0);
  if (data_ == MAP_FAILED) {
    data_ = nullptr;
    throw_errno("cannot map", path);
  }
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(data_, size_);
}

}  // namespace pitr::archive
