#pragma once
// A private temporary directory (mode 0700 under $TMPDIR or /tmp), removed with everything in
// it when the object goes: for files a helper program needs (an option file holding a
// password, a log) that must not outlive the command.
#include <filesystem>
#include <string>

namespace pitr::capture {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& purpose);  // "pitr-<purpose>-XXXXXX"
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // Writes a new file `name` in it, readable by its owner only; returns its path.
  std::filesystem::path write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace pitr::capture
