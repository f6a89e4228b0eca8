// Pieces of `pitr find`: row counting on real binlogs, the event splitter, change patterns,
// statement classification and ISO 8601 times.
#include <gtest/gtest.h>

#include <random>

#include "archive/file_io.hpp"
#include "formats/binlog/event_bodies.hpp"
#include "formats/binlog/event_reader.hpp"
#include "formats/binlog/event_splitter.hpp"
#include "formats/binlog/event_types.hpp"
#include "formats/binlog/row_image.hpp"
#include "formats/iso_time.hpp"
#include "replay/change_match.hpp"
#include "tests/unit/fixture_path.hpp"

namespace pitr {
namespace {

using RowImage = test::FixtureFiles;
using EventSplitter = test::FixtureFiles;

// Walks every row image of every rows event: a wrong size for any column type would
// misalign the walk and end in a DecodeError or a count that overruns the event.
TEST_F(RowImage, EveryRowsEventInTheFixturesIsWalkedExactly) {
  std::size_t walked = 0;
  for (std::string name :
       {"mysql-bin.checksum-crc32", "mysql-bin.checksum-none", "mariadb-bin.000001",
        "json.binlog.000001", "mysql-enum-string-set.000001", "mysql_type_bit.000001",
        "update-full-row.binlog", "ver_trunk_row_v2.001"}) {
    SCOPED_TRACE(name);
    archive::MappedFile map(test::fixture(name));
    binlog::EventReader reader(map.bytes(), name);
    std::map<std::uint64_t, binlog::TableSchema> tables;
    while (auto ev = reader.next()) {
      if (ev->header.type == static_cast<std::uint8_t>(binlog::EventType::kTableMap)) {
        auto t = binlog::decode_table_schema(ev->data, reader.format());
        tables[t.table_id] = t;
      } else if (binlog::is_rows_event(ev->header.type)) {
        auto id = binlog::decode_rows_header(ev->data, reader.format()).table_id;
        ASSERT_TRUE(tables.count(id)) << ev->offset;
        auto rows = binlog::count_rows(ev->data, reader.format(), tables[id]);
        if (ev->header.type == static_cast<std::uint8_t>(binlog::EventType::kPartialUpdateRows)) {
          EXPECT_FALSE(rows);
          continue;
        }
        ASSERT_TRUE(rows) << ev->offset;
        EXPECT_GE(*rows, 1u) << ev->offset;
        ++walked;
      }
    }
  }
  EXPECT_GT(walked, 60u);
}

TEST_F(RowImage, MariadbSingleRowInserts) {
  // mariadb-bin.000001 holds two single-row INSERTs (see their ANNOTATE_ROWS events).
  archive::MappedFile map(test::fixture("mariadb-bin.000001"));
  binlog::EventReader reader(map.bytes(), "mariadb-bin.000001");
  binlog::TableSchema table;
  std::vector<std::uint64_t> counts;
  while (auto ev = reader.next()) {
    if (ev->header.type == static_cast<std::uint8_t>(binlog::EventType::kTableMap))
      table = binlog::decode_table_schema(ev->data, reader.format());
    if (binlog::is_rows_event(ev->header.type))
      counts.push_back(*binlog::count_rows(ev->data, reader.format(), table));
  }
  EXPECT_EQ(counts, (std::vector<std::uint64_t>{1, 1}));
  EXPECT_EQ(table.qualified(), "toddy_test.outbox");
}

TEST_F(RowImage, ValuesOfEachColumnAreGiven) {
  // The two INSERTs of mariadb-bin.000001, as mariadb-binlog -vv decodes them:
  // (62, 'foo', 2, '{"foo":1}', 1650493084) and (63, 'foo', 2, '{"foo":1}', 1650493195).
  archive::MappedFile map(test::fixture("mariadb-bin.000001"));
  binlog::EventReader reader(map.bytes(), "mariadb-bin.000001");
  binlog::TableSchema table;
  std::vector<std::vector<std::string>> rows;
  auto text = [](Bytes b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  };
  auto big_endian = [](Bytes b) {  // TIMESTAMP2 is stored big-endian
    std::uint64_t v = 0;
    for (auto byte : b) v = v << 8 | byte;
    return std::to_string(v);
  };
  while (auto ev = reader.next()) {
    if (ev->header.type == static_cast<std::uint8_t>(binlog::EventType::kTableMap))
      table = binlog::decode_table_schema(ev->data, reader.format());
    if (!binlog::is_rows_event(ev->header.type)) continue;
    ASSERT_TRUE(binlog::for_each_row_image(
        ev->data, reader.format(), table, [&](const binlog::RowImage& image) {
          ASSERT_EQ(image.size(), 5u);
          for (auto& v : image) ASSERT_EQ(v.state, binlog::ColumnValue::kValue);
          rows.push_back({std::to_string(load_le(image[0].bytes.data(), 4)),
                          text(image[1].bytes.subspan(2)), std::to_string(image[2].bytes[0]),
                          text(image[3].bytes.subspan(2)), big_endian(image[4].bytes)});
        }));
  }
  EXPECT_EQ(rows, (std::vector<std::vector<std::string>>{
                      {"62", "foo", "2", "{\"foo\":1}", "1650493084"},
                      {"63", "foo", "2", "{\"foo\":1}", "1650493195"}}));
}

TEST_F(RowImage, ImagesOfNoColumnsAreADecodeErrorNotAHang) {
  // A rows event whose column bitmap is empty but which carries row data: its images take
  // no bytes, so a walker that trusted it would loop forever (found by the fuzzer).
  archive::MappedFile map(test::fixture("mariadb-bin.000001"));
  binlog::EventReader reader(map.bytes(), "mariadb-bin.000001");
  binlog::TableSchema table;
  while (auto ev = reader.next()) {
    if (ev->header.type == static_cast<std::uint8_t>(binlog::EventType::kTableMap))
      table = binlog::decode_table_schema(ev->data, reader.format());
    if (ev->header.type != static_cast<std::uint8_t>(binlog::EventType::kWriteRowsV1)) continue;
    std::vector<std::uint8_t> event(ev->data.begin(), ev->data.end());
    // Rows v1 after the 19-byte header: table id (6), flags (2), column count (1), bitmap.
    ASSERT_EQ(event[19 + 8], 5u);
    event[19 + 8 + 1] = 0;
    EXPECT_THROW(binlog::count_rows(event, reader.format(), table), DecodeError);
    EXPECT_THROW(
        binlog::for_each_row_image(event, reader.format(), table, [](const binlog::RowImage&) {}),
        DecodeError);
    return;
  }
  FAIL() << "no WRITE_ROWS_EVENT_V1";
}

TEST_F(RowImage, TruncatedRowsEventIsADecodeError) {
  archive::MappedFile map(test::fixture("mysql-bin.checksum-crc32"));
  binlog::EventReader reader(map.bytes(), "f");
  binlog::TableSchema table;
  while (auto ev = reader.next()) {
    if (ev->header.type == static_cast<std::uint8_t>(binlog::EventType::kTableMap))
      table = binlog::decode_table_schema(ev->data, reader.format());
    if (binlog::is_rows_event(ev->header.type)) {
      auto cut = ev->data.first(ev->data.size() - 3);
      EXPECT_THROW(binlog::count_rows(cut, reader.format(), table), DecodeError);
      return;
    }
  }
  FAIL() << "no rows event";
}

TEST_F(EventSplitter, AnyChunkingGivesTheReadersEvents) {
  archive::MappedFile map(test::fixture("ver_trunk_row_v2.001"));
  auto bytes = map.bytes();
  std::vector<std::pair<std::uint64_t, std::uint32_t>> expected;
  binlog::EventReader reader(bytes, "f");
  while (auto ev = reader.next()) expected.emplace_back(ev->offset, ev->header.event_size);
  std::mt19937 rng(7);
  for (std::size_t max_whole : {64ul, 1ul << 20}) {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> got;
    binlog::EventSplitter splitter(0, max_whole);
    std::size_t at = 0;
    while (at < bytes.size()) {
      auto n = std::min<std::size_t>(bytes.size() - at, 1 + rng() % 700);
      splitter.feed(bytes.subspan(at, n), [&](const binlog::StreamedEvent& e) {
        got.emplace_back(e.offset, e.header.event_size);
        EXPECT_EQ(e.whole, e.header.event_size <= max_whole);
        EXPECT_EQ(e.bytes.size(), std::min<std::size_t>(e.header.event_size, max_whole));
      });
      at += n;
    }
    EXPECT_TRUE(splitter.at_event_boundary());
    EXPECT_EQ(got, expected);
  }
}

TEST(ChangeMatch, ParsesAndMatches) {
  using replay::ChangeKind;
  auto m = replay::ChangeMatch::parse("delete:db.orders");
  EXPECT_TRUE(m.matches({ChangeKind::kDelete, "db.orders", 3, ""}));
  EXPECT_FALSE(m.matches({ChangeKind::kDelete, "db.order_items", 3, ""}));
  EXPECT_FALSE(m.matches({ChangeKind::kInsert, "db.orders", 3, ""}));
  auto any = replay::ChangeMatch::parse("any:db.*");
  EXPECT_TRUE(any.matches({ChangeKind::kTruncate, "db.x", std::nullopt, "TRUNCATE x"}));
  EXPECT_FALSE(any.matches({ChangeKind::kInsert, "other.x", 1, ""}));
  EXPECT_TRUE(replay::ChangeMatch::parse("ddl").matches({ChangeKind::kDrop, "a.b", {}, "DROP"}));
  EXPECT_FALSE(replay::ChangeMatch::parse("drop").matches({ChangeKind::kDdl, "a.b", {}, "ALTER"}));
  EXPECT_THROW(replay::ChangeMatch::parse("remove:db.t"), std::invalid_argument);
  EXPECT_THROW(replay::ChangeMatch::parse("delete:orders"), std::invalid_argument);
}

TEST(ChangeMatch, ClassifiesStatements) {
  using replay::ChangeKind;
  auto drop = replay::classify_statement("DROP TABLE IF EXISTS `db`.`t1` /* generated */", "x");
  EXPECT_EQ(drop.kind, ChangeKind::kDrop);
  EXPECT_EQ(drop.table, "db.t1");
  auto trunc = replay::classify_statement("truncate orders", "shop");
  EXPECT_EQ(trunc.kind, ChangeKind::kTruncate);
  EXPECT_EQ(trunc.table, "shop.orders");
  auto alter = replay::classify_statement("ALTER TABLE `we``ird` ADD c INT", "d");
  EXPECT_EQ(alter.kind, ChangeKind::kDdl);
  EXPECT_EQ(alter.table, "d.we`ird");
  auto create = replay::classify_statement("CREATE TABLE IF NOT EXISTS s.t (a INT)", "");
  EXPECT_EQ(create.table, "s.t");
  EXPECT_EQ(replay::classify_statement("DROP DATABASE shop", "").table, "shop.*");
  EXPECT_EQ(replay::classify_statement("GRANT ALL ON *.* TO x", "").table, "");
}

TEST(IsoTime, FormsAndOffsets) {
  EXPECT_EQ(parse_iso_time("2026-11-21T10:41:59Z"), 1795257719);
  EXPECT_EQ(parse_iso_time("2026-11-21 10:41:59"), 1795257719);
  EXPECT_EQ(parse_iso_time("2026-11-21T11:41:59+01:00"), 1795257719);
  EXPECT_EQ(parse_iso_time("2026-11-21T05:41:59.999-0500"), 1795257719);
  EXPECT_EQ(parse_iso_time("2026-11-21"), 1795257719 - (10 * 3600 + 41 * 60 + 59));
  EXPECT_EQ(format_iso_time(1795257719), "2026-11-21T10:41:59Z");
  for (auto bad : {"yesterday", "2026-13-01", "2026-11-21T25:00", "2026-11-21T10:41:59X",
                   "2026-11-21T10:41:59+1"})
    EXPECT_THROW(parse_iso_time(bad), std::invalid_argument) << bad;
}

}  // namespace
}  // namespace pitr
