// ClickHouse's answers and pitr's manifest of a ClickHouse backup: TabSeparated read back
// exactly (escapes, empty fields, NULLs as \N), identifiers and strings quoted so that no name
// escapes them, and the manifest read back as written.
#include <gtest/gtest.h>

#include "archive/archive_layout.hpp"
#include "archive/clickhouse_manifest.hpp"
#include "archive/file_io.hpp"
#include "formats/clickhouse/content_hash.hpp"
#include "formats/clickhouse/ddl_rename.hpp"
#include "formats/clickhouse/file_name_escaping.hpp"
#include "formats/clickhouse/tab_separated.hpp"
#include "tests/unit/temp_dir.hpp"

namespace pitr {
namespace {

using Rows = std::vector<std::vector<std::string>>;

TEST(ClickHouseTabSeparated, ReadsRowsFieldsAndEscapes) {
  EXPECT_EQ(clickhouse::parse_tab_separated("a\tb\n\tc\n"), (Rows{{"a", "b"}, {"", "c"}}));
  EXPECT_EQ(clickhouse::parse_tab_separated("x\\ty\\nz\\\\\\'\t\\N\n"),
            (Rows{{"x\ty\nz\\'", "N"}}));  // \N (NULL) reads as N: pitr asks for no NULLs
  EXPECT_EQ(clickhouse::parse_tab_separated(std::string("\\0\\b\\f\\r\n")),
            (Rows{{std::string("\0\b\f\r", 4)}}));
  EXPECT_EQ(clickhouse::parse_tab_separated("last"), (Rows{{"last"}}));
  EXPECT_TRUE(clickhouse::parse_tab_separated("").empty());
  EXPECT_THROW(clickhouse::parse_tab_separated("a\\"), DecodeError);
}

TEST(ClickHouseTabSeparated, QuotesNamesAndStrings) {
  EXPECT_EQ(clickhouse::quote_name("orders"), "`orders`");
  EXPECT_EQ(clickhouse::quote_name(".inner.mv"), "`.inner.mv`");
  EXPECT_EQ(clickhouse::quote_name("a`b\\c"), "`a\\`b\\\\c`");
  EXPECT_EQ(clickhouse::quote_string("it's \\ fine"), "'it\\'s \\\\ fine'");
}

TEST(ClickHouseContentHash, HashesNativeTypesAsTheyAreAndOthersAsText) {
  EXPECT_EQ(clickhouse::count_and_hash_sql({{"a", "UInt64"},
                                            {"b`c", "Nullable(String)"},
                                            {"d", "Array(Nullable(String))"},
                                            {"e", "Decimal(18, 2)"},
                                            {"f", "Enum8('x' = 1)"},
                                            {"g", "Nullable(Decimal(9, 2))"}}),
            "count(), sum(cityHash64(`a`, isNull(`b\\`c`), assumeNotNull(`b\\`c`), "
            "toString(`d`), toString(`e`), `f`, toString(`g`)))");
  EXPECT_EQ(clickhouse::count_and_hash_sql({}), "count(), toUInt64(0)");
}

TEST(ClickHouseManifest, ReadsBackWhatItWrote) {
  test::TempDir dir;
  auto archive = archive::Archive::local(dir.path() / "a");
  archive.create_or_check();
  archive::ClickHouseBackupManifest m;
  m.id = "20261201T000000Z";
  m.source_id = "clickhouse-host-8123";
  m.server_version = "18.16.1";
  m.type = "incr";
  m.parent = "20261130T000000Z";
  m.started_at = 1;
  m.finished_at = 2;
  m.databases = {{"shop", "Ordinary"}};
  archive::ClickHouseTable t;
  t.database = "shop";
  t.name = "orders";
  t.engine = "MergeTree";
  t.kind = "merge_tree";
  t.create = "CREATE TABLE shop.orders (id UInt64) ENGINE = MergeTree ORDER BY id";
  t.rows = 3;
  t.content_hash = 18446744073709551557ull;  // above 2^53: kept exact
  t.parts.push_back(
      {"202401_1_1_0", "202401", 1, 1, 0, 3, 100, std::string(64, 'a'), 18446744073709551557ull});
  t.final_rows = 2;
  t.final_hash = 18446744073709551000ull;
  m.tables = {t};
  m.dictionaries = {{{"colors", "sizes"}, "/etc/clickhouse-server/dicts.xml", "dictionaries/0"}};
  m.parts_unchanged = 4;
  m.parts_new = 1;
  m.parts_gone = 2;
  archive.store().put_bytes(archive::layout::backup_file(m.id, "manifest.json"),
                            as_bytes(archive::clickhouse_manifest_json(m)),
                            storage::PutMode::kIfAbsent);
  auto back = archive::read_clickhouse_manifest(archive, m.id);
  EXPECT_EQ(archive::clickhouse_manifest_json(back), archive::clickhouse_manifest_json(m));
  EXPECT_EQ(back.tables.at(0).parts.at(0).content_hash, 18446744073709551557ull);
  EXPECT_EQ(back.tables.at(0).final_hash, 18446744073709551000ull);
  EXPECT_EQ(back.dictionaries.at(0).names.at(1), "sizes");
  // A part identity that could name another key is refused.
  auto json = archive::clickhouse_manifest_json(m);
  json.replace(json.find(std::string(64, 'a')), 64, "../../x");
  archive.store().put_bytes(archive::layout::backup_file("bad", "manifest.json"), as_bytes(json),
                            storage::PutMode::kIfAbsent);
  EXPECT_THROW(archive::read_clickhouse_manifest(archive, "bad"), std::runtime_error);
}

}  // namespace
}  // namespace pitr

