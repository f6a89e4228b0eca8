#include <gtest/gtest.h>

#include "capture/source_uri.hpp"
#include "formats/binlog/gtid.hpp"
#include "formats/mysql_protocol/commands.hpp"
#include "formats/mysql_protocol/handshake.hpp"
#include "formats/mysql_protocol/packet.hpp"
#include "formats/mysql_protocol/result_set.hpp"
#include "tools/size_option.hpp"

namespace pitr {
namespace {

namespace mp = mysql_protocol;

std::vector<std::uint8_t> handshake_packet() {
  std::vector<std::uint8_t> p{10};
  mp::append_text(p, "10.11.6-MariaDB-log");
  p.push_back(0);
  mp::append_le(p, 42, 4);
  for (int i = 1; i <= 8; ++i) p.push_back(static_cast<std::uint8_t>(i));
  p.push_back(0);
  std::uint32_t caps =
      mp::kClientProtocol41 | mp::kClientSecureConnection | mp::kClientPluginAuth | mp::kClientSsl;
  mp::append_le(p, caps & 0xffff, 2);
  p.push_back(45);
  mp::append_le(p, 2, 2);
  mp::append_le(p, caps >> 16, 2);
  p.push_back(21);
  p.resize(p.size() + 10, 0);
  for (int i = 9; i <= 20; ++i) p.push_back(static_cast<std::uint8_t>(i));
  p.push_back(0);
  mp::append_text(p, "mysql_native_password");
  p.push_back(0);
  return p;
}

TEST(ProtocolCodec, DecodesHandshakeV10) {
  auto h = mp::decode_initial_handshake(handshake_packet());
  EXPECT_EQ(h.server_version, "10.11.6-MariaDB-log");
  EXPECT_TRUE(h.is_mariadb());
  EXPECT_EQ(h.connection_id, 42u);
  ASSERT_EQ(h.nonce.size(), 20u);
  EXPECT_EQ(h.nonce.front(), 1);
  EXPECT_EQ(h.nonce.back(), 20);
  EXPECT_TRUE(h.capabilities & mp::kClientSsl);
  EXPECT_EQ(h.auth_plugin, "mysql_native_password");
}

TEST(ProtocolCodec, TruncatedHandshakeIsADecodeError) {
  auto p = handshake_packet();
  for (std::size_t n : {0ul, 3ul, 20ul, 30ul}) {
    std::vector<std::uint8_t> cut(p.begin(), p.begin() + static_cast<long>(n));
    if (n == 0) {
      EXPECT_THROW(mp::decode_initial_handshake(cut), DecodeError);
      continue;
    }
    EXPECT_THROW(mp::decode_initial_handshake(cut), DecodeError) << n;
  }
}

TEST(ProtocolCodec, ErrPacketCarriesCodeStateAndMessage) {
  std::vector<std::uint8_t> p{0xff};
  mp::append_le(p, 1045, 2);
  mp::append_text(p, "#28000Access denied for user 'x'");
  auto e = mp::decode_err_packet(p);
  EXPECT_EQ(e.code, 1045);
  EXPECT_EQ(e.sql_state, "28000");
  EXPECT_EQ(e.message, "Access denied for user 'x'");
}

TEST(ProtocolCodec, TextRowsWithNulls) {
  std::vector<std::uint8_t> p;
  mp::append_lenenc(p, 3);
  mp::append_text(p, "abc");
  p.push_back(0xfb);
  auto row = mp::decode_text_row(p, 2);
  EXPECT_EQ(row[0], "abc");
  EXPECT_FALSE(row[1].has_value());
  EXPECT_THROW(mp::decode_text_row(p, 3), DecodeError);
}

TEST(ProtocolCodec, BinlogDumpLayout) {
  auto p = mp::encode_binlog_dump({7, "binlog.000002", 1234, mp::kDumpNonBlock});
  ASSERT_EQ(p.size(), 11u + 13u);
  EXPECT_EQ(p[0], mp::kComBinlogDump);
  EXPECT_EQ(load_le(&p[1], 4), 1234u);
  EXPECT_EQ(load_le(&p[5], 2), mp::kDumpNonBlock);
  EXPECT_EQ(load_le(&p[7], 4), 7u);
  EXPECT_EQ(std::string(p.begin() + 11, p.end()), "binlog.000002");
}

TEST(Gtid, MysqlSetRoundTripAndEncoding) {
  auto set = binlog::MysqlGtidSet::parse(
      "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7, 3e11fa47-71ca-11e1-9e33-c80aa9429562:6");
  EXPECT_EQ(set.to_string(), "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-7");
  auto enc = set.encode();
  ASSERT_EQ(enc.size(), 8u + 16u + 8u + 16u);
  EXPECT_EQ(load_le(enc.data(), 8), 1u);
  EXPECT_EQ(load_le(enc.data() + 32, 8), 1u);
  EXPECT_EQ(load_le(enc.data() + 40, 8), 8u);  // exclusive end
  EXPECT_THROW(binlog::MysqlGtidSet::parse("nonsense:1"), std::invalid_argument);
  EXPECT_THROW(binlog::MysqlGtidSet::parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:5-2"),
               std::invalid_argument);
}

TEST(Gtid, MariaPositionKeepsLastPerDomain) {
  auto pos = binlog::MariaGtidPosition::parse("0-1-100, 1-2-5");
  pos.add({0, 3, 101});
  EXPECT_EQ(pos.to_string(), "0-3-101,1-2-5");
  EXPECT_THROW(binlog::MariaGtidPosition::parse("0-1"), std::invalid_argument);
}

TEST(SourceUri, ParsesAndRefusesPasswords) {
  auto u = capture::parse_source_uri("mysql://repl@db1.example:3307");
  EXPECT_EQ(u.user, "repl");
  EXPECT_EQ(u.host, "db1.example");
  EXPECT_EQ(u.port, 3307);
  EXPECT_EQ(capture::parse_source_uri("mariadb://r@[::1]").port, 3306);
  EXPECT_EQ(capture::parse_source_uri("mariadb://r@[::1]").host, "::1");
  try {
    capture::parse_source_uri("mysql://repl:hunter2@db1:3306");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("PITR_PASSWORD"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos);
  }
  EXPECT_THROW(capture::parse_source_uri("mysql://db1:3306"), std::invalid_argument);
  EXPECT_THROW(capture::parse_source_uri("mysql://r@db1:99999"), std::invalid_argument);
  EXPECT_THROW(capture::parse_source_uri("ftp://r@db1"), std::invalid_argument);
  auto pg = capture::parse_source_uri("postgresql://repl@db1/app");
  EXPECT_EQ(pg.scheme, "postgres");
  EXPECT_EQ(pg.port, 5432);
  EXPECT_EQ(pg.database, "app");
}

TEST(SizeOption, Suffixes) {
  EXPECT_EQ(tools::parse_size("16M"), 16u << 20);
  EXPECT_EQ(tools::parse_size("512KiB"), 512u << 10);
  EXPECT_EQ(tools::parse_size("1G"), 1u << 30);
  EXPECT_EQ(tools::parse_size("4096"), 4096u);
  EXPECT_THROW(tools::parse_size("12X"), std::invalid_argument);
  EXPECT_THROW(tools::parse_size("0"), std::invalid_argument);
}

}  // namespace
}  // namespace pitr
