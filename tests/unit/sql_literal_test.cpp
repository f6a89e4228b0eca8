#include <gtest/gtest.h>

#include "formats/sql/sql_literal.hpp"

namespace pitr::sql {
namespace {

TEST(SqlLiteral, Identifiers) {
  EXPECT_EQ(quote_identifier("orders"), "`orders`");
  EXPECT_EQ(quote_identifier("we`ird"), "`we``ird`");
  EXPECT_EQ(qualified_name("db", "odd name"), "`db`.`odd name`");
}

TEST(SqlLiteral, StringsEscapeEverythingTheParserTreatsSpecially) {
  EXPECT_EQ(quote_string("it's"), "'it\\'s'");
  EXPECT_EQ(quote_string(std::string("a\0b", 3)), "'a\\0b'");
  EXPECT_EQ(quote_string("back\\slash \"q\"\n\r\x1a"), "'back\\\\slash \\\"q\\\"\\n\\r\\Z'");
  EXPECT_EQ(quote_string("caf\xc3\xa9"), "'caf\xc3\xa9'");  // bytes kept as they are
}

TEST(SqlLiteral, HexAndNumbers) {
  const std::uint8_t bytes[] = {0x00, 0xff, 0x41};
  EXPECT_EQ(hex_literal(Bytes(bytes, 3)), "0x00FF41");
  EXPECT_EQ(hex_literal({}), "''");
  EXPECT_EQ(numeric_literal("-12.5e3"), "-12.5e3");
  EXPECT_THROW(numeric_literal("1; DROP TABLE t"), std::invalid_argument);
  EXPECT_THROW(numeric_literal(""), std::invalid_argument);
}

}  // namespace
}  // namespace pitr::sql
