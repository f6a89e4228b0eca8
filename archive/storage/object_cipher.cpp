#include "archive/storage/object_cipher.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "formats/hex.hpp"

namespace pitr::storage {
namespace {

constexpr char kMagic[8] = {'P', 'I', 'T', 'R', 'E', 'N', 'C', '1'};
constexpr std::size_t kKeyIdSize = 8, kSaltSize = 32, kNonceSize = 12;
constexpr char kKdfInfo[] = "pitr archive object key v1";

EVP_CIPHER_CTX* cipher_context(void* p) {
  return static_cast<EVP_CIPHER_CTX*>(p);
}

std::runtime_error openssl_failed(const char* what) {
  return std::runtime_error(fmt::format("OpenSSL failed to {}", what));
}

// The object's own AES key: HKDF-SHA256 of the archive key with the object's salt.
std::array<std::uint8_t, 32> object_key_material(const EncryptionKey& key, Bytes salt) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> kdf(
      EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr), EVP_PKEY_CTX_free);
  std::array<std::uint8_t, 32> out{};
  std::size_t length = out.size();
  if (!kdf || EVP_PKEY_derive_init(kdf.get()) <= 0 ||
      EVP_PKEY_CTX_set_hkdf_md(kdf.get(), EVP_sha256()) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_salt(kdf.get(), salt.data(), static_cast<int>(salt.size())) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_key(kdf.get(), key.bytes().data(),
                                 static_cast<int>(key.bytes().size())) <= 0 ||
      EVP_PKEY_CTX_add1_hkdf_info(kdf.get(), reinterpret_cast<const unsigned char*>(kKdfInfo),
                                  sizeof kKdfInfo - 1) <= 0 ||
      EVP_PKEY_derive(kdf.get(), out.data(), &length) <= 0 || length != out.size())
    throw openssl_failed("derive an object key (HKDF-SHA256)");
  return out;
}

std::array<std::uint8_t, kNonceSize> nonce(std::uint64_t index) {
  std::array<std::uint8_t, kNonceSize> out{};
  for (int i = 0; i < 8; ++i) out[kNonceSize - 1 - i] = static_cast<std::uint8_t>(index >> (8 * i));
  return out;
}

}  // namespace

void ObjectCipher::ContextFree::operator()(void* ctx) const {
  EVP_CIPHER_CTX_free(cipher_context(ctx));
}

std::uint64_t ObjectCipher::sealed_size(std::uint64_t plain) {
  return kHeaderSize + (plain / kChunk) * kSealedChunk + plain % kChunk + kTag;
}

std::optional<std::uint64_t> ObjectCipher::plain_size(std::uint64_t sealed) {
  if (sealed < kHeaderSize + kTag) return std::nullopt;
  auto body = sealed - kHeaderSize;
  auto last = body % kSealedChunk;
  if (last < kTag) return std::nullopt;
  return (body / kSealedChunk) * kChunk + last - kTag;
}

ObjectCipher::ObjectCipher(const EncryptionKey& key, std::string object_key,
                           std::vector<std::uint8_t> header)
    : object_key_(std::move(object_key)), header_(std::move(header)) {
  auto material = object_key_material(key, Bytes(header_.data() + 16, kSaltSize));
  ctx_.reset(EVP_CIPHER_CTX_new());
  bool ok = ctx_ &&
            EVP_CipherInit_ex(cipher_context(ctx_.get()), EVP_aes_256_gcm(), nullptr, nullptr,
                              nullptr, -1) == 1 &&
            EVP_CIPHER_CTX_ctrl(cipher_context(ctx_.get()), EVP_CTRL_GCM_SET_IVLEN, kNonceSize,
                                nullptr) == 1 &&
            EVP_CipherInit_ex(cipher_context(ctx_.get()), nullptr, nullptr, material.data(),
                              nullptr, -1) == 1;
  OPENSSL_cleanse(material.data(), material.size());
  if (!ok) throw openssl_failed("set up AES-256-GCM");
}

ObjectCipher ObjectCipher::for_new_object(const EncryptionKey& key, const std::string& object_key) {
  std::vector<std::uint8_t> header(kHeaderSize);
  std::memcpy(header.data(), kMagic, sizeof kMagic);
  auto id = from_hex(key.id());
  std::copy(id.begin(), id.end(), header.begin() + 8);
  if (RAND_bytes(header.data() + 16, kSaltSize) != 1) throw openssl_failed("make a random salt");
  return ObjectCipher(key, object_key, std::move(header));
}

ObjectCipher ObjectCipher::for_header(const EncryptionKey& key, const std::string& object_key,
                                      Bytes header) {
  if (header.size() < kHeaderSize || !std::equal(kMagic, kMagic + 8, header.data()))
    throw ObjectRejected(fmt::format(
        "{} is not an encrypted pitr object (no PITRENC1 header): it was stored without "
        "encryption or is damaged",
        object_key));
  auto id = to_hex(header.subspan(8, kKeyIdSize));
  if (id != key.id())
    throw ObjectRejected(fmt::format(
        "{} was encrypted with key id {}, but the key given has id {}: give the archive's key "
        "(--encryption-key-file)",
        object_key, id, key.id()));
  return ObjectCipher(key, object_key, {header.begin(), header.begin() + kHeaderSize});
}

std::vector<std::uint8_t> ObjectCipher::associated_data(std::uint64_t index, bool last) const {
  std::vector<std::uint8_t> aad(header_);
  auto n = nonce(index);
  aad.insert(aad.end(), n.begin() + 4, n.end());
  aad.push_back(last ? 1 : 0);
  aad.insert(aad.end(), object_key_.begin(), object_key_.end());
  return aad;
}

void ObjectCipher::seal(std::uint64_t index, Bytes plain, std::vector<std::uint8_t>& out) {
  if (plain.size() > kChunk) throw std::logic_error("ObjectCipher::seal: chunk too large");
  auto* ctx = cipher_context(ctx_.get());
  auto iv = nonce(index);
  auto aad = associated_data(index, plain.size() < kChunk);
  auto at = out.size();
  out.resize(at + plain.size() + kTag);
  int n = 0, tail = 0;
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) != 1 ||
      EVP_EncryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx, out.data() + at, &n, plain.data(), static_cast<int>(plain.size())) !=
          1 ||
      EVP_EncryptFinal_ex(ctx, out.data() + at + n, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTag, out.data() + at + plain.size()) != 1)
    throw openssl_failed("encrypt (AES-256-GCM)");
}

void ObjectCipher::open(std::uint64_t index, Bytes sealed, std::vector<std::uint8_t>& out) {
  if (sealed.size() < kTag || sealed.size() > kSealedChunk)
    throw ObjectRejected(fmt::format("{} is cut short inside chunk {}", object_key_, index));
  auto* ctx = cipher_context(ctx_.get());
  auto iv = nonce(index);
  auto plain_length = sealed.size() - kTag;
  auto aad = associated_data(index, plain_length < kChunk);
  std::array<std::uint8_t, kTag> tag;
  std::copy(sealed.end() - kTag, sealed.end(), tag.begin());
  auto at = out.size();
  out.resize(at + plain_length);
  int n = 0, tail = 0;
  if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) != 1 ||
      EVP_DecryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx, out.data() + at, &n, sealed.data(), static_cast<int>(plain_length)) !=
          1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx, out.data() + at + n, &tail) != 1) {
    out.resize(at);
    throw ObjectRejected(fmt::format(
        "{} fails authentication at chunk {}: its bytes were changed, cut short, reordered or "
        "belong to another object",
        object_key_, index));
  }
}

}  // namespace pitr::storage
