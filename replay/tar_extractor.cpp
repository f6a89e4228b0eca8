#include "replay/tar_extractor.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

namespace pitr::replay {

namespace fs = std::filesystem;

TarExtractor::TarExtractor(fs::path root)
    : root_(std::move(root)),
      reader_({[this](const TarEntry& e) { begin(e); },
               [this](Bytes d) {
                 if (file_) file_->write_all(d);
               },
               [this] {
                 if (file_) ::fchmod(file_->fd(), mode_ & 07777);
                 file_.reset();
               }}) {}

fs::path TarExtractor::target(const std::string& name) const {
  fs::path rel = fs::path(name).lexically_normal();
  if (rel.is_absolute() || rel.empty() || *rel.begin() == "..")
    throw DecodeError("backup archive entry '" + name +
                      "' would be written outside the data directory");
  return root_ / rel;
}

void TarExtractor::begin(const TarEntry& e) {
  auto path = target(e.name);
  switch (e.type) {
    case TarEntry::Type::kDirectory:
      fs::create_directories(path);
      ::chmod(path.c_str(), e.mode & 07777);
      break;
    case TarEntry::Type::kSymlink:
      fs::create_directories(path.parent_path());
      fs::create_symlink(e.link_target, path);
      break;
    case TarEntry::Type::kFile:
      fs::create_directories(path.parent_path());
      file_.emplace(path, archive::File::Mode::kCreateExclusive);
      mode_ = e.mode;
      ++files_;
      break;
    case TarEntry::Type::kOther:
      throw DecodeError(
          fmt::format("backup archive entry '{}' is neither a file, a directory nor "
                      "a symlink",
                      e.name));
  }
}

void require_empty_directory(const fs::path& dir, const char* what) {
  if (fs::exists(dir) && !fs::is_empty(dir))
    throw std::runtime_error(fmt::format(
        "{} {} exists and is not empty; pitr restore writes only into a new or empty directory, "
        "so it can never overwrite a database",
        what, dir.string()));
}

}  // namespace pitr::replay
