#pragma once
// A capture failure retrying cannot fix (wrong credentials, purged logs, identity change),
// with the exit code the command should return.
#include <stdexcept>
#include <string>

namespace pitr::capture {

class CaptureFatal : public std::runtime_error {
 public:
  CaptureFatal(const std::string& message, int exit_code)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

inline constexpr int kExitGap = 3;

}  // namespace pitr::capture
