// Encryption at rest (archive/storage/encrypted_store.hpp, object_cipher.hpp): what an
// attacker or a broken disk can do to the stored bytes is refused, and nothing of the
// plaintext reaches the store. The storage conformance suite runs over EncryptedStore too.
#include <gtest/gtest.h>

#include <fstream>

#include "archive/storage/encrypted_store.hpp"
#include "archive/storage/local_directory_store.hpp"
#include "archive/storage/object_cipher.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr::storage {
namespace {

using C = ObjectCipher;

EncryptionKey key_of(std::uint8_t fill) {
  std::array<std::uint8_t, EncryptionKey::kSize> bytes{};
  bytes.fill(fill);
  return EncryptionKey(bytes);
}

std::vector<std::uint8_t> text_bytes(std::size_t size) {
  std::string marker = "MARKER-7f3a-secret-row ";
  std::vector<std::uint8_t> out(size);
  for (std::size_t i = 0; i < size; ++i)
    out[i] = static_cast<std::uint8_t>(marker[i % marker.size()]);
  return out;
}

class EncryptedStoreTest : public ::testing::Test {
 protected:
  EncryptedStoreTest()
      : raw(std::make_shared<LocalDirectoryStore>(dir.path())),
        store(raw, key_of(1), {"pitr-archive.json"}) {}

  std::vector<std::uint8_t> raw_bytes(const std::string& key) { return raw->get_bytes(key); }
  void put_raw(const std::string& key, const std::vector<std::uint8_t>& bytes) {
    raw->put_bytes(key, bytes, PutMode::kOverwrite);
  }
  std::string read_error(const EncryptedStore& s, const std::string& key, ByteRange range = {}) {
    try {
      s.get_bytes(key, range);
    } catch (const ObjectRejected& e) {
      return e.what();
    }
    ADD_FAILURE() << "reading " << key << " was not refused";
    return "";
  }

  test::TempDir dir;
  std::shared_ptr<LocalDirectoryStore> raw;
  EncryptedStore store;
};

TEST_F(EncryptedStoreTest, RoundTripsEverySizeAroundChunkBoundaries) {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, C::kChunk - 1, C::kChunk, C::kChunk + 1,
                           3 * C::kChunk, 3 * C::kChunk + 77}) {
    auto data = text_bytes(size);
    auto key = "o/" + std::to_string(size);
    store.put_bytes(key, data, PutMode::kIfAbsent);
    EXPECT_EQ(store.get_bytes(key), data) << size;
    EXPECT_EQ(store.stat(key)->size, size);
    EXPECT_EQ(raw->stat(key)->size, ObjectCipher::sealed_size(size));
    EXPECT_EQ(ObjectCipher::plain_size(ObjectCipher::sealed_size(size)), size);
  }
}

TEST_F(EncryptedStoreTest, RangesAcrossChunksReadOnlyWhatTheyAsk) {
  auto data = text_bytes(5 * C::kChunk + 123);
  store.put_bytes("r", data, PutMode::kIfAbsent);
  for (auto [offset, length] :
       std::vector<std::pair<std::uint64_t, std::uint64_t>>{{0, 10},
                                                            {C::kChunk - 3, 6},
                                                            {2 * C::kChunk, C::kChunk},
                                                            {data.size() - 5, 5},
                                                            {data.size() - 5, 500},
                                                            {7, 3 * C::kChunk}}) {
    auto got = store.get_bytes("r", {offset, length});
    auto end = std::min<std::uint64_t>(data.size(), offset + length);
    EXPECT_EQ(got, std::vector<std::uint8_t>(data.begin() + offset, data.begin() + end))
        << offset << "+" << length;
  }
  auto tail = store.get_bytes("r", {data.size() - 1000, std::nullopt});
  EXPECT_EQ(tail, std::vector<std::uint8_t>(data.end() - 1000, data.end()));
  EXPECT_TRUE(store.get_bytes("r", {data.size(), std::nullopt}).empty());
  auto huge = store.get_bytes("r", {C::kChunk + 1, UINT64_MAX});  // saturates at the end
  EXPECT_EQ(huge, std::vector<std::uint8_t>(data.begin() + C::kChunk + 1, data.end()));
}

TEST_F(EncryptedStoreTest, NoPlaintextReachesTheStoreButTheMarker) {
  auto data = text_bytes(100000);
  store.put_bytes("binlog/x", data, PutMode::kIfAbsent);
  store.put_bytes("pitr-archive.json", text_bytes(50), PutMode::kIfAbsent);
  auto sealed = raw_bytes("binlog/x");
  std::string stored(sealed.begin(), sealed.end());
  EXPECT_EQ(stored.find("MARKER-7f3a"), std::string::npos);
  EXPECT_EQ(raw_bytes("pitr-archive.json"), text_bytes(50));
}

