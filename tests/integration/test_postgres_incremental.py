"""Differential and incremental PostgreSQL backups over SQL, compared with their parent
through the archived WAL (capture/postgres/pg_incremental_backup.hpp), against a real
PostgreSQL server: what they read, that each restores alone, and when they fall back."""
import io
import json
import os
import re
import signal
import subprocess
import tarfile
import unittest

from harness import (PITR, pitr, replace_archive_object, archive_keys, wait_until,
                     with_spool)
from test_postgres import STATE, PostgresTestCase

# Every table of the public schema, each by an md5 of its rows (created on the source, so a
# restored server has it too).
TABLE_HASHES = r"""
CREATE FUNCTION table_hashes() RETURNS text LANGUAGE plpgsql AS $$
DECLARE r record; h text; out text := '';
BEGIN
  FOR r IN SELECT c.oid::regclass::text AS t FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind = 'r' AND n.nspname = 'public' AND c.relpersistence = 'p'
           ORDER BY 1 LOOP
    EXECUTE format('SELECT md5(coalesce(string_agg(x::text, '','' ORDER BY x::text), '''')) '
                   'FROM %s x', r.t) INTO h;
    out := out || r.t || '=' || h || ';';
  END LOOP;
  RETURN out;
END $$"""

# Every btree index checked with its heap (amcheck's bt_index_check, heapallindexed).
AMCHECK = """SELECT count(*) FROM (
  SELECT bt_index_check(c.oid, true) FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
   WHERE a.amname = 'btree' AND c.relpersistence = 'p') s"""

RELATION_FILE = re.compile(r"(^|/)(base/\d+|global|PG_[^/]+/\d+)/\d+(\.\d+)?$")


