#include "archive/capture_lease.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>
#include <vector>

#include "archive/file_io.hpp"
#include "archive/process_identity.hpp"

namespace pitr::archive {
namespace {

using Steady = std::chrono::steady_clock;

struct LeaseRecord {
  ProcessIdentity holder;
  std::int64_t since = 0, renewed_at = 0;  // Unix seconds, the holder's clock
  std::uint64_t beat = 0;
  std::int64_t lease_seconds = 30;
};

std::int64_t now_unix() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

std::vector<std::uint64_t> generations(const storage::ObjectStore& store) {
  std::vector<std::uint64_t> out;
  for (const auto& o : store.list(layout::capture_leases_prefix())) {
    auto name = layout::base_name(o.key);
    if (name.size() == 21 && name.ends_with(".json") && name.find_first_not_of("0123456789") == 16)
      out.push_back(std::stoull(name.substr(0, 16)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<LeaseRecord> read_record(const Archive& archive, std::uint64_t generation) {
  auto text = archive.read_text(layout::capture_lease(generation));
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw IoError(fmt::format("{} is damaged; if no capture runs, remove it",
                              layout::capture_lease(generation)));
  return LeaseRecord{{j.value("host", ""), j.value("pid", 0L)},
                     j.value("since", std::int64_t{0}),
                     j.value("renewed_at", std::int64_t{0}),
                     j.value("beat", std::uint64_t{0}),
                     j.value("lease_seconds", std::int64_t{30})};
}

std::string describe_holder(const LeaseRecord& r) {
  return fmt::format("host {}, pid {}, since {:%Y-%m-%dT%H:%M:%SZ}", r.holder.host, r.holder.pid,
                     fmt::gmtime(static_cast<std::time_t>(r.since)));
}

LeaseHeld held_by(const Archive& archive, const LeaseRecord& r) {
  return LeaseHeld(fmt::format(
      "another pitr capture is writing {} ({}); stop it first. Its lease lapses {} s after its "
      "last renewal if it dies; a capture on the same host whose process is gone is taken over "
      "at once",
      archive.describe(), describe_holder(r), r.lease_seconds));
}

}  // namespace

CaptureLease::CaptureLease(const Archive& archive, std::chrono::seconds lease_time,
                           const std::function<void(const std::string&)>& log)
    : archive_(archive), lease_time_(lease_time), since_(now_unix()) {
  std::optional<std::pair<std::uint64_t, std::uint64_t>> watched;  // generation, beat
  auto watch_start = Steady::now();
  for (;;) {
    auto gens = generations(archive_.store());
    if (gens.empty()) {
      if (try_create(1)) break;
      continue;
    }
    auto g = gens.back();
    auto record = read_record(archive_, g);
    if (!record) continue;  // released meanwhile
    if (!known_gone(record->holder)) {
      if (record->holder.host == this_process().host ||
          now_unix() < record->renewed_at + record->lease_seconds)
        throw held_by(archive_, *record);
      // Lapsed by the clocks; taken only once no beat came for a whole lease time.
      if (watched != std::pair(g, record->beat)) {
        watched = std::pair(g, record->beat);
        watch_start = Steady::now();
        log(
            fmt::format("the lease of the last capture ({}) has lapsed; taking over once it "
                        "stays silent for {} s",
                        describe_holder(*record), record->lease_seconds));
      }
      if (Steady::now() - watch_start < std::chrono::seconds(record->lease_seconds)) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
    }
    if (try_create(g + 1)) break;
  }
  for (auto g : generations(archive_.store()))
    if (g < generation_) archive_.store().remove(layout::capture_lease(g));
  renewer_ = std::thread([this] { renew_until_stopped(); });
}

CaptureLease::~CaptureLease() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stopping_.notify_all();
  renewer_.join();
  if (lost()) return;
  try {
    archive_.store().remove(layout::capture_lease(generation_));
  } catch (const std::exception&) {
    // Lapses after its lease time; a capture on this host takes it over at once anyway.
  }
}

std::optional<std::string> CaptureLease::lost() const {
  std::lock_guard lock(mutex_);
  return lost_;
}

std::string CaptureLease::record_json() const {
  auto me = this_process();
  nlohmann::json j{{"host", me.host}, {"pid", me.pid},
                   {"since", since_}, {"renewed_at", now_unix()},
                   {"beat", beat_},   {"lease_seconds", lease_time_.count()}};
  return j.dump() + "\n";
}

bool CaptureLease::try_create(std::uint64_t generation) {
  try {
    archive_.write_text(layout::capture_lease(generation), record_json(),
                        storage::PutMode::kIfAbsent);
  } catch (const storage::StorageError& e) {
    if (e.kind() == storage::StorageErrorKind::kAlreadyExists) return false;
    throw;
  }
  generation_ = generation;
  return true;
}

void CaptureLease::renew_once() {
  auto gens = generations(archive_.store());
  if (gens.empty() || gens.back() != generation_) {
    std::string who = "its lease object was removed";
    if (!gens.empty() && gens.back() > generation_)
      if (auto r = read_record(archive_, gens.back()))
        who = "another capture took it over (" + describe_holder(*r) + ")";
    std::lock_guard lock(mutex_);
    lost_ = who;
    return;
  }
  ++beat_;
  archive_.write_text(layout::capture_lease(generation_), record_json());
}

void CaptureLease::renew_until_stopped() {
  auto period = std::max<std::chrono::seconds>(lease_time_ / 3, std::chrono::seconds(1));
  auto renewed = Steady::now();
  std::unique_lock lock(mutex_);
  while (!stop_ && !lost_) {
    stopping_.wait_for(lock, period, [&] { return stop_; });
    if (stop_) return;
    lock.unlock();
    std::optional<std::string> failure;
    try {
      renew_once();
      renewed = Steady::now();
    } catch (const std::exception& e) {
      if (Steady::now() - renewed >= lease_time_)
        failure =
            fmt::format("it could not be renewed for {} s ({})", lease_time_.count(), e.what());
    }
    lock.lock();
    if (failure) lost_ = failure;
  }
}

namespace {

class FencedStore : public storage::ObjectStore {
 public:
  FencedStore(std::shared_ptr<storage::ObjectStore> inner, const CaptureLease& lease)
      : inner_(std::move(inner)), lease_(lease) {}

  storage::StorageCapabilities capabilities() const override { return inner_->capabilities(); }
  std::string describe() const override { return inner_->describe(); }
  void put(const std::string& key, const storage::ByteSource& source,
           storage::PutMode mode) override {
    check();
    inner_->put(key, source, mode);
  }
  void get(const std::string& key, const storage::ByteSink& sink,
           const storage::ByteRange& range) const override {
    inner_->get(key, sink, range);
  }
  storage::ListPage list_page(const std::string& prefix, const std::optional<std::string>& resume,
                              std::size_t max_objects) const override {
    return inner_->list_page(prefix, resume, max_objects);
  }
  std::optional<storage::ObjectInfo> stat(const std::string& key) const override {
    return inner_->stat(key);
  }
  void remove(const std::string& key) override {
    check();
    inner_->remove(key);
  }

 private:
  void check() const {
    if (auto why = lease_.lost())
      throw storage::StorageError(
          storage::StorageErrorKind::kPermanent,
          fmt::format("this capture no longer holds the lease of {}: {}; it stops writing so "
                      "that one capture alone writes the archive",
                      inner_->describe(), *why));
  }

  std::shared_ptr<storage::ObjectStore> inner_;
  const CaptureLease& lease_;
};

}  // namespace

Archive fenced_by(const Archive& archive, const CaptureLease& lease) {
  return Archive(std::make_shared<FencedStore>(archive.shared_store(), lease), archive.spool());
}

}  // namespace pitr::archive
