// Row values decoded from their stored bytes (formats/binlog/row_value.hpp): MySQL's own
// DECIMAL examples, temporal values built here from the documented bit layouts (negative
// TIME with a fraction as MySQL stores it), integers of every width and sign, strings by
// their length prefix, and every value of every rows event in the fixtures.
#include <gtest/gtest.h>

#include "archive/file_io.hpp"
#include "formats/binlog/column_type.hpp"
#include "formats/binlog/event_bodies.hpp"
#include "formats/binlog/event_reader.hpp"
#include "formats/binlog/event_types.hpp"
#include "formats/binlog/row_image.hpp"
#include "formats/binlog/row_value.hpp"
#include "formats/binlog/table_map_metadata.hpp"
#include "tests/unit/fixture_path.hpp"

namespace pitr::binlog {
namespace {

using Buffer = std::vector<std::uint8_t>;
constexpr std::uint8_t kSignednessField = 1;

Buffer big_endian(std::uint64_t v, std::size_t n) {
  Buffer out(n);
  for (std::size_t i = 0; i < n; ++i) out[n - 1 - i] = static_cast<std::uint8_t>(v >> (8 * i));
  return out;
}

Buffer operator+(Buffer a, const Buffer& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string text_of(const RowValue& v) {
  if (auto* d = std::get_if<DecimalValue>(&v)) return d->text;
  if (auto* t = std::get_if<TemporalValue>(&v)) return t->text;
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  ADD_FAILURE() << "not a text value (index " << v.index() << ")";
  return "";
}

TEST(RowValue, DecimalAsMySqlDocumentsIt) {
  // DECIMAL(14,4): MySQL's manual, "precision math" storage format.
  Buffer positive = {0x81, 0x0D, 0xFB, 0x38, 0xD2, 0x04, 0xD2};
  Buffer negative = {0x7E, 0xF2, 0x04, 0xC7, 0x2D, 0xFB, 0x2D};
  EXPECT_EQ(text_of(decode_row_value(kNewDecimal, 14 << 8 | 4, positive)), "1234567890.1234");
  EXPECT_EQ(text_of(decode_row_value(kNewDecimal, 14 << 8 | 4, negative)), "-1234567890.1234");
  // DECIMAL(5,2) 0.05 and -0.05 (leading zeros, an all-zero integer part); and 0.
  EXPECT_EQ(text_of(decode_row_value(kNewDecimal, 5 << 8 | 2, Buffer{0x80, 0x00, 0x05})), "0.05");
  EXPECT_EQ(text_of(decode_row_value(kNewDecimal, 5 << 8 | 2, Buffer{0x7F, 0xFF, 0xFA})), "-0.05");
  EXPECT_EQ(text_of(decode_row_value(kNewDecimal, 5 << 8 | 0, Buffer{0x80, 0x00, 0x00})), "0");
  EXPECT_THROW(decode_row_value(kNewDecimal, 14 << 8 | 4, Buffer{0x81}), DecodeError);
}

TEST(RowValue, IntegersOfEveryWidthAndSign) {
  EXPECT_EQ(std::get<std::int64_t>(decode_row_value(kTiny, 0, Buffer{0xFF})), -1);
  EXPECT_EQ(std::get<std::uint64_t>(decode_row_value(kTiny, 0, Buffer{0xFF}, true)), 255u);
  EXPECT_EQ(std::get<std::int64_t>(decode_row_value(kInt24, 0, Buffer{0x00, 0x00, 0x80})),
            -8388608);
  EXPECT_EQ(std::get<std::uint64_t>(decode_row_value(kLongLong, 0, Buffer(8, 0xFF), true)),
            18446744073709551615ull);
  EXPECT_EQ(std::get<std::int64_t>(decode_row_value(kShort, 0, Buffer{0x39, 0x30})), 12345);
  EXPECT_THROW(decode_row_value(kLong, 0, Buffer{1, 2}), DecodeError);
  EXPECT_EQ(std::get<double>(decode_row_value(kDouble, 8, Buffer{0, 0, 0, 0, 0, 0, 0xF8, 0x3F})),
            1.5);
}

TEST(RowValue, TemporalValuesFromTheirBitLayouts) {
  // DATETIME(3) 2024-01-05 12:34:56.789: 1 sign bit, year*13+month, day, hour, minute, second.
  std::uint64_t ym = 2024 * 13 + 1, ymd = ym << 5 | 5, hms = 12 << 12 | 34 << 6 | 56;
  auto datetime = big_endian((ymd << 17 | hms) + 0x8000000000ull, 5) + big_endian(7890, 2);
  EXPECT_EQ(text_of(decode_row_value(kDateTime2, 3, datetime)), "2024-01-05T12:34:56.789");
  EXPECT_EQ(text_of(decode_row_value(kTimestamp2, 0, big_endian(1700000000, 4))),
            "2023-11-14T22:13:20Z");
  EXPECT_EQ(text_of(decode_row_value(kTimestamp2, 6, big_endian(0, 4) + big_endian(1, 3))),
            "1970-01-01T00:00:00.000001Z");
  // TIME(1) -01:02:03.5 as MySQL stores it: the integer part floored, the fraction's
  // remainder negative, its low byte kept.
  std::int64_t seconds = 1 << 12 | 2 << 6 | 3;
  auto negative_time = big_endian(static_cast<std::uint64_t>(0x800000 - seconds - 1), 3) +
                       Buffer{static_cast<std::uint8_t>(-50)};
  EXPECT_EQ(text_of(decode_row_value(kTime2, 1, negative_time)), "-01:02:03.5");
  EXPECT_EQ(text_of(decode_row_value(kTime2, 0, big_endian(0x800000 + seconds, 3))), "01:02:03");
  std::uint64_t date = 2024 << 9 | 1 << 5 | 5;
  EXPECT_EQ(text_of(decode_row_value(
                kDate, 0,
                Buffer{static_cast<std::uint8_t>(date), static_cast<std::uint8_t>(date >> 8),
                       static_cast<std::uint8_t>(date >> 16)})),
            "2024-01-05");
  EXPECT_EQ(text_of(decode_row_value(kYear, 0, Buffer{124})), "2024");
}

TEST(RowValue, StringsEnumsSetsAndBits) {
  EXPECT_EQ(text_of(decode_row_value(kVarchar, 300, Buffer{3, 0, 'a', 'b', 'c'})), "abc");
  EXPECT_EQ(text_of(decode_row_value(kVarchar, 30, Buffer{2, 'h', 'i'})), "hi");
  EXPECT_THROW(decode_row_value(kVarchar, 30, Buffer{5, 'h'}), DecodeError);
  EXPECT_EQ(std::get<EnumValue>(decode_row_value(kString, kEnum << 8 | 1, Buffer{2})).index, 2);
  EXPECT_EQ(std::get<SetValue>(decode_row_value(kString, kSet << 8 | 2, Buffer{5, 1})).members,
            0x105u);
  EXPECT_EQ(std::get<BitValue>(decode_row_value(kBit, 1 << 8 | 4, Buffer{0x01, 0x23})).bits,
            0x123u);
  EXPECT_EQ(std::get<JsonBinaryValue>(decode_row_value(kJson, 4, Buffer{1, 0, 0, 0, 4})).bytes,
            std::string("\4"));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(decode_row_value(kNull, 0, Buffer{})));
}

using RowValues = test::FixtureFiles;

// Every stored value of every row image in the fixtures decodes as its column's type.
TEST_F(RowValues, EveryValueInTheFixturesDecodes) {
  std::size_t values = 0;
  for (std::string name :
       {"mysql-bin.checksum-crc32", "mysql-bin.checksum-none", "mariadb-bin.000001",
        "json.binlog.000001", "mysql-enum-string-set.000001", "mysql_type_bit.000001",
        "update-full-row.binlog", "ver_trunk_row_v2.001"}) {
    SCOPED_TRACE(name);
    archive::MappedFile map(test::fixture(name));
    EventReader reader(map.bytes(), name);
    std::map<std::uint64_t, TableSchema> tables;
    while (auto ev = reader.next()) {
      if (ev->header.type == static_cast<std::uint8_t>(EventType::kTableMap)) {
        auto t = decode_table_schema(ev->data, reader.format());
        tables[t.table_id] = t;
      } else if (is_rows_event(ev->header.type)) {
        const auto& t = tables.at(decode_rows_header(ev->data, reader.format()).table_id);
        for_each_row_image(ev->data, reader.format(), t, [&](const RowImage& row) {
          for (std::size_t i = 0; i < row.size(); ++i) {
            if (row[i].state != ColumnValue::kValue) continue;
            EXPECT_NO_THROW(decode_row_value(t.types[i], t.metadata[i], row[i].bytes))
                << ev->offset << " column " << i;
            ++values;
          }
        });
      }
    }
  }
  EXPECT_GT(values, 1500u);
}

// binlog_row_metadata=FULL names every column, its key and its ENUM and SET members.
TEST_F(RowValues, TableMapOptionalMetadata) {
  auto last_table = [](const std::string& name) {
    archive::MappedFile map(test::fixture(name));
    EventReader reader(map.bytes(), name);
    TableSchema t;
    while (auto ev = reader.next())
      if (ev->header.type == static_cast<std::uint8_t>(EventType::kTableMap))
        t = decode_table_schema(ev->data, reader.format());
    return t;
  };
  auto full = last_table("mariadb-bin.000001");
  ASSERT_EQ(full.optional.column_names.size(), full.types.size());
  for (const auto& n : full.optional.column_names) EXPECT_FALSE(n.empty());
  EXPECT_FALSE(full.optional.primary_key.empty());
  EXPECT_EQ(full.optional.is_unsigned.size(), full.types.size());
  // MySQL 8.0.28 with FULL too: its ENUM and SET columns' members by name.
  auto mysql = last_table("mysql-enum-string-set.000001");
  ASSERT_EQ(mysql.optional.column_names.size(), mysql.types.size());
  ASSERT_EQ(mysql.optional.charsets.size(), mysql.types.size());
  std::size_t members = 0;
  for (const auto& e : mysql.optional.enum_values) members += e.size();
  for (const auto& e : mysql.optional.set_values) members += e.size();
  EXPECT_GT(members, 0u);
  bool character = false;
  for (auto c : mysql.optional.charsets) character |= c != 0;
  EXPECT_TRUE(character);
}

TEST(TableMapMetadata, DecodesEachFieldForItsColumns) {
  // Columns: INT, VARCHAR, ENUM (a STRING whose real type is ENUM), TINYINT.
  std::vector<std::uint8_t> types = {kLong, kVarchar, kString, kTiny};
  std::vector<std::uint16_t> metadata = {0, 40, kEnum << 8 | 1, 0};
  Buffer fields = {kSignednessField,
                   1,
                   0x40,  // INT signed, TINYINT unsigned
                   2,
                   3,
                   33,
                   0,
                   63,  // default 33; VARCHAR (0) 63
                   4,
                   10,
                   2,
                   'i',
                   'd',
                   1,
                   'v',
                   2,
                   'e',
                   'n',
                   1,
                   't',
                   6,
                   7,
                   2,
                   3,
                   'o',
                   'f',
                   'f',
                   1,
                   'o',  // ENUM members
                   8,
                   1,
                   0,  // primary key: column 0
                   99,
                   2,
                   0xAB,
                   0xCD};  // a later server's field: skipped
  auto m = decode_table_map_metadata(fields, types, metadata);
  EXPECT_EQ(m.is_unsigned, (std::vector<bool>{false, false, false, true}));
  EXPECT_EQ(m.charsets, (std::vector<std::uint32_t>{0, 63, 0, 0}));
  EXPECT_EQ(m.column_names, (std::vector<std::string>{"id", "v", "en", "t"}));
  EXPECT_EQ(m.enum_values.at(2), (std::vector<std::string>{"off", "o"}));
  EXPECT_EQ(m.primary_key, (std::vector<std::size_t>{0}));
  Buffer overrun = {4, 50, 2, 'i', 'd'};
  EXPECT_THROW(decode_table_map_metadata(overrun, types, metadata), DecodeError);
  Buffer bad_key = {8, 1, 9};
  EXPECT_THROW(decode_table_map_metadata(bad_key, types, metadata), DecodeError);
}

}  // namespace
}  // namespace pitr::binlog
