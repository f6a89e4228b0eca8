"""ClickHouse backups (capture/clickhouse/clickhouse_backup.hpp) and restores
(replay/clickhouse/clickhouse_restore.hpp) against real ClickHouse 18.16 servers: every kind of
table restored onto a fresh server, parts stored once by content, damage refused before
ATTACH, a failed restore undone, and the shadow of a killed backup removed."""
import json
import os
import subprocess

from harness import (ENCRYPTED, PITR, ServerTestCase, archive_keys, archive_object, pitr,
                     replace_archive_object, stored_block_ids, wait_until, with_spool)

SCHEMA = """
CREATE DATABASE shop;
CREATE TABLE shop.orders (d Date, id UInt64, note Nullable(String), tags Array(Nullable(String)))
  ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY id;
CREATE TABLE shop.latest (id UInt64, v String) ENGINE = ReplacingMergeTree ORDER BY id;
CREATE TABLE shop.old (d Date, id UInt32) ENGINE = MergeTree(d, id, 8192);
CREATE TABLE shop.events (id UInt32, s Nullable(String)) ENGINE = Log;
CREATE MATERIALIZED VIEW shop.totals ENGINE = SummingMergeTree ORDER BY id
  AS SELECT id, toUInt64(count()) AS n FROM shop.orders GROUP BY id;
CREATE VIEW shop.big AS SELECT id FROM shop.orders WHERE id > 2;
CREATE MATERIALIZED VIEW shop.event_counts ENGINE = SummingMergeTree ORDER BY id
  AS SELECT id, toUInt64(1) AS n FROM shop.events;
"""

ROWS = """
INSERT INTO shop.orders VALUES ('2024-01-05', 1, NULL, ['a', NULL]), ('2024-02-05', 2, 'x', []);
INSERT INTO shop.orders VALUES ('2024-01-06', 3, 'NULL', [NULL]), ('2024-03-01', 4, '', ['']);
INSERT INTO shop.latest VALUES (1, 'a'), (2, 'b');
INSERT INTO shop.latest VALUES (1, 'A');
INSERT INTO shop.old VALUES ('2024-03-01', 7), ('2024-04-01', 8);
INSERT INTO shop.events VALUES (1, 'x'), (2, NULL);
"""

DICTIONARY = """<yandex><dictionary><name>colors</name>
<source><file><path>{path}</path><format>TabSeparated</format></file></source>
<lifetime>0</lifetime><layout><flat/></layout>
<structure><id><name>id</name></id>
<attribute><name>name</name><type>String</type><null_value></null_value></attribute></structure>
</dictionary></yandex>
"""

# What a restore must reproduce, read the same way from source and target.
QUERIES = [
    "SELECT * FROM shop.orders ORDER BY id",
    "SELECT * FROM shop.latest FINAL ORDER BY id",
    "SELECT count() FROM shop.latest",
    "SELECT * FROM shop.old ORDER BY id",
    "SELECT * FROM shop.events ORDER BY id",
    "SELECT id, sum(n) FROM shop.totals GROUP BY id ORDER BY id",
    "SELECT * FROM shop.big ORDER BY id",
    "SELECT id, sum(n) FROM shop.event_counts GROUP BY id ORDER BY id",
]


class ClickHouseTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.archive = self.new_archive()

    def backup(self, server, *args, check=True):
        out = pitr("backup", "--archive", self.archive, "--source", server.uri, "--json", *args,
                   password=server.password, check=check)
        return json.loads(out.stdout) if check else out

    def restore(self, server, *args, check=True):
        return pitr("restore", "--archive", self.archive, "--target", server.uri, *args,
                    password=server.password, check=check)

    def manifest(self, backup_id):
        return json.loads(pitr("get", "--archive", self.archive, "--backup", backup_id,
                               "manifest.json").stdout)

    def state(self, server):
        return [server.sql(q) for q in QUERIES]


