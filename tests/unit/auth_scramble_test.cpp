#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include "formats/hex.hpp"

#include <memory>

#include "archive/partial_scan.hpp"
#include "formats/mysql_protocol/auth_scramble.hpp"

namespace pitr::mysql_protocol {
namespace {

const std::vector<std::uint8_t> kNonce = {10,  47, 74, 111, 75, 73, 34, 48, 88, 76,
                                          114, 74, 37, 13,  3,  80, 82, 2,  23, 21};

// Published vectors (go-sql-driver/mysql's auth tests) for caching_sha2_password.
TEST(AuthScramble, CachingSha2KnownVectors) {
  EXPECT_EQ(to_hex(scramble_caching_sha2("secret", kNonce)),
            "f490e76f66d9d86665ce54d98c78d0acfe2fb0b08b423da807144873d30b312c");
  EXPECT_EQ(to_hex(scramble_caching_sha2("secret2", kNonce)),
            "abc3934a012cf342e876071c8ee202de51785b430258a7a0138bc79c4d800bc6");
  EXPECT_TRUE(scramble_caching_sha2("", kNonce).empty());
}

std::vector<std::uint8_t> sha1(Bytes a, Bytes b = {}) {
  std::vector<std::uint8_t> out(20);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestFinal_ex(ctx, out.data(), nullptr);
  EVP_MD_CTX_free(ctx);
  return out;
}

// The server's check: SHA1(reply XOR SHA1(nonce + stored)) == stored, stored = SHA1(SHA1(pw)).
TEST(AuthScramble, NativePasswordPassesTheServersCheck) {
  for (std::string pw : {"pitr", "a much longer password with spaces", "p\xc3\xa4ss"}) {
    auto stored = sha1(sha1(as_bytes(pw)));
    auto reply = scramble_native_password(pw, kNonce);
    auto mask = sha1(kNonce, stored);
    ASSERT_EQ(reply.size(), 20u);
    for (std::size_t i = 0; i < 20; ++i) reply[i] ^= mask[i];
    EXPECT_EQ(sha1(reply), stored) << pw;
  }
  auto other = scramble_native_password("pitr", kNonce);
  EXPECT_NE(other, scramble_native_password("pitR", kNonce));
}

TEST(AuthScramble, UnsupportedPluginIsNamed) {
  try {
    scramble_for_plugin("client_ed25519", "x", kNonce);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("client_ed25519"), std::string::npos);
  }
}

TEST(AuthScramble, RsaPasswordDecryptsToPasswordXorNonce) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), EVP_PKEY_free);
  ASSERT_TRUE(key);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PUBKEY(bio.get(), key.get());
  char* pem_data = nullptr;
  auto pem_len = BIO_get_mem_data(bio.get(), &pem_data);
  std::string pem(pem_data, static_cast<std::size_t>(pem_len));

  auto cipher = rsa_encrypt_password(pem, "s3cret", kNonce);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new(key.get(), nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY_decrypt_init(ctx.get());
  EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING);
  std::size_t n = 512;
  std::vector<std::uint8_t> plain(n);
  ASSERT_EQ(EVP_PKEY_decrypt(ctx.get(), plain.data(), &n, cipher.data(), cipher.size()), 1);
  plain.resize(n);
  ASSERT_EQ(plain.size(), 7u);
  std::string recovered;
  for (std::size_t i = 0; i < plain.size(); ++i)
    recovered += static_cast<char>(plain[i] ^ kNonce[i % kNonce.size()]);
  EXPECT_EQ(recovered, std::string("s3cret") + '\0');
}

TEST(AuthScramble, GarbagePublicKeyIsAClearError) {
  EXPECT_THROW(rsa_encrypt_password("not a key", "pw", kNonce), std::runtime_error);
}

}  // namespace
}  // namespace pitr::mysql_protocol
