#pragma once
// Password proofs of the MySQL authentication plugins. Pure functions of the password
// and the server's nonce; they never see a socket.
#include <cstdint>
#include <string_view>
#include <vector>

#include "formats/byte_cursor.hpp"

namespace pitr::mysql_protocol {

inline constexpr std::string_view kNativePassword = "mysql_native_password";
inline constexpr std::string_view kCachingSha2Password = "caching_sha2_password";

// SHA1(pw) XOR SHA1(nonce + SHA1(SHA1(pw))); empty for an empty password.
std::vector<std::uint8_t> scramble_native_password(std::string_view password, Bytes nonce);
// SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce); empty for an empty password.
std::vector<std::uint8_t> scramble_caching_sha2(std::string_view password, Bytes nonce);
// The proof for `plugin`; throws std::runtime_error for a plugin pitr does not speak.
std::vector<std::uint8_t> scramble_for_plugin(std::string_view plugin, std::string_view password,
                                              Bytes nonce);

// caching_sha2_password full authentication without TLS: (password + NUL) XOR nonce,
// encrypted with the server's RSA public key (PEM) using OAEP padding.
std::vector<std::uint8_t> rsa_encrypt_password(std::string_view public_key_pem,
                                               std::string_view password, Bytes nonce);

}  // namespace pitr::mysql_protocol
