// One conformance suite for every storage backend (archive/storage/object_store.hpp): what
// the archive relies on, checked the same way against each. Backends are listed in
// `backends()`; each test gets a fresh, empty store.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "archive/storage/encrypted_store.hpp"
#include "archive/storage/local_directory_store.hpp"
#include "archive/storage/s3_store.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr::storage {
namespace {

struct Backend {
  std::string name;
  std::function<std::unique_ptr<ObjectStore>(const std::filesystem::path& scratch)> open;
};

// S3 when PITR_TEST_S3_BUCKET names a bucket (tests/integration/test_storage_s3.py starts a
// Ceph gateway, makes one and runs this suite against it with AWS_ENDPOINT_URL and the
// AWS_* credentials set). Each test works under a prefix of its own.
std::optional<Backend> s3_backend() {
  const char* bucket = std::getenv("PITR_TEST_S3_BUCKET");
  if (!bucket || !*bucket) return std::nullopt;
  return Backend{"S3", [bucket](const std::filesystem::path& scratch) {
                   S3Location at;
                   const char* endpoint = std::getenv("AWS_ENDPOINT_URL");
                   at.endpoint = endpoint ? endpoint : "";
                   at.bucket = bucket;
                   at.prefix = "conformance/" + scratch.filename().string() + "/";
                   S3Tuning tuning;
                   tuning.part_size = 5 << 20;  // the smallest S3 allows: multipart sooner
                   tuning.deadline = std::chrono::seconds(30);
                   if (const char* stall = std::getenv("PITR_TEST_S3_STALL_SECONDS"))
                     tuning.stall_timeout = std::chrono::seconds(std::atoi(stall));
                   return std::make_unique<S3Store>(at, load_s3_credentials(), tuning);
                 }};
}

// The same backend with every object encrypted (archive/storage/encrypted_store.hpp).
Backend encrypted(const Backend& plain) {
  return {"Encrypted" + plain.name, [plain](const std::filesystem::path& scratch) {
            std::array<std::uint8_t, EncryptionKey::kSize> key{};
            key.fill(0x5a);
            return std::make_unique<EncryptedStore>(plain.open(scratch), EncryptionKey(key),
                                                    std::set<std::string>{});
          }};
}

std::vector<Backend> backends() {
  std::vector<Backend> out{{"LocalDirectory", [](const std::filesystem::path& scratch) {
                              return std::make_unique<LocalDirectoryStore>(scratch / "store");
                            }}};
  if (auto s3 = s3_backend()) out.push_back(*s3);
  for (std::size_t i = 0, plain = out.size(); i < plain; ++i) out.push_back(encrypted(out[i]));
  return out;
}

std::vector<std::uint8_t> pattern(std::size_t size, std::uint8_t seed) {
  std::vector<std::uint8_t> out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(i * 31 + seed);
  return out;
}

std::vector<std::string> keys_of(const std::vector<ObjectInfo>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o.key);
  return out;
}

StorageErrorKind error_kind(const std::function<void()>& f) {
  try {
    f();
  } catch (const StorageError& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no StorageError thrown";
  return StorageErrorKind::kPermanent;
}

class StorageConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { store = GetParam().open(scratch.path()); }
  test::TempDir scratch;
  std::unique_ptr<ObjectStore> store;
};

TEST_P(StorageConformance, PutGetRoundTripAndStat) {
  auto data = pattern(3 << 20, 7);  // several of any backend's chunks
  store->put_bytes("binlog/src/binlog.000001/0000000000000000.seg.zst", data, PutMode::kIfAbsent);
  EXPECT_TRUE(store->get_bytes("binlog/src/binlog.000001/0000000000000000.seg.zst") == data);
  auto info = store->stat("binlog/src/binlog.000001/0000000000000000.seg.zst");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, data.size());
  EXPECT_GT(info->modified_unix, 1'600'000'000);
  store->put_bytes("empty", {}, PutMode::kIfAbsent);
  EXPECT_TRUE(store->get_bytes("empty").empty());
  EXPECT_EQ(store->stat("empty")->size, 0u);
}