class ClickHouseBackupTest(ClickHouseTestCase):
    def test_every_kind_of_table_restores_onto_a_fresh_server(self):
        source = self.clickhouse("source")
        source.sql(SCHEMA)
        source.sql(ROWS)
        expected = self.state(source)
        self.assertIn("\\N", expected[0])  # a NULL made it in
        backup = self.backup(source)
        m = self.manifest(backup["id"])
        kinds = {t["name"]: t["kind"] for t in m["tables"]}
        self.assertEqual(kinds, {"orders": "merge_tree", "latest": "merge_tree",
                                 "old": "merge_tree", "events": "export", "totals": "view",
                                 ".inner.totals": "merge_tree", "big": "view",
                                 "event_counts": "view", ".inner.event_counts": "merge_tree"})
        self.assertEqual(os.listdir(os.path.join(source.data_path, "shadow")), [])
        latest = next(t for t in m["tables"] if t["name"] == "latest")
        self.assertEqual((latest["rows"], latest["final_rows"]), (3, 2))

        target = self.clickhouse("target")
        out = self.restore(target)
        self.assertIn("content hash checked", out.stderr.decode())
        self.assertEqual(self.state(target), expected)
        # The restored materialized view fires on a new row, once.
        for server in (source, target):
            server.sql("INSERT INTO shop.orders VALUES ('2024-05-01', 9, 'n', [])")
        self.assertEqual(self.state(target), self.state(source))
        self.assertIn("9\t1\n", target.sql(QUERIES[5]))

    def test_only_new_parts_are_stored_and_each_backup_restores_alone(self):
        source = self.clickhouse("source")
        source.sql(SCHEMA)
        source.sql(ROWS)
        first = self.backup(source)
        again = self.backup(source)
        m = self.manifest(again["id"])
        self.assertEqual((m["type"], m["parent"]), ("incr", first["id"]))
        self.assertEqual(m["parts_new"], 0)
        self.assertGreater(m["parts_unchanged"], 0)
        self.assertEqual(again["bytes_stored"], 0)  # the Log table's export is the same blocks
        source.sql("""
INSERT INTO shop.orders VALUES ('2024-01-09', 5, 'new', ['n']);
OPTIMIZE TABLE shop.latest FINAL;
ALTER TABLE shop.old DROP PARTITION 202404;
ALTER TABLE shop.orders DELETE WHERE id = 2;
""")
        wait_until(lambda: source.sql(
            "SELECT count() FROM system.mutations WHERE NOT is_done").strip() == "0",
            what="the mutation to finish")
        expected = self.state(source)
        third = self.backup(source)
        m = self.manifest(third["id"])
        self.assertGreater(m["parts_new"], 0)
        self.assertGreater(m["parts_unchanged"], 0)
        self.assertGreater(m["parts_gone"], 0)
        target = self.clickhouse("target")
        self.restore(target, "--backup", third["id"])
        self.assertEqual(self.state(target), expected)

    def test_a_column_added_between_backups_rehashes_the_parts_it_reuses(self):
        source = self.clickhouse("source")
        source.sql(SCHEMA)
        source.sql(ROWS)
        self.backup(source)
        source.sql("ALTER TABLE shop.orders ADD COLUMN extra UInt8 DEFAULT 7")
        expected = self.state(source)
        second = self.backup(source)
        m = self.manifest(second["id"])
        self.assertEqual(m["parts_new"], 0)  # the files are the same parts'
        target = self.clickhouse("target")
        self.restore(target)
        self.assertEqual(self.state(target), expected)
        self.assertEqual(target.sql("SELECT DISTINCT extra FROM shop.orders"), "7\n")

    def test_a_part_name_reused_after_truncate_is_stored_as_new(self):
        source = self.clickhouse("source")
        source.sql("CREATE DATABASE d;\nCREATE TABLE d.t (id UInt32) ENGINE = MergeTree ORDER BY id;"
                   "\nINSERT INTO d.t VALUES (1);")
        first = self.backup(source)
        source.sql("TRUNCATE TABLE d.t")
        source.restart()
        source.sql("INSERT INTO d.t VALUES (2);")
        second = self.backup(source)
        parts = [self.manifest(b["id"])["tables"][0]["parts"] for b in (first, second)]
        self.assertEqual(parts[0][0]["name"], parts[1][0]["name"])  # the name came back
        self.assertNotEqual(parts[0][0]["identity"], parts[1][0]["identity"])
        self.assertEqual(self.manifest(second["id"])["parts_new"], 1)
        target = self.clickhouse("target")
        self.restore(target)
        self.assertEqual(target.sql("SELECT * FROM d.t"), "2\n")

    def test_a_damaged_block_is_refused_before_attach_and_the_restore_is_undone(self):
        source = self.clickhouse("source")
        source.sql(SCHEMA)
        source.sql(ROWS)
        self.backup(source)
        packs = archive_keys(self.archive, "blocks/packs/")
        pack = max(packs, key=lambda k: len(archive_object(self.archive, k)))
        data = bytearray(archive_object(self.archive, pack))
        data[len(data) // 2] ^= 0x20
        replace_archive_object(self.archive, pack, bytes(data))
        verify = pitr("verify", "--archive", self.archive, check=False)
        self.assertEqual(verify.returncode, 1, verify.stdout.decode())
        self.assertRegex(verify.stdout.decode(),
                         r"backups/\S+/parts.blocks.json.zst: .*block [0-9a-f]{64}")
        target = self.clickhouse("target")
        out = self.restore(target, check=False)
        self.assertEqual(out.returncode, 1, out.stderr.decode())
        self.assertRegex(out.stderr.decode(), r"block [0-9a-f]{64}")
        self.assertEqual(target.sql("SELECT count() FROM system.databases WHERE name = 'shop'"),
                         "0\n")
        detached = [d for d, _, files in os.walk(target.data_path) if "detached" in d and files]
        self.assertEqual(detached, [])
        self.assertFalse(os.path.exists(os.path.join(target.data_path, "data", "shop")))
        self.assertFalse(os.path.exists(os.path.join(target.data_path, "metadata", "shop.sql")))

    def test_expiring_the_first_backup_keeps_the_later_one_whole(self):
        source = self.clickhouse("source")
        source.sql(SCHEMA)
        source.sql(ROWS)
        # Most of the store: a partition only the first backup will hold.
        source.sql("INSERT INTO shop.old SELECT toDate('2024-04-02'), rand() FROM numbers(300000)")
        first = self.backup(source)
        source.sql("ALTER TABLE shop.old DROP PARTITION 202404;\n"
                   "INSERT INTO shop.orders VALUES ('2024-06-01', 6, 'six', []);")
        expected = self.state(source)
        second = self.backup(source)
        status = json.loads(pitr("status", "--archive", self.archive, "--json").stdout)
        self.assertEqual([b["id"] for b in status["clickhouse"]], [first["id"], second["id"]])
        before = stored_block_ids(self.archive)
        out = pitr("expire", "--archive", self.archive, "--keep", "1")
        self.assertIn(first["id"], out.stdout.decode())
        after = stored_block_ids(self.archive)
        if before is not None:
            self.assertLess(len(after), len(before))  # the dropped partition's part is gone
        self.assertIn("1 ClickHouse backups",
                      pitr("verify", "--archive", self.archive).stdout.decode())
        target = self.clickhouse("target")
        self.restore(target)
        self.assertEqual(self.state(target), expected)

    def test_a_database_restored_under_a_new_name_beside_the_original(self):
        source = self.clickhouse("source")
        source.sql(SCHEMA)
        source.sql(ROWS)
        expected = self.state(source)
        self.backup(source)
        self.restore(source, "--rename-database", "shop=shop_copy")
        copy = [source.sql(q.replace("shop.", "shop_copy.")) for q in QUERIES]
        self.assertEqual(copy, expected)
        self.assertEqual(self.state(source), expected)  # the original untouched
        # The copy's materialized view reads the copy's table, not the original.
        source.sql("INSERT INTO shop_copy.orders VALUES ('2024-05-01', 9, 'n', [])")
        self.assertIn("9\t1\n", source.sql(QUERIES[5].replace("shop.", "shop_copy.")))
        self.assertNotIn("9\t", source.sql(QUERIES[5]))

    def test_dictionaries_restore_with_their_files_before_their_tables(self):
        source = self.clickhouse("source")
        colors = os.path.join(self.tmp, "colors.tsv")
        with open(colors, "w") as f:
            f.write("1\tred\n2\tgreen\n")
        os.chmod(colors, 0o644)
        with open(os.path.join(source.dir, "dictionaries", "colors.xml"), "w") as f:
            f.write(DICTIONARY.format(path=colors))
        source.sql("SYSTEM RELOAD DICTIONARIES;\nCREATE DATABASE shop;\n"
                   "CREATE TABLE shop.colors (id UInt64, name String) ENGINE = Dictionary(colors);")
        self.assertEqual(source.sql("SELECT dictGetString('colors', 'name', toUInt64(2))"),
                         "green\n")
        backup = self.backup(source)
        self.assertEqual([d["names"] for d in self.manifest(backup["id"])["dictionaries"]],
                         [["colors"]])
        # Without --dictionaries-dir: named and skipped, with its table.
        bare = self.clickhouse("bare")
        out = self.restore(bare)
        self.assertIn("dictionaries colors", out.stderr.decode())
        self.assertEqual(bare.sql("SELECT count() FROM system.tables WHERE database = 'shop'"),
                         "0\n")
        target = self.clickhouse("target")
        self.restore(target, "--dictionaries-dir", os.path.join(target.dir, "dictionaries"))
        self.assertEqual(target.sql("SELECT * FROM shop.colors ORDER BY id"), "1\tred\n2\tgreen\n")

    def test_a_restore_whose_final_rows_differ_is_undone(self):
        source = self.clickhouse("source")
        source.sql(SCHEMA)
        source.sql(ROWS)
        backup = self.backup(source)
        if ENCRYPTED:
            self.skipTest("the manifest is rewritten in plain text behind pitr's back")
        m = self.manifest(backup["id"])
        for t in m["tables"]:
            if t["name"] == "latest":
                t["final_content_hash"] = str((int(t["final_content_hash"]) + 1) % 2**64)
        replace_archive_object(self.archive, f"backups/{backup['id']}/manifest.json",
                               json.dumps(m).encode())
        target = self.clickhouse("target")
        out = self.restore(target, check=False)
        self.assertEqual(out.returncode, 1)
        self.assertRegex(out.stderr.decode(), r"FINAL from `shop`.`latest` gives 2 rows")
        self.assertEqual(target.sql("SELECT count() FROM system.databases WHERE name = 'shop'"),
                         "0\n")

    def test_a_database_with_tables_on_the_target_is_left_untouched(self):
        source = self.clickhouse("source")
        source.sql(SCHEMA)
        source.sql(ROWS)
        self.backup(source)
        target = self.clickhouse("target")
        target.sql("CREATE DATABASE shop;\nCREATE TABLE shop.mine (x UInt8) ENGINE = Log;")
        out = self.restore(target, check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("database shop exists on the target and holds 1 tables",
                      out.stderr.decode())
        self.assertEqual(target.sql("SELECT name FROM system.tables WHERE database = 'shop'"),
                         "mine\n")

    def test_the_shadow_of_a_killed_backup_is_removed_by_the_next(self):
        source = self.clickhouse("source")
        source.sql(SCHEMA)
        source.sql(ROWS)
        # A backup killed after FREEZE left its shadow: a process that is gone named it.
        dead = subprocess.Popen(["true"])
        dead.wait()
        source.sql(f"ALTER TABLE shop.orders FREEZE WITH NAME 'pitr_{dead.pid}_1'")
        shadow = os.path.join(source.data_path, "shadow")
        self.assertIn(f"pitr_{dead.pid}_1", os.listdir(shadow))
        out = pitr("backup", "--archive", self.archive, "--source", source.uri,
                   password=source.password)
        self.assertIn(f"removed {shadow}/pitr_{dead.pid}_1", out.stderr.decode())
        self.assertEqual(os.listdir(shadow), [])

    def test_a_backup_killed_midway_leaves_a_shadow_the_next_removes(self):
        source = self.clickhouse("source")
        source.sql("CREATE DATABASE big;\n"
                   "CREATE TABLE big.t (id UInt64, s String) ENGINE = MergeTree ORDER BY id;\n"
                   "INSERT INTO big.t SELECT number, toString(rand64()) FROM numbers(2000000);")
        shadow = os.path.join(source.data_path, "shadow")
        env = dict(os.environ, PITR_PASSWORD=source.password)
        # zstd level 19: the backup is still storing the part when it is killed.
        killed = subprocess.Popen(
            [PITR, *with_spool(["backup", "--archive", self.archive, "--source", source.uri,
                                "--compression-level", "19"])], env=env, stderr=subprocess.DEVNULL)
        wait_until(lambda: os.path.isdir(shadow) and os.listdir(shadow), timeout=60,
                   what="the backup's shadow")
        killed.kill()
        killed.wait()
        left = os.listdir(shadow)
        self.assertEqual(len(left), 1)
        self.assertTrue(left[0].startswith(f"pitr_{killed.pid}_"), left)
        out = pitr("backup", "--archive", self.archive, "--source", source.uri,
                   password=source.password)
        self.assertIn(f"removed {shadow}/{left[0]}", out.stderr.decode())
        self.assertEqual(os.listdir(shadow), [])
        backed_up = source.sql("SELECT count(), sum(cityHash64(s)) FROM big.t")
        # Merges the killed backup stopped run again: two parts merge into one.
        source.sql("INSERT INTO big.t VALUES (0, 'x');\nOPTIMIZE TABLE big.t FINAL;")
        self.assertEqual(source.sql(
            "SELECT count() FROM system.parts WHERE table = 't' AND active"), "1\n")
        target = self.clickhouse("target")
        self.restore(target)
        self.assertEqual(target.sql("SELECT count(), sum(cityHash64(s)) FROM big.t"), backed_up)

    def test_a_data_path_pitr_cannot_read_is_a_clear_error(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to run pitr as another user")
        if subprocess.run(["runuser", "-u", "nobody", "--", "test", "-x", PITR]).returncode:
            self.skipTest(f"the user nobody cannot run {PITR}")
        source = self.clickhouse("source")
        source.sql(SCHEMA)
        source.sql(ROWS)
        archive = os.path.join(self.tmp, "nobody-archive")
        os.makedirs(archive)
        os.chmod(archive, 0o777)
        env = dict(os.environ, PITR_PASSWORD=source.password)
        env.pop("PITR_ENCRYPTION_KEY_FILE", None)  # a plain archive: nobody cannot read the key
        out = subprocess.run(["runuser", "-u", "nobody", "--", PITR, "backup", "--archive",
                              archive, "--source", source.uri], env=env, capture_output=True)
        self.assertEqual(out.returncode, 1, out.stderr.decode())
        self.assertRegex(out.stderr.decode(), r"cannot read the (server's data path|frozen "
                                              r"parts of `shop`)")
        self.assertEqual(archive_keys(archive, "backups/"), [])  # nothing half-written

    def test_a_wrong_password_is_a_clear_error(self):
        source = self.clickhouse("source")
        out = pitr("backup", "--archive", self.archive, "--source", source.uri,
                   password="wrong", check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("refused user 'pitr'", out.stderr.decode())
        self.assertEqual(archive_keys(self.archive, "backups/"), [])


if __name__ == "__main__":
    import unittest
    unittest.main()
