"""pitr log (replay/change_log.hpp) against a real MariaDB: every changed row with its before
and after images as JSON, values as the change history promises them, DDL, and the filters."""
import json
import os

from harness import ServerTestCase, pitr

WORKLOAD = """
CREATE DATABASE shop;
CREATE TABLE shop.orders (id BIGINT UNSIGNED PRIMARY KEY, state ENUM('new','paid','sent'),
  tags SET('a','b','c'), note VARCHAR(40) CHARACTER SET utf8mb4, code BINARY(4),
  price DECIMAL(10,2), at DATETIME(3), ts TIMESTAMP(6) NULL, blob1 BLOB, f DOUBLE, n INT);
CREATE TABLE shop.other (id INT PRIMARY KEY);
SET time_zone = '+00:00';
INSERT INTO shop.orders VALUES (18446744073709551615, 'paid', 'a,c', 'Grüße', 'ab', -12.50,
  '2024-01-05 12:34:56.789', '2024-01-05 10:00:00.000001', 0x00FF, 1.5, NULL);
INSERT INTO shop.other VALUES (1), (2);
UPDATE shop.orders SET state = 'sent', price = 99.99;
DELETE FROM shop.orders;
"""

FIRST = {"id": 18446744073709551615, "state": "paid", "tags": "a,c", "note": "Grüße",
         "code": "YWIAAA==", "price": "-12.50", "at": "2024-01-05T12:34:56.789",
         "ts": "2024-01-05T10:00:00.000001Z", "blob1": "AP8=", "f": 1.5, "n": None}


class LogTest(ServerTestCase):
    def archive_of(self, server):
        archive = os.path.join(self.tmp, f"archive-{server.port}")
        pitr("capture", "--archive", archive, "--source", server.uri, "--stop-at-end",
             password=server.password)
        return archive

    def log(self, archive, *args):
        out = pitr("log", "--archive", archive, *args).stdout.decode()
        return [json.loads(line) for line in out.splitlines()]

    def test_every_row_with_its_images_and_the_filters(self):
        server = self.mariadb(extra_args=["--binlog-row-metadata=FULL"])
        server.sql(WORKLOAD)
        archive = self.archive_of(server)
        # The table's DDL comes with its rows.
        self.assertEqual([c["kind"] for c in self.log(archive, "--table", "shop.orders")],
                         ["ddl", "insert", "update", "delete"])
        changes = self.log(archive, "--table", "shop.orders", "--type", "insert,update,delete")
        insert, update, delete = changes
        self.assertEqual(insert["after"], FIRST)
        self.assertIsNone(insert["before"])
        self.assertEqual(update["before"], FIRST)
        self.assertEqual(update["after"], dict(FIRST, state="sent", price="99.99"))
        self.assertEqual(delete["before"]["price"], "99.99")
        self.assertIsNone(delete["after"])
        for c in changes:
            self.assertEqual((c["database"], c["table"], c["server_id"]), ("shop", "orders", 1))
            self.assertRegex(c["gtid"], r"^0-1-\d+$")
            self.assertRegex(c["file"], r"^binlog\.\d+$")
        # DDL, the other table's two rows, and the filters.
        everything = self.log(archive)
        self.assertEqual([c["statement"].split()[1] for c in everything if c["kind"] == "ddl"],
                         ["DATABASE", "TABLE", "TABLE"])
        self.assertEqual([c["after"] for c in everything
                          if c["table"] == "other" and c["kind"] == "insert"],
                         [{"id": 1}, {"id": 2}])
        self.assertEqual([c["kind"] for c in self.log(archive, "--type", "delete,update")],
                         ["update", "delete"])
        self.assertEqual(self.log(archive, "--gtid", update["gtid"]), [update])
        self.assertEqual(len(self.log(archive, "--limit", "2")), 2)
        self.assertEqual(self.log(archive, "--until", "2000-01-01T00:00:00Z"), [])
        text = pitr("log", "--archive", archive, "--format", "text", "--type", "update")
        self.assertIn("update shop.orders", text.stdout.decode())
        self.assertIn('"state":"sent"', text.stdout.decode())

    def test_the_sql_form_rebuilds_the_data_on_a_strict_server_in_another_zone(self):
        server = self.mariadb(extra_args=["--binlog-row-metadata=FULL"])
        server.sql(WORKLOAD)
        server.sql("SET time_zone = '+00:00';\n"
                   "INSERT INTO shop.orders VALUES (7, 'new', '', 'it''s \\\\ fine', 0x0001,"
                   " 0.05, '1999-12-31 23:59:59.000', NULL, NULL, -0.25, -7);\n"
                   "INSERT INTO shop.orders (id, note) VALUES (8, NULL);\n"
                   "UPDATE shop.orders SET n = 8, tags = 'b' WHERE id = 8;\n"
                   "DELETE FROM shop.other WHERE id = 1;")
        archive = self.archive_of(server)
        script = pitr("log", "--archive", archive, "--format", "sql").stdout
        target = self.mariadb(server_id=2, extra_args=[
            "--sql-mode=STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES", "--default-time-zone=+05:00"])
        target.sql(script.decode())
        for query in ["SET time_zone = '+00:00'; SELECT * FROM shop.orders ORDER BY id",
                      "SELECT * FROM shop.other ORDER BY id", "CHECKSUM TABLE shop.orders"]:
            self.assertEqual(target.sql(query), server.sql(query), query)
        self.assertIn("it's", server.sql("SELECT note FROM shop.orders WHERE id = 7"))

    def test_without_row_metadata_columns_are_numbered(self):
        server = self.mariadb()  # MariaDB's default: binlog_row_metadata=NO_LOG
        server.sql("CREATE DATABASE d;\nCREATE TABLE d.t (a INT, b VARCHAR(5));\n"
                   "INSERT INTO d.t VALUES (-3, 'x');")
        changes = self.log(self.archive_of(server), "--type", "insert")
        self.assertEqual(changes[0]["after"], {"@1": -3, "@2": "x"})

    def test_a_bad_option_is_a_usage_error(self):
        out = pitr("log", "--archive", self.tmp, "--type", "upsert", check=False)
        self.assertEqual(out.returncode, 2)
        self.assertIn("--type wants insert, update, delete or ddl", out.stderr.decode())


if __name__ == "__main__":
    import unittest
    unittest.main()
