"""pitr find on an archive of a real MariaDB: every kind of change, with exact row counts."""
import json
import os
import time
import unittest

from harness import ServerTestCase, pitr


class FindTest(ServerTestCase):
    def test_finds_each_change_with_its_row_count(self):
        server = self.mariadb()
        archive = self.new_archive()
        server.sql("""
            CREATE DATABASE db; USE db;
            CREATE TABLE db.orders (id INT PRIMARY KEY, amount DECIMAL(12,3), note VARCHAR(300),
              made DATETIME(3), flags BIT(10), kind ENUM('a','b'), tags SET('x','y'), doc JSON,
              photo BLOB, price FLOAT, score DOUBLE, d DATE, t TIME(2), ts TIMESTAMP(6) NULL,
              big BIGINT UNSIGNED, y YEAR, c CHAR(3));
            CREATE TABLE db.items (id INT AUTO_INCREMENT PRIMARY KEY, order_id INT);
            INSERT INTO db.orders (id, amount, note, made, flags, kind, tags, doc, photo, price,
              score, d, t, ts, big, y, c)
              SELECT seq, seq * 1.5, REPEAT('n', seq % 300), NOW(3), b'1010101010', 'b', 'x,y',
                     JSON_OBJECT('k', seq), RANDOM_BYTES(100), 1.5, 2.5, CURDATE(), '10:11:12.34',
                     NOW(6), seq * 1000000000, 2024, 'abc'
              FROM seq_1_to_137;
            INSERT INTO db.items (order_id) SELECT seq FROM seq_1_to_20;
            UPDATE db.orders SET amount = amount + 1 WHERE id <= 42;
        """)
        before = int(time.time())
        time.sleep(1.1)
        server.sql("DELETE FROM db.orders WHERE id > 100;")
        server.sql("ALTER TABLE db.items ADD COLUMN qty INT; TRUNCATE TABLE db.items;"
                   "DROP TABLE db.items;")
        pitr("capture", "--archive", archive, "--source", server.uri, "--stop-at-end",
             password=server.password)

        def find(*args):
            out = pitr("find", "--archive", archive, "--json", *args).stdout.decode()
            return [json.loads(line) for line in out.splitlines()]

        def changes(records):
            return [(c["kind"], c["table"], c["rows"]) for r in records for c in r["changes"]]

        self.assertEqual(changes(find("--match", "insert:db.orders")),
                         [("insert", "db.orders", 137)])
        self.assertEqual(changes(find("--match", "update:db.*")), [("update", "db.orders", 42)])
        deletes = find("--match", "delete:db.orders")
        self.assertEqual(changes(deletes), [("delete", "db.orders", 37)])
        self.assertEqual(changes(find("--match", "drop:db.items")), [("drop", "db.items", None)])
        self.assertEqual(changes(find("--match", "truncate")), [("truncate", "db.items", None)])
        ddl = [c[1] for c in changes(find("--match", "ddl:db.items"))]
        self.assertEqual(ddl, ["db.items", "db.items", "db.items", "db.items"])  # create, alter, truncate, drop
        # Positions point at the transaction's first event (its GTID event).
        d = deletes[0]
        inspect = pitr("inspect", "--json", os.path.join(server.dir, "data", d["file"])).stdout
        events = {e["pos"]: e for e in map(json.loads, inspect.splitlines())}
        self.assertEqual(events[d["pos"]]["name"], "GTID_EVENT")
        self.assertEqual(events[d["pos"]]["gtid"], d["gtid"])
        self.assertIn(d["end_pos"], {e["next_pos"] for e in events.values()})
        # Time filters.
        self.assertEqual(len(find("--match", "delete", "--until", time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(before)))), 0)
        self.assertEqual(len(find("--match", "delete", "--since", time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(before)))), 1)
        text = pitr("find", "--archive", archive, "--match", "delete:db.orders").stdout.decode()
        self.assertRegex(text, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  0-1-\d+  binlog\.000001:\d+  "
                               r"delete db\.orders \(37 rows\)\n$")
        bad = pitr("find", "--archive", archive, "--match", "erase:db.orders", check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn(b"unknown change kind", bad.stderr)


if __name__ == "__main__":
    unittest.main()