def tar_files(data):
    """{name: bytes} of a tar's regular files."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t.getmembers():
            if m.isfile():
                out[m.name] = t.extractfile(m).read()
    return out


def changed_bytes(parent, child):
    """What a backup compared with `parent` cannot avoid reading: the 8 KiB pages of relation
    files (main forks) that differ or are new, and every other file whole."""
    total = 0
    for name, data in child.items():
        if not RELATION_FILE.search(name):
            total += len(data)
            continue
        before = parent.get(name, b"")
        for at in range(0, len(data), 8192):
            if data[at:at + 8192] != before[at:at + 8192]:
                total += min(8192, len(data) - at)
    return total


class IncrementalBackupTest(PostgresTestCase):
    def backup_json(self, *args, uri=None, password=None, check=True):
        out = pitr("backup", "--archive", self.archive, "--source", uri or self.pg.uri, "--json",
                   *args, password=password or self.pg.password, timeout=600, check=check)
        return json.loads(out.stdout), out.stderr.decode()

    def manifest(self, backup_id):
        return json.loads(pitr("get", "--archive", self.archive, "--backup", backup_id,
                               "manifest.json").stdout)

    def base_tar(self, backup_id):
        return tar_files(pitr("get", "--archive", self.archive, "--backup", backup_id,
                              "base.tar").stdout)

    def moment(self):
        """What a restore of the backup just taken must hold."""
        pg = self.pg
        return {"tables": pg.sql("SELECT table_hashes()").strip(),
                "databases": pg.sql("SELECT string_agg(datname, ',' ORDER BY datname) "
                                    "FROM pg_database").strip()}

    def check_restore(self, backup_id, expected):
        server, log = self.restore("restore-" + backup_id, "--backup", backup_id, "--immediate")
        try:
            self.assertEqual(server.sql("SELECT table_hashes()").strip(), expected["tables"], log)
            self.assertEqual(server.sql("SELECT string_agg(datname, ',' ORDER BY datname) "
                                        "FROM pg_database").strip(), expected["databases"])
            server.sql("CREATE EXTENSION IF NOT EXISTS amcheck")
            self.assertGreater(int(server.sql(AMCHECK).strip()), 3)
            # The unlogged table is there, empty, as after a crash.
            self.assertEqual(server.sql("SELECT count(*) FROM scratch").strip(), "0")
            if "copied" in expected["databases"]:
                self.assertEqual(server.sql("SELECT count(*) FROM seeded", db="copied").strip(),
                                 "500")
        finally:
            server.stop()

    def test_incrementals_across_schema_changes_each_restore_alone(self):
        # With data checksums: every page an incremental reads is checked, none falsely.
        pg = self.start_source(data_checksums=True)
        capture = self.capture(pg)
        self.pgbench("-i", "-s", "10", "-q")
        pg.sql(TABLE_HASHES)
        pg.sql("CREATE TABLE marker (id int PRIMARY KEY);"
               "CREATE TABLE doomed AS SELECT generate_series(1, 5000) AS x;"
               "CREATE TABLE cut AS SELECT generate_series(1, 50000) AS x;"
               "CREATE UNLOGGED TABLE scratch AS SELECT generate_series(1, 1000) AS x;"
               "CREATE DATABASE seed")
        full, _ = self.backup_json("--type", "full")
        self.assertEqual((full["type"], full["parent"]), ("full", None))
        moments = {full["id"]: self.moment()}

        # 5% of pgbench_accounts' rows change.
        pg.sql("UPDATE pgbench_accounts SET abalance = abalance + 7 WHERE aid <= 50000")
        first, out = self.backup_json("--type", "incr")
        self.assertEqual((first["type"], first["method"], first["parent"]),
                         ("incr", "physical", full["id"]), out)
        moments[first["id"]] = self.moment()
        m = self.manifest(first["id"])
        self.assertEqual((m["method"], m["version"]), ("sql", 3))
        self.assertGreater(m["blocks_reused"], 5 * m["blocks_read"])
        self.assertGreaterEqual(m["pages_checksummed"], m["blocks_read"])
        # It read no more than the pages that changed and the other files, and far less
        # than the full backup.
        truth = changed_bytes(self.base_tar(full["id"]), self.base_tar(first["id"]))
        self.assertLessEqual(first["bytes_read"], 1.2 * truth,
                             f"read {first['bytes_read']}, changed {truth}")
        self.assertLess(first["bytes_read"], full["bytes_read"] / 4)

        # Schema changes of every kind, and a database from a template by file copy.
        pg.sql("CREATE TABLE tas AS SELECT aid, abalance FROM pgbench_accounts WHERE aid % 7 = 0;"
               "CREATE INDEX tas_abalance ON tas (abalance);"
               "TRUNCATE cut; INSERT INTO cut SELECT generate_series(1, 10);"
               "DROP TABLE doomed;"
               "VACUUM FULL pgbench_tellers;"
               "CLUSTER pgbench_branches USING pgbench_branches_pkey;"
               "DROP DATABASE seed;"
               "CREATE DATABASE seed2 STRATEGY WAL_LOG")
        self.pgbench("-n", "-c", "2", "-t", "200")
        second, out = self.backup_json()  # incr by default once a full exists
        self.assertEqual((second["type"], second["parent"]), ("incr", first["id"]), out)
        moments[second["id"]] = self.moment()

        pg.sql("DELETE FROM pgbench_accounts WHERE aid % 3 = 0; VACUUM pgbench_accounts;"
               "INSERT INTO marker VALUES (1)")
        diff, out = self.backup_json("--type", "diff", "--verify-blocks")
        self.assertEqual((diff["type"], diff["parent"]), ("diff", full["id"]), out)
        diff_manifest = self.manifest(diff["id"])
        self.assertEqual(diff_manifest["blocks_missed"], 0)
        self.assertGreater(diff_manifest["blocks_checked"], 0)
        # The WAL since the full came mostly from capture's summaries of sealed segments
        # (and --verify-blocks above found nothing they missed).
        self.assertGreater(diff_manifest["wal_summarized_bytes"],
                           diff_manifest["wal_decoded_bytes"], diff_manifest)
        moments[diff["id"]] = self.moment()

        self.wait_archived(pg)
        self.assertEqual(capture.stop(), 0, capture.output())
        self.assertIn("archive OK", pitr("verify", "--archive", self.archive).stdout.decode())
        for backup_id, expected in moments.items():
            self.check_restore(backup_id, expected)

    def test_file_copy_database_and_falling_back(self):
        pg = self.start_source()
        capture = self.capture(pg)
        self.pgbench("-i", "-s", "2", "-q")
        pg.sql(TABLE_HASHES)
        pg.sql("CREATE UNLOGGED TABLE scratch AS SELECT 1 AS x; CREATE DATABASE seed")
        self.pg.as_owner([pg.bin("psql"), "-X", "-q", "-h", pg.dir, "-p", str(pg.port), "-U",
                          "postgres", "-d", "seed", "-c",
                          "CREATE TABLE seeded AS SELECT generate_series(1, 500) AS x"],
                         check=True, capture_output=True)
        full, _ = self.backup_json()
        self.assertEqual(full["type"], "full")  # the first: full without a word

        # A role without the grants: a full backup instead, saying why.
        pg.sql("CREATE ROLE limited LOGIN REPLICATION PASSWORD 'limited-pw'")
        uri = pg.uri.replace("pitr@", "limited@")
        fallback, out = self.backup_json("--type", "incr", uri=uri, password="limited-pw")
        self.assertEqual(fallback["type"], "full")
        self.assertIn("may not execute pg_backup_start(text, boolean)", out)
        # Granted exactly the functions docs/cli.md names, the same role compares.
        pg.sql("GRANT EXECUTE ON FUNCTION pg_backup_start(text, boolean) TO limited;"
               "GRANT EXECUTE ON FUNCTION pg_backup_stop(boolean) TO limited;"
               "GRANT EXECUTE ON FUNCTION pg_ls_dir(text, boolean, boolean) TO limited;"
               "GRANT EXECUTE ON FUNCTION pg_stat_file(text, boolean) TO limited;"
               "GRANT EXECUTE ON FUNCTION pg_read_binary_file(text, bigint, bigint, boolean) "
               "TO limited")
        pg.sql("CREATE DATABASE copied TEMPLATE seed STRATEGY FILE_COPY")
        granted, out = self.backup_json("--type", "incr", uri=uri, password="limited-pw")
        self.assertEqual((granted["type"], granted["parent"]), ("incr", fallback["id"]), out)
        expected = self.moment()
        self.wait_archived(pg)
        self.check_restore(granted["id"], expected)

        # A WAL segment missing from the archive: a full backup instead, saying why.
        segments = [k for k in archive_keys(self.archive, "wal/") if re.search(
            r"/[0-9A-F]{24}\.zst$", k)]
        self.assertTrue(segments)
        pg.sql("INSERT INTO pgbench_history SELECT * FROM pgbench_history")
        replace_archive_object(self.archive, segments[-1], None)
        gap, out = self.backup_json("--type", "diff", "--wal-wait", "2s")
        self.assertEqual(gap["type"], "full", out)
        self.assertRegex(out, r"taking a full backup instead of a differential one: the archived "
                              r"WAL between \S+ and \S+ on timeline 1 is not whole")

        self.assertEqual(capture.stop(), 0, capture.output())

    def test_a_page_failing_its_checksum_fails_the_incremental(self):
        pg = self.start_source(data_checksums=True)
        capture = self.capture(pg)
        pg.sql("CREATE TABLE t (id int PRIMARY KEY, pad text) WITH (autovacuum_enabled = off);"
               "INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g")
        full, _ = self.backup_json("--type", "full")
        # Block 0 changes (the WAL names it), reaches the disk, then is damaged there; the
        # server's clean copy in its buffers is never written back.
        pg.sql("UPDATE t SET pad = 'changed' WHERE id = 1; CHECKPOINT")
        path = os.path.join(pg.dir, "data", pg.sql("SELECT pg_relation_filepath('t')").strip())
        with open(path, "r+b") as f:
            f.seek(8000)
            byte = f.read(1)
            f.seek(8000)
            f.write(bytes([byte[0] ^ 0x55]))
        out = pitr("backup", "--archive", self.archive, "--source", pg.uri, "--type", "incr",
                   password=pg.password, check=False, timeout=600)
        self.assertEqual(out.returncode, 1, out.stderr)
        relative = os.path.relpath(path, os.path.join(pg.dir, "data"))
        self.assertRegex(out.stderr.decode(), rf"1 page of the server's data directory fails its "
                                              rf"checksum: {re.escape(relative)} block 0: checksum")
        self.assertEqual([b["id"] for b in self.status()[0]["backups"]], [full["id"]])
        # Asked to, it stores the page as it is.
        stored, err = self.backup_json("--type", "incr", "--no-verify-checksums")
        self.assertEqual((stored["type"], stored["parent"]), ("incr", full["id"]), err)
        self.assertEqual(self.manifest(stored["id"])["pages_checksummed"], 0)
        self.assertEqual(capture.stop(), 0, capture.output())

    def test_a_killed_incremental_run_again_uploads_only_what_is_missing(self):
        pg = self.start_source()
        capture = self.capture(pg)
        self.pgbench("-i", "-s", "10", "-q")
        pg.sql(TABLE_HASHES)
        full, _ = self.backup_json("--type", "full")
        # Pages that compress poorly, so that the killed run stores packs before the kill.
        pg.sql("UPDATE pgbench_accounts SET filler = md5(aid::text) || md5((aid * 7)::text) "
               "WHERE aid <= 300000")
        before = set(self.packs())
        first = subprocess.Popen(
            [PITR, *with_spool(["backup", "--archive", self.archive, "--source", pg.uri,
                                "--type", "incr", "--compression-level", "19",
                                "--pack-size", "1M"])],
            env=dict(os.environ, PITR_PASSWORD=pg.password), stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        wait_until(lambda: set(self.packs()) - before, timeout=120,
                   what="the first pack of the incremental")
        first.kill()
        first.wait()
        self.assertEqual(first.returncode, -signal.SIGKILL, "the incremental ended before the kill")
        self.assertEqual([b["id"] for b in self.status()[0]["backups"]], [full["id"]])
        kept = self.pack_bytes()
        again, out = self.backup_json("--type", "incr")
        self.assertEqual((again["type"], again["parent"]), ("incr", full["id"]), out)
        # Every block the killed run stored is used again, not stored again.
        self.assertGreater(kept, 0)
        self.assertLessEqual(again["bytes_stored"], self.pack_bytes() - kept)
        self.assert_no_block_stored_twice()
        expected = self.moment()
        self.wait_archived(pg)
        self.assertEqual(capture.stop(), 0, capture.output())
        server, log = self.restore("restore-resumed", "--backup", again["id"], "--immediate")
        try:
            self.assertEqual(server.sql("SELECT table_hashes()").strip(), expected["tables"], log)
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
