#include "capture/scratch_dir.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace pitr::capture {

namespace fs = std::filesystem;

ScratchDir::ScratchDir(const std::string& purpose) {
  auto name = (fs::temp_directory_path() / ("pitr-" + purpose + "-XXXXXX")).string();
  std::vector<char> buffer(name.begin(), name.end());
  buffer.push_back('\0');
  if (!::mkdtemp(buffer.data()))
    throw std::runtime_error(
        fmt::format("cannot create a temporary directory {}: {}", name, std::strerror(errno)));
  path_ = buffer.data();
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

fs::path ScratchDir::write(const std::string& name, const std::string& content) const {
  auto path = path_ / name;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    throw std::runtime_error(
        fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  auto written = ::write(fd, content.data(), content.size());
  bool ok = written == static_cast<ssize_t>(content.size());
  ok = ::close(fd) == 0 && ok;
  if (!ok) throw std::runtime_error("cannot write " + path.string());
  return path;
}

}  // namespace pitr::capture
