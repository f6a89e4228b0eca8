#include "formats/mysql_protocol/auth_scramble.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace pitr::mysql_protocol {
namespace {

std::vector<std::uint8_t> digest(const EVP_MD* md, std::initializer_list<Bytes> parts) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1)
    throw std::runtime_error("OpenSSL digest initialisation failed");
  for (auto p : parts) EVP_DigestUpdate(ctx.get(), p.data(), p.size());
  std::vector<std::uint8_t> out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx.get(), out.data(), &n);
  return out;
}

Bytes view(const std::vector<std::uint8_t>& v) {
  return {v.data(), v.size()};
}

}  // namespace

std::vector<std::uint8_t> scramble_native_password(std::string_view password, Bytes nonce) {
  if (password.empty()) return {};
  auto stage1 = digest(EVP_sha1(), {as_bytes(password)});
  auto stage2 = digest(EVP_sha1(), {view(stage1)});
  auto mix =
      digest(EVP_sha1(), {nonce.first(std::min<std::size_t>(20, nonce.size())), view(stage2)});
  for (std::size_t i = 0; i < mix.size(); ++i) mix[i] ^= stage1[i];
  return mix;
}

std::vector<std::uint8_t> scramble_caching_sha2(std::string_view password, Bytes nonce) {
  if (password.empty()) return {};
  auto stage1 = digest(EVP_sha256(), {as_bytes(password)});
  auto stage2 = digest(EVP_sha256(), {view(stage1)});
  auto mix = digest(EVP_sha256(), {view(stage2), nonce});
  for (std::size_t i = 0; i < mix.size(); ++i) mix[i] ^= stage1[i];
  return mix;
}

std::vector<std::uint8_t> scramble_for_plugin(std::string_view plugin, std::string_view password,
                                              Bytes nonce) {
  if (plugin == kNativePassword || plugin.empty()) return scramble_native_password(password, nonce);
  if (plugin == kCachingSha2Password) return scramble_caching_sha2(password, nonce);
  throw std::runtime_error("the server asks for authentication plugin '" + std::string(plugin) +
                           "', which pitr does not support; use mysql_native_password or "
                           "caching_sha2_password for the replication user");
}

std::vector<std::uint8_t> rsa_encrypt_password(std::string_view pem, std::string_view password,
                                               Bytes nonce) {
  if (nonce.empty()) throw std::runtime_error("empty nonce for RSA password exchange");
  std::vector<std::uint8_t> plain(password.begin(), password.end());
  plain.push_back(0);
  for (std::size_t i = 0; i < plain.size(); ++i) plain[i] ^= nonce[i % nonce.size()];

  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr, EVP_PKEY_free);
  if (!key) throw std::runtime_error("the server sent an RSA public key pitr cannot read");
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new(key.get(), nullptr), EVP_PKEY_CTX_free);
  std::size_t out_len = 0;
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &out_len, plain.data(), plain.size()) != 1)
    throw std::runtime_error(
        "RSA encryption of the password failed (password too long for the key?)");
  std::vector<std::uint8_t> out(out_len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &out_len, plain.data(), plain.size()) != 1)
    throw std::runtime_error("RSA encryption of the password failed");
  out.resize(out_len);
  return out;
}

}  // namespace pitr::mysql_protocol
