// MySQL's binary JSON (formats/binlog/mysql_json.hpp): documents built here by the format's
// rules, damage refused, and every JSON value of the fixture checked against the generated
// columns MySQL computed from it in the same row (name = json_col->>'$.name', age =
// json_col->'$.age').
#include <gtest/gtest.h>

#include "archive/file_io.hpp"
#include "formats/binlog/column_type.hpp"
#include "formats/binlog/event_bodies.hpp"
#include "formats/binlog/event_reader.hpp"
#include "formats/binlog/event_types.hpp"
#include "formats/binlog/mysql_json.hpp"
#include "formats/binlog/row_image.hpp"
#include "formats/binlog/row_json.hpp"
#include "formats/binlog/row_sql.hpp"
#include "formats/binlog/row_value.hpp"
#include "formats/json_text.hpp"
#include "tests/unit/fixture_path.hpp"

namespace pitr::binlog {
namespace {

using Buffer = std::vector<std::uint8_t>;

TEST(MysqlJson, SmallObjectArrayAndScalars) {
  // {"a": 1}: count 1, size 12, key entry (offset 11, length 1), value entry int16 1 inlined.
  Buffer object = {0x00, 1, 0, 12, 0, 11, 0, 1, 0, 0x05, 1, 0, 'a'};
  EXPECT_EQ(decode_mysql_json(object), nlohmann::json::parse(R"({"a":1})"));
  // [true, "xy", 2.5]: count 3, size 4 + 9 + 3 + 8 = 24; "xy" at 13, the double at 16.
  Buffer array = {0x02, 3, 0, 24, 0, 0x04, 1, 0, 0x0c, 13, 0, 0x0b, 16, 0, 2, 'x', 'y'};
  Buffer half = {0, 0, 0, 0, 0, 0, 0x04, 0x40};
  array.insert(array.end(), half.begin(), half.end());
  EXPECT_EQ(decode_mysql_json(array), nlohmann::json::parse(R"([true,"xy",2.5])"));
  EXPECT_EQ(decode_mysql_json(Buffer{0x04, 0}), nullptr);
  EXPECT_EQ(decode_mysql_json(Buffer{0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
            18446744073709551615ull);
  EXPECT_EQ(decode_mysql_json(Buffer{}), nullptr);
  // An opaque DECIMAL(14,4): its precision and scale, then MySQL's binary decimal.
  Buffer decimal = {0x0f, kNewDecimal, 9, 14, 4, 0x81, 0x0D, 0xFB, 0x38, 0xD2, 0x04, 0xD2};
  EXPECT_EQ(decode_mysql_json(decimal), "1234567890.1234");
}

TEST(MysqlJson, RefusesDamage) {
  Buffer object = {0x00, 1, 0, 12, 0, 11, 0, 1, 0, 0x05, 1, 0, 'a'};
  auto cut = object;
  cut.pop_back();
  EXPECT_THROW(decode_mysql_json(cut), DecodeError);  // its size says 12
  auto far = object;
  far[5] = 200;  // the key past the container
  EXPECT_THROW(decode_mysql_json(far), DecodeError);
  EXPECT_THROW(decode_mysql_json(Buffer{0x0e, 1}), DecodeError);
  EXPECT_THROW(decode_mysql_json(Buffer{0x0c, 0x80, 0x80, 0x80, 0x80, 0x80, 1}), DecodeError);
  // An array holding itself, level after level: refused at the depth limit, not a crash.
  Buffer deep = {0x02, 1, 0, 7, 0, 0x02, 0, 0};
  EXPECT_THROW(decode_mysql_json(deep), DecodeError);
}

using MysqlJsonFixture = test::FixtureFiles;

TEST_F(MysqlJsonFixture, EveryDocumentMatchesTheColumnsMysqlGeneratedFromIt) {
  archive::MappedFile map(test::fixture("json.binlog.000001"));
  EventReader reader(map.bytes(), "json.binlog.000001");
  TableSchema table;
  std::size_t checked = 0;
  while (auto ev = reader.next()) {
    if (ev->header.type == static_cast<std::uint8_t>(EventType::kTableMap))
      table = decode_table_schema(ev->data, reader.format());
    if (!is_rows_event(ev->header.type) ||
        ev->header.type == static_cast<std::uint8_t>(EventType::kPartialUpdateRows))
      continue;
    ASSERT_EQ(table.types.size(), 4u);  // id, json_col, name, age
    for_each_row_image(ev->data, reader.format(), table, [&](const RowImage& row) {
      if (row[1].state != ColumnValue::kValue || row[2].state != ColumnValue::kValue) return;
      auto binary = std::get<JsonBinaryValue>(
          decode_row_value(table.types[1], table.metadata[1], row[1].bytes));
      auto json = decode_mysql_json(as_bytes(binary.bytes));
      auto name =
          std::get<std::string>(decode_row_value(table.types[2], table.metadata[2], row[2].bytes));
      EXPECT_EQ(json.at("name"), name);
      if (row[3].state == ColumnValue::kValue) {
        EXPECT_EQ(json.at("age"), std::get<std::int64_t>(decode_row_value(
                                      table.types[3], table.metadata[3], row[3].bytes)));
      }
      ++checked;
    });
  }
  EXPECT_GE(checked, 5u);
}

}  // namespace
}  // namespace pitr::binlog

namespace pitr::binlog {
namespace {

nlohmann::json row_json(const TableSchema& t, const RowImage& row) {
  std::string text;
  append_row_json(text, t, row);
  return nlohmann::json::parse(text);
}

ColumnValue value_of(const Buffer& b) {
  return {ColumnValue::kValue, Bytes(b)};
}

TEST(RowJson, EachTypeAsTheChangeHistoryShowsIt) {
  TableSchema t;
  t.types = {kLong,       kString,     kString,  kString, kGeometry,
             kNewDecimal, kTimestamp2, kVarchar, kLong,   kVarchar};
  t.metadata = {0, 0xFE << 8 | 4, kEnum << 8 | 1, kSet << 8 | 1, 4, 5 << 8 | 2, 0, 40, 0, 40};
  t.optional.column_names = {"id",    "code", "state", "flags", "place",
                             "price", "at",   "name",  "n",     "raw"};
  t.optional.is_unsigned = {true, false, false, false, false, false, false, false, false, false};
  t.optional.charsets = {0, 63, 0, 0, 0, 0, 0, 8, 0, 0};  // BINARY(4); name latin1
  t.optional.enum_values = {{}, {}, {"new", "done"}, {}, {}, {}, {}, {}, {}, {}};
  t.optional.set_values = {{}, {}, {}, {"a", "b", "c"}, {}, {}, {}, {}, {}, {}};
  Buffer id = {0xFF, 0xFF, 0xFF, 0xFF}, code = {2, 'a', 'b'}, state = {2}, flags = {5},
         place = {6, 0, 0, 0, 0, 0, 0, 0, 1, 2}, price = {0x80, 0x01, 0x05},
         at = {0x65, 0x53, 0xF1, 0x00}, name = {3, 'M', 0xFC, 'b'}, raw = {2, 0xFF, 0xFE};
  RowImage row = {
      value_of(id),    value_of(code), value_of(state), value_of(flags),          value_of(place),
      value_of(price), value_of(at),   value_of(name),  {ColumnValue::kNull, {}}, value_of(raw)};
  auto json = row_json(t, row);
  EXPECT_EQ(json, nlohmann::json::parse(R"({
    "id": 4294967295, "code": "YWIAAA==", "state": "done", "flags": "a,c", "place": "0102",
    "price": "1.05", "at": "2023-11-14T22:13:20Z", "name": "Müb", "n": null,
    "raw": {"base64": "//4="}})"));
  // Without names: positions, as mysqlbinlog numbers them.
  t.optional.column_names.clear();
  EXPECT_TRUE(row_json(t, row).contains("@1"));
  EXPECT_EQ(column_key(t, 9), "@10");
}

TEST_F(MysqlJsonFixture, FixtureRowsRenderWithTheirNamesAndMembers) {
  for (std::string name :
       {"mysql-enum-string-set.000001", "json.binlog.000001", "mariadb-bin.000001"}) {
    SCOPED_TRACE(name);
    archive::MappedFile map(test::fixture(name));
    EventReader reader(map.bytes(), name);
    TableSchema table;
    std::size_t rows = 0;
    while (auto ev = reader.next()) {
      if (ev->header.type == static_cast<std::uint8_t>(EventType::kTableMap))
        table = decode_table_schema(ev->data, reader.format());
      if (!is_rows_event(ev->header.type) ||
          ev->header.type == static_cast<std::uint8_t>(EventType::kPartialUpdateRows))
        continue;
      for_each_row_image(ev->data, reader.format(), table, [&](const RowImage& row) {
        auto json = row_json(table, row);
        for (std::size_t i = 0; i < table.types.size(); ++i) {
          auto key = column_key(table, i);
          if (!json.contains(key)) continue;
          // binlog_row_metadata=FULL in these two; MINIMAL in the JSON one.
          EXPECT_EQ(key.starts_with("@"), name == "json.binlog.000001") << key;
          bool named_member =
              !table.optional.enum_values.empty() && !table.optional.enum_values[i].empty();
          if (named_member && !json[key].is_null()) {
            EXPECT_TRUE(json[key].is_string()) << key;
          }
          if (table.types[i] == kJson && !json[key].is_null()) {
            EXPECT_TRUE(json[key].is_object()) << key;
          }
        }
        ++rows;
      });
    }
    EXPECT_GT(rows, 0u);
  }
}

}  // namespace
}  // namespace pitr::binlog

namespace pitr::binlog {
namespace {

TEST(RowSql, StatementsAnySessionAppliesAlike) {
  TableSchema t;
  t.database = "sh`op";
  t.table = "t";
  t.types = {kLong, kVarchar, kTimestamp2, kString};
  t.metadata = {0, 40, 0, 0xFE << 8 | 4};
  t.optional.column_names = {"id", "note", "at", "code"};
  t.optional.charsets = {0, 45, 0, 63};
  Buffer id = {7, 0, 0, 0}, note = {4, 'i', 't', '\'', 's'}, at = {0x65, 0x53, 0xF1, 0x00},
         code = {1, 0};
  RowImage row = {value_of(id), value_of(note), value_of(at), value_of(code)};
  EXPECT_EQ(insert_sql(t, row),
            "INSERT INTO `sh``op`.`t` (`id`, `note`, `at`, `code`) VALUES (7, _utf8mb4 "
            "X'69742773', '2023-11-14 22:13:20', X'00');");
  RowImage after = row;
  after[1] = {ColumnValue::kNull, {}};
  // No primary key in the metadata: the row is found by every column, NULL-safe.
  EXPECT_EQ(update_sql(t, row, after),
            "UPDATE `sh``op`.`t` SET `id` = 7, `note` = NULL, `at` = '2023-11-14 22:13:20', "
            "`code` = X'00' WHERE `id` <=> 7 AND `note` <=> _utf8mb4 X'69742773' AND `at` <=> "
            "'2023-11-14 22:13:20' AND `code` <=> X'00' LIMIT 1;");
  t.optional.primary_key = {0};
  EXPECT_EQ(delete_sql(t, row), "DELETE FROM `sh``op`.`t` WHERE `id` <=> 7 LIMIT 1;");
  t.optional.column_names.clear();
  EXPECT_THROW(insert_sql(t, row), DecodeError);  // SQL needs the columns' names
}

}  // namespace
}  // namespace pitr::binlog

namespace pitr {
namespace {

TEST(JsonText, EscapesAndRefusesWhatIsNotUtf8) {
  std::string out;
  EXPECT_TRUE(append_json_string(out, "a\"b\\c\n\x01 é 😀"));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001 é 😀\"");
  EXPECT_EQ(nlohmann::json::parse(out), "a\"b\\c\n\x01 é 😀");
  for (std::string bad : {"\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "a\xFF"}) {
    std::string kept = "x";
    EXPECT_FALSE(append_json_string(kept, bad)) << bad;
    EXPECT_EQ(kept, "x");  // nothing appended
  }
}

}  // namespace
}  // namespace pitr