TEST_F(EncryptedStoreTest, AFlippedBitIsRefusedWhereverItIs) {
  auto data = text_bytes(3 * C::kChunk + 10);
  store.put_bytes("f", data, PutMode::kIfAbsent);
  auto sealed = raw_bytes("f");
  for (std::size_t at : {std::size_t{3}, std::size_t{20}, C::kHeaderSize + 5,
                         C::kHeaderSize + C::kSealedChunk - 1, sealed.size() - 1}) {
    auto bad = sealed;
    bad[at] ^= 0x10;
    put_raw("f", bad);
    EXPECT_FALSE(read_error(store, "f").empty()) << "bit flipped at " << at;
  }
  auto bad = sealed;
  bad[C::kHeaderSize + 2 * C::kSealedChunk + 3] ^= 1;
  put_raw("f", bad);
  EXPECT_NE(read_error(store, "f", {2 * C::kChunk, 5}).find("chunk 2"), std::string::npos);
}

TEST_F(EncryptedStoreTest, TruncationIsRefusedAtAChunkBoundaryAndInsideOne) {
  auto data = text_bytes(3 * C::kChunk + 10);
  store.put_bytes("t", data, PutMode::kIfAbsent);
  auto sealed = raw_bytes("t");
  auto at_boundary = std::vector<std::uint8_t>(
      sealed.begin(), sealed.begin() + C::kHeaderSize + 2 * C::kSealedChunk);
  put_raw("t", at_boundary);
  EXPECT_NE(read_error(store, "t").find("cut short"), std::string::npos);
  EXPECT_NE(read_error(store, "t", {C::kChunk, std::nullopt}).find("cut short"), std::string::npos);
  put_raw("t", std::vector<std::uint8_t>(sealed.begin(), sealed.end() - 7));
  EXPECT_NE(read_error(store, "t").find("fails authentication"), std::string::npos);
  put_raw("t", std::vector<std::uint8_t>(sealed.begin(), sealed.begin() + 30));
  EXPECT_NE(read_error(store, "t").find("cut short"), std::string::npos);
}

TEST_F(EncryptedStoreTest, ReorderedChunksAndSwappedObjectsAreRefused) {
  auto a = text_bytes(3 * C::kChunk), b = text_bytes(2000);
  store.put_bytes("a", a, PutMode::kIfAbsent);
  store.put_bytes("b", b, PutMode::kIfAbsent);
  auto sealed_a = raw_bytes("a"), sealed_b = raw_bytes("b");
  auto reordered = sealed_a;
  std::swap_ranges(reordered.begin() + C::kHeaderSize,
                   reordered.begin() + C::kHeaderSize + C::kSealedChunk,
                   reordered.begin() + C::kHeaderSize + C::kSealedChunk);
  put_raw("a", reordered);
  EXPECT_NE(read_error(store, "a").find("chunk 0"), std::string::npos);
  put_raw("a", sealed_b);  // the two objects' bytes exchanged
  put_raw("b", sealed_a);
  EXPECT_NE(read_error(store, "a").find("fails authentication"), std::string::npos);
  EXPECT_NE(read_error(store, "b").find("fails authentication"), std::string::npos);
}

TEST_F(EncryptedStoreTest, AnotherKeyOrNoEncryptionIsNamed) {
  store.put_bytes("k", text_bytes(10), PutMode::kIfAbsent);
  EncryptedStore other(raw, key_of(2), {});
  auto message = read_error(other, "k");
  EXPECT_NE(message.find(key_of(1).id()), std::string::npos) << message;
  EXPECT_NE(message.find(key_of(2).id()), std::string::npos) << message;
  put_raw("plain", text_bytes(100));
  EXPECT_NE(read_error(store, "plain").find("not an encrypted pitr object"), std::string::npos);
}

TEST_F(EncryptedStoreTest, EachObjectHasItsOwnSaltSoEqualPlaintextsDiffer) {
  store.put_bytes("x", text_bytes(500), PutMode::kIfAbsent);
  store.put_bytes("y", text_bytes(500), PutMode::kIfAbsent);
  EXPECT_NE(raw_bytes("x"), raw_bytes("y"));
}

TEST(EncryptionKeyFile, TakesRawBytesOrHexAndRefusesAnythingElse) {
  test::TempDir dir;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.path() / name, std::ios::binary) << text;
    return dir.path() / name;
  };
  std::string hex(64, 'a');
  auto from_hex_file = EncryptionKey::from_file(write("hex", hex + "\n"));
  EXPECT_EQ(from_hex_file.bytes()[0], 0xaa);
  auto from_raw = EncryptionKey::from_file(write("raw", std::string(32, '\xaa')));
  EXPECT_EQ(from_raw.bytes(), from_hex_file.bytes());
  EXPECT_EQ(from_raw.id(), from_hex_file.id());
  EXPECT_EQ(from_raw.id().size(), 16u);
  EXPECT_EQ(from_raw.id().find("aaaa"), std::string::npos);
  try {
    EncryptionKey::from_file(write("short", "abc\n"));
    ADD_FAILURE() << "a 4-byte key file was taken";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("openssl rand -hex 32"), std::string::npos);
  }
  EXPECT_THROW(EncryptionKey::from_file(dir.path() / "missing"), std::runtime_error);
  try {
    EncryptionKey::from_file(write("passphrase", "correct horse battery staple 123"));
    ADD_FAILURE() << "a 32-character passphrase was taken as a key";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("passphrase"), std::string::npos);
  }
}

}  // namespace
}  // namespace pitr::storage
