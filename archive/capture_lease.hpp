#pragma once
// Exactly one capture writes an archive in object storage, where there is no flock: the
// writer holds a lease. Leases are generations, leases/capture/<n>.json, each created only
// if absent, so of two captures taking over generation n exactly one gets n+1. The holder
// rewrites its generation every third of the lease time (a beat counter and its clock) and
// checks that no later generation exists and that the record still carries its token; a
// holder that finds otherwise, or has not renewed for a whole lease time, has lost the lease
// and every later write of its fenced store fails. A capture that stops marks its record
// released (generations only grow). A new capture takes over at once a released lease or
// one whose holder ran in this host's process namespace and is gone; it refuses while the lease
// looks alive (named holder, host, pid, since); a lease whose time has passed by the clocks is
// watched for one more lease time without a beat before it is taken, so a skewed clock never splits
// the writer.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "archive/archive.hpp"

namespace pitr::archive {

class LeaseHeld : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class CaptureLease {
 public:
  // Takes the lease, waiting up to a lease time when its holder looks gone; throws
  // LeaseHeld naming the holder when it is alive. `log` hears about waiting.
  CaptureLease(const Archive& archive, std::chrono::seconds lease_time,
               const std::function<void(const std::string&)>& log);
  ~CaptureLease();  // stops renewing and releases the lease (unless lost)
  CaptureLease(const CaptureLease&) = delete;
  CaptureLease& operator=(const CaptureLease&) = delete;

  // Why this capture may no longer write; none while the lease is held.
  std::optional<std::string> lost() const;
  std::uint64_t generation() const { return generation_; }

 private:
  bool try_create(std::uint64_t generation);
  void renew_until_stopped();
  void renew_once();
  std::string record_json(bool released) const;

  Archive archive_;
  std::chrono::seconds lease_time_;
  std::uint64_t generation_ = 0, beat_ = 0;
  std::int64_t since_ = 0;
  std::string token_;  // this capture's random value, in every record it writes
  std::chrono::steady_clock::time_point renewed_;  // when the last good renewal began
  mutable std::mutex mutex_;
  std::condition_variable stopping_;
  bool stop_ = false;
  std::optional<std::string> lost_;
  std::thread renewer_;
};

// `archive` as the holder of `lease` writes it: every put and remove first checks that the
// lease is still held, and fails naming why not.
Archive fenced_by(const Archive& archive, const CaptureLease& lease);

}  // namespace pitr::archive