TEST_P(StorageConformance, MissingObjectsAreNotFound) {
  EXPECT_FALSE(store->exists("nothing/here"));
  EXPECT_FALSE(store->stat("nothing"));
  EXPECT_EQ(error_kind([&] { store->get_bytes("nothing/here"); }), StorageErrorKind::kNotFound);
  store->remove("nothing/here");  // idempotent
}

TEST_P(StorageConformance, RangedReads) {
  auto data = pattern(100'000, 3);
  store->put_bytes("r", data, PutMode::kOverwrite);
  auto middle = store->get_bytes("r", {1000, 5000});
  EXPECT_TRUE(middle == std::vector<std::uint8_t>(data.begin() + 1000, data.begin() + 6000));
  auto tail = store->get_bytes("r", {99'000, std::nullopt});
  EXPECT_TRUE(tail == std::vector<std::uint8_t>(data.begin() + 99'000, data.end()));
  auto cut = store->get_bytes("r", {99'990, 1000});  // ends past the end: cut there
  EXPECT_EQ(cut.size(), 10u);
  EXPECT_EQ(error_kind([&] { store->get_bytes("r", {100'001, 1}); }), StorageErrorKind::kPermanent);
}

TEST_P(StorageConformance, IfAbsentNeverOverwrites) {
  auto first = pattern(1000, 1), second = pattern(2000, 2);
  store->put_bytes("k", first, PutMode::kIfAbsent);
  EXPECT_EQ(error_kind([&] { store->put_bytes("k", second, PutMode::kIfAbsent); }),
            StorageErrorKind::kAlreadyExists);
  EXPECT_TRUE(store->get_bytes("k") == first);
  store->put_bytes("k", second, PutMode::kOverwrite);
  EXPECT_TRUE(store->get_bytes("k") == second);
  EXPECT_EQ(keys_of(store->list("")), std::vector<std::string>{"k"});
}

TEST_P(StorageConformance, ConcurrentIfAbsentHasExactlyOneWinner) {
  if (!store->capabilities().atomic_if_absent) GTEST_SKIP() << "no atomic create";
  std::atomic<int> winners{0}, refused{0};
  std::vector<std::thread> threads;
  for (std::uint8_t t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      try {
        store->put_bytes("lease", pattern(4096, t), PutMode::kIfAbsent);
        ++winners;
      } catch (const StorageError& e) {
        if (e.kind() == StorageErrorKind::kAlreadyExists) ++refused;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(refused.load(), 7);
}

TEST_P(StorageConformance, FailedPutLeavesNothing) {
  int calls = 0;  // the source fails after two full buffers
  auto failing = [&calls](std::span<std::uint8_t> out) -> std::size_t {
    if (++calls % 3 == 0) throw std::runtime_error("source failed");
    std::fill(out.begin(), out.end(), 1);
    return out.size();
  };
  EXPECT_THROW(store->put("dropped", failing, PutMode::kIfAbsent), std::runtime_error);
  EXPECT_FALSE(store->exists("dropped"));
  store->put_bytes("kept", pattern(10, 1), PutMode::kOverwrite);
  EXPECT_THROW(store->put("kept", failing, PutMode::kOverwrite), std::runtime_error);
  EXPECT_TRUE(store->get_bytes("kept") == pattern(10, 1));
  EXPECT_EQ(keys_of(store->list("")), std::vector<std::string>{"kept"});
}

TEST_P(StorageConformance, ListsByPrefixInKeyOrderAcrossPages) {
  for (int i = 1099; i >= 0; --i)  // more than one page of 1000, written out of order
    store->put_bytes(fmt::format("wal/seg-{:05d}", i), pattern(1, 0), PutMode::kIfAbsent);
  store->put_bytes("wal-other", pattern(1, 0), PutMode::kIfAbsent);
  store->put_bytes("binlog/x", pattern(1, 0), PutMode::kIfAbsent);
  auto all = store->list("wal/");
  ASSERT_EQ(all.size(), 1100u);
  for (std::size_t i = 0; i < all.size(); ++i)
    EXPECT_EQ(all[i].key, fmt::format("wal/seg-{:05d}", i));
  auto page = store->list_page("wal/", std::nullopt, 1000);
  EXPECT_EQ(page.objects.size(), 1000u);
  ASSERT_TRUE(page.resume);
  auto rest = store->list_page("wal/", page.resume, 1000);
  EXPECT_EQ(rest.objects.size(), 100u);
  EXPECT_FALSE(rest.resume);
  // A prefix is a string, not a folder: "wal" matches "wal/..." and "wal-other".
  EXPECT_EQ(store->list("wal").size(), 1101u);
  EXPECT_EQ(
      keys_of(store->list("wal/seg-0109")),
      (std::vector<std::string>{"wal/seg-01090", "wal/seg-01091", "wal/seg-01092", "wal/seg-01093",
                                "wal/seg-01094", "wal/seg-01095", "wal/seg-01096", "wal/seg-01097",
                                "wal/seg-01098", "wal/seg-01099"}));
  EXPECT_TRUE(store->list("nothing/").empty());
}

TEST_P(StorageConformance, ListingRefusesPrefixesNoKeyCanHave) {
  store->put_bytes("a/b", pattern(1, 0), PutMode::kIfAbsent);
  EXPECT_EQ(error_kind([&] { store->list("../"); }), StorageErrorKind::kPermanent);
  EXPECT_EQ(error_kind([&] { store->list("a/../"); }), StorageErrorKind::kPermanent);
  auto one = store->list_page("a/", std::nullopt, 0);  // at least one per page
  EXPECT_EQ(one.objects.size(), 1u);
  EXPECT_EQ(keys_of(store->list("a/")), std::vector<std::string>{"a/b"});
}

TEST_P(StorageConformance, RemoveDeletes) {
  store->put_bytes("a/b", pattern(5, 0), PutMode::kIfAbsent);
  store->remove("a/b");
  EXPECT_FALSE(store->exists("a/b"));
  EXPECT_TRUE(store->list("a/").empty());
  store->put_bytes("a/b", pattern(6, 0), PutMode::kIfAbsent);  // the key is free again
  EXPECT_EQ(store->stat("a/b")->size, 6u);
}

TEST_P(StorageConformance, KeysWithSpacesPlusAndNonAscii) {
  const std::vector<std::string> keys = {"with space/a b", "plus+sign/c+d", "utf8/zürich-東京",
                                         "percent%25/x?y=z&w"};
  for (std::size_t i = 0; i < keys.size(); ++i)
    store->put_bytes(keys[i], pattern(100 + i, static_cast<std::uint8_t>(i)), PutMode::kIfAbsent);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_TRUE(store->get_bytes(keys[i]) == pattern(100 + i, static_cast<std::uint8_t>(i)))
        << keys[i];
    EXPECT_EQ(keys_of(store->list(keys[i])), std::vector<std::string>{keys[i]});
  }
}

TEST_P(StorageConformance, InvalidKeysAreRefused) {
  const std::vector<std::string> keys = {"",
                                         "/abs",
                                         "a//b",
                                         "a/",
                                         "../up",
                                         "a/./b",
                                         ".hidden",
                                         "a\x01"
                                         "b",
                                         "bad\xff",
                                         "cut\xc3",
                                         std::string(201, 'x')};
  for (const auto& key : keys)
    EXPECT_EQ(error_kind([&] { store->put_bytes(key, pattern(1, 0), PutMode::kIfAbsent); }),
              StorageErrorKind::kPermanent)
        << "'" << key << "'";
}

// Bytes of a large object, the same whatever the chunking: byte i is a function of i.
std::uint8_t large_byte(std::uint64_t i) {
  return static_cast<std::uint8_t>((i * 2654435761u) >> 13);
}

std::uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

TEST_P(StorageConformance, LargeObjectStreamsInBoundedMemory) {
  constexpr std::uint64_t kSize = 200ull << 20;
  auto before = resident_bytes(), peak = before;  // sampled at every chunk, both ways
  std::uint64_t produced = 0;
  store->put(
      "backups/big",
      [&](std::span<std::uint8_t> out) {
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), kSize - produced));
        for (std::size_t i = 0; i < n; ++i) out[i] = large_byte(produced + i);
        produced += n;
        peak = std::max(peak, resident_bytes());
        return n;
      },
      PutMode::kIfAbsent);
  EXPECT_EQ(store->stat("backups/big")->size, kSize);
  std::uint64_t read = 0, wrong = 0;
  store->get("backups/big", [&](Bytes b) {
    for (std::size_t i = 0; i < b.size(); ++i) wrong += b[i] != large_byte(read + i);
    read += b.size();
    peak = std::max(peak, resident_bytes());
  });
  EXPECT_EQ(read, kSize);
  EXPECT_EQ(wrong, 0u);
  auto tail = store->get_bytes("backups/big", {kSize - 10, std::nullopt});
  ASSERT_EQ(tail.size(), 10u);
  EXPECT_EQ(tail[9], large_byte(kSize - 1));
  auto growth = peak - before;
#ifdef __SANITIZE_ADDRESS__
  growth = 0;  // AddressSanitizer's quarantine keeps freed buffers resident: not measurable
#endif
  EXPECT_LT(growth, 128ull << 20) << "resident memory grew by " << growth;
  store->remove("backups/big");
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageConformance, ::testing::ValuesIn(backends()),
                         [](const auto& info) { return info.param.name; });

// What an operator gets wrong, against a real S3 server: each is a clear error, fast.
class S3Mistakes : public ::testing::TestWithParam<Backend> {
 protected:
  static S3Location location() {
    S3Location at;
    at.endpoint = std::getenv("AWS_ENDPOINT_URL");
    at.bucket = std::getenv("PITR_TEST_S3_BUCKET");
    return at;
  }
  static std::string message_of(const std::function<void()>& f, StorageErrorKind kind) {
    try {
      f();
    } catch (const StorageError& e) {
      EXPECT_EQ(e.kind(), kind) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "no StorageError thrown";
    return "";
  }
};

TEST_P(S3Mistakes, WrongSecretKeyNamesTheKeyIdAndBucket) {
  auto credentials = load_s3_credentials();
  credentials.secret_access_key += "x";
  S3Store store(location(), credentials);
  auto m = message_of([&] { store.put_bytes("k", pattern(10, 0), PutMode::kIfAbsent); },
                      StorageErrorKind::kPermanent);
  EXPECT_NE(m.find("access denied"), std::string::npos) << m;
  EXPECT_NE(m.find(credentials.access_key_id), std::string::npos) << m;
  EXPECT_NE(m.find(location().bucket), std::string::npos) << m;
}

TEST_P(S3Mistakes, UnknownBucketIsNamed) {
  auto at = location();
  at.bucket = "no-such-bucket-for-pitr";
  S3Store store(at, load_s3_credentials());
  auto m = message_of([&] { store.list("x/"); }, StorageErrorKind::kPermanent);
  EXPECT_NE(m.find("bucket 'no-such-bucket-for-pitr' does not exist"), std::string::npos) << m;
}

TEST_P(S3Mistakes, UnreachableEndpointGivesUpAtTheDeadline) {
  auto at = location();
  at.endpoint = "http://127.0.0.1:9";  // discard: nothing listens
  S3Tuning tuning;
  tuning.deadline = std::chrono::seconds(2);
  S3Store store(at, load_s3_credentials(), tuning);
  auto m = message_of([&] { store.stat("k"); }, StorageErrorKind::kRetryable);
  EXPECT_NE(m.find("gave up after"), std::string::npos) << m;
}

std::vector<Backend> s3_only() {
  auto s3 = s3_backend();
  return s3 ? std::vector<Backend>{*s3} : std::vector<Backend>{};
}

// Instantiated only where a gateway is configured (the suite test_storage_s3 runs it).
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(S3Mistakes);
INSTANTIATE_TEST_SUITE_P(Backends, S3Mistakes, ::testing::ValuesIn(s3_only()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace pitr::storage
