#include "archive/capture_lease.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>
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
  std::string token;      // the holder's own random value: which capture wrote this
  bool released = false;  // the holder stopped and gave it up
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
  return LeaseRecord{identity_from_json(j.value("holder", nlohmann::json::object())),
                     j.value("since", std::int64_t{0}),
                     j.value("renewed_at", std::int64_t{0}),
                     j.value("beat", std::uint64_t{0}),
                     j.value("lease_seconds", std::int64_t{30}),
                     j.value("token", ""),
                     j.value("released", false)};
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
  token_ = fmt::format("{:016x}",
                       std::random_device{}() * 0x100000001ull ^
                           static_cast<std::uint64_t>(Steady::now().time_since_epoch().count()));
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
    if (!record) continue;  // removed meanwhile
    if (!record->released && !known_gone(record->holder)) {
      if (visible_from_here(record->holder) ||
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
  try {  // generations only grow: the record stays, marked released, for the next capture
    archive_.write_text(layout::capture_lease(generation_), record_json(true));
  } catch (const std::exception&) {
    // Lapses after its lease time; a capture on this host takes it over at once anyway.
  }
}

std::optional<std::string> CaptureLease::lost() const {
  std::lock_guard lock(mutex_);
  if (lost_) return lost_;
  // Another capture can take the lease over two lease times after the last renewal (once
  // it lapsed by the clocks, once more watching it): stop well before that.
  if (Steady::now() - renewed_ > lease_time_)
    return fmt::format("it was not renewed for {} s", lease_time_.count());
  return std::nullopt;
}

std::string CaptureLease::record_json(bool released) const {
  nlohmann::json j{{"holder", to_json(this_process())},
                   {"since", since_},
                   {"renewed_at", now_unix()},
                   {"beat", beat_},
                   {"lease_seconds", lease_time_.count()},
                   {"token", token_},
                   {"released", released}};
  return j.dump() + "\n";
}

bool CaptureLease::try_create(std::uint64_t generation) {
  auto started = Steady::now();
  if (!archive_.create_text(layout::capture_lease(generation), record_json(false))) return false;
  // A store that ignored the precondition would let two captures both "create" it.
  auto mine = read_record(archive_, generation);
  if (!mine || mine->token != token_) return false;
  generation_ = generation;
  renewed_ = started;
  return true;
}

void CaptureLease::renew_once() {
  auto started = Steady::now();
  auto gens = generations(archive_.store());
  std::optional<std::string> why;
  if (gens.empty() || gens.back() < generation_) {
    why = "its lease object was removed";
  } else if (gens.back() > generation_) {
    why = "another capture took it over";
    if (auto r = read_record(archive_, gens.back()))
      why = "another capture took it over (" + describe_holder(*r) + ")";
  } else if (auto r = read_record(archive_, generation_); !r || r->token != token_) {
    why = "another capture wrote its lease object";
  }
  if (why) {
    std::lock_guard lock(mutex_);
    lost_ = why;
    return;
  }
  ++beat_;
  archive_.write_text(layout::capture_lease(generation_), record_json(false));
  std::lock_guard lock(mutex_);
  renewed_ = started;
}

void CaptureLease::renew_until_stopped() {
  auto period = std::max<std::chrono::seconds>(lease_time_ / 3, std::chrono::seconds(1));
  std::unique_lock lock(mutex_);
  while (!stop_ && !lost_) {
    stopping_.wait_for(lock, period, [&] { return stop_; });
    if (stop_) return;
    lock.unlock();
    try {
      renew_once();
    } catch (const std::exception&) {
      // Tried again next period; lost() says so once a lease time passed without renewal.
    }
    lock.lock();
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
  return archive.over(std::make_shared<FencedStore>(archive.shared_store(), lease));
}

}  // namespace pitr::archive