namespace pitr {
namespace {

TEST(ClickHouseFileNames, UnescapesWhatEscapeForFileNameWrote) {
  EXPECT_EQ(clickhouse::unescape_file_name("orders_2024"), "orders_2024");
  EXPECT_EQ(clickhouse::unescape_file_name("%2Einner%2Etotals"), ".inner.totals");
  EXPECT_EQ(clickhouse::unescape_file_name("a%20b%C3%A9"), "a b\xC3\xA9");
  EXPECT_FALSE(clickhouse::unescape_file_name("bad%2"));
  EXPECT_FALSE(clickhouse::unescape_file_name("bad%G0"));
}

TEST(ClickHouseDdlRename, RenamesQualifiedNamesOutsideStrings) {
  std::map<std::string, std::string> r = {{"shop", "shop_copy"}};
  EXPECT_EQ(clickhouse::rename_databases("CREATE TABLE shop.orders (id UInt64) ENGINE = Log", r),
            "CREATE TABLE `shop_copy`.orders (id UInt64) ENGINE = Log");
  EXPECT_EQ(clickhouse::rename_databases(
                "CREATE MATERIALIZED VIEW shop.mv TO `shop`.totals AS SELECT id FROM shop.orders "
                "WHERE note = 'shop.x' AND shops.y = 1",
                r),
            "CREATE MATERIALIZED VIEW `shop_copy`.mv TO `shop_copy`.totals AS SELECT id FROM "
            "`shop_copy`.orders WHERE note = 'shop.x' AND shops.y = 1");
  // A column named like the database, not followed by a dot, stays; so do other databases.
  EXPECT_EQ(clickhouse::rename_databases("SELECT shop FROM other.t, \"shop\".u", r),
            "SELECT shop FROM other.t, `shop_copy`.u");
  EXPECT_EQ(clickhouse::rename_databases("CREATE TABLE `a``b`.t", {{"a`b", "c"}}),
            "CREATE TABLE `a``b`.t");  // `` is not ClickHouse's escape: left alone
  EXPECT_EQ(clickhouse::rename_databases("CREATE TABLE `a\\`b`.t", {{"a`b", "c"}}),
            "CREATE TABLE `c`.t");
  EXPECT_EQ(clickhouse::rename_databases("SELECT 'it\\'s shop.x'", r), "SELECT 'it\\'s shop.x'");
  EXPECT_THROW(clickhouse::rename_databases("SELECT 'open", r), DecodeError);
}

}  // namespace
}  // namespace pitr
