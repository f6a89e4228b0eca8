"""PostgreSQL: WAL capture, base backups and point-in-time restore against real servers.

Every test starts its own PostgreSQL 15 on loopback (scripts/postgres-instance), writes with
pgbench and a marker table, and checks restored servers against ground truth recorded
while the workload ran.
"""
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tarfile
import threading
import time
import unittest

from harness import (ENCRYPTED, Capture, ServerTestCase, archive_keys, archive_object, free_port,
                     PITR, pitr, replace_archive_object, shared_with_postgres, stored_block_ids,
                     wait_until, with_spool)

# One fingerprint of everything pgbench and the markers wrote.
STATE = """SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
  SELECT 'a' || aid || ':' || abalance AS x FROM pgbench_accounts
  UNION ALL SELECT 't' || tid || ':' || tbalance FROM pgbench_tellers
  UNION ALL SELECT 'b' || bid || ':' || bbalance FROM pgbench_branches
  UNION ALL SELECT 'h' || count(*) FROM pgbench_history
  UNION ALL SELECT 'm' || id FROM marker) s"""
UTC_NOW = ("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
           "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")


def lsn_value(text):
    hi, lo = text.split("/")
    return int(hi, 16) << 32 | int(lo, 16)


class RestoredServer:
    """A server pitr restore --start left running; stopped by stop()."""

    def __init__(self, test, pgdata, port):
        self.test, self.pgdata, self.port = test, pgdata, port
        self.password = test.pg.password  # the restored cluster has the source's roles
        self.uri = f"postgres://pitr@127.0.0.1:{port}/postgres"

    def sql(self, statement, db="postgres"):
        out = self.test.pg.as_owner(
            [self.test.pg.bin("psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h",
             self.pgdata, "-p", str(self.port), "-U", "postgres", "-d", db, "-c",
             statement], capture_output=True, text=True)
        if out.returncode != 0:
            raise AssertionError(f"SQL on the restored server failed: {out.stderr}")
        return out.stdout

    def stop(self):
        self.test.pg.as_owner([self.test.pg.bin("pg_ctl"), "-D", self.pgdata, "-m", "immediate",
                               "-w", "stop"], capture_output=True)


class PostgresTestCase(ServerTestCase):
    def packs(self):
        """Stored packs (not a local store's temporary files)."""
        return [k for k in archive_keys(self.archive, "blocks/packs/")
                if k.endswith(".pack") and not os.path.basename(k).startswith(".")]

    def pack_bytes(self):
        return sum(len(archive_object(self.archive, k)) for k in self.packs())

    def assert_no_block_stored_twice(self):
        """No block was stored twice (unencrypted archives: the indexes are read at rest)."""
        ids = stored_block_ids(self.archive)
        if ids is not None:
            self.assertTrue(ids)
            self.assertEqual(len(ids), len(set(ids)), "a block was stored twice")

    def setUp(self):
        super().setUp()
        self.archive = self.new_archive(for_postgres=True)

    def tearDown(self):
        for c in getattr(self, "captures", []):
            if c.alive():
                c.kill9()
        super().tearDown()

    def capture(self, server, *extra):
        c = Capture(self.archive, server, *extra)
        self.captures = getattr(self, "captures", []) + [c]
        return c

    def start_source(self, settings=(), data_checksums=False):
        self.pg = self.postgres("source", settings, data_checksums)
        return self.pg

    def pgbench(self, *args):
        out = self.pg.as_owner([self.pg.bin("pgbench"), "-h", self.pg.dir, "-p", str(self.pg.port),
                                "-U", "postgres", *args, "postgres"], capture_output=True, text=True)
        if out.returncode != 0:
            raise AssertionError(f"pgbench failed: {out.stderr}")

    def backup(self):
        return pitr("backup", "--archive", self.archive, "--source", self.pg.uri,
                    password=self.pg.password, timeout=600)

    def status(self):
        """The archive's PostgreSQL sources; none before capture has created the archive."""
        out = pitr("status", "--archive", self.archive, "--json", check=False)
        if out.returncode != 0 and b"is not a pitr archive" in out.stderr:
            return []
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        return json.loads(out.stdout)["postgres"]

    def wait_archived(self, server, timeline=None):
        """Until the archive holds the server's WAL up to its current insert position."""
        want = lsn_value(server.sql("SELECT pg_current_wal_lsn()").strip())

        def caught_up():
            for source in self.status():
                for t in source["timelines"]:
                    if (timeline is None or t["timeline"] == timeline) and \
                            lsn_value(t["end_lsn"]) >= want:
                        return True
            return False
        wait_until(caught_up, timeout=120, what="capture to archive the WAL")

    def restore(self, name, *target):
        pgdata = os.path.join(self.tmp, name)
        port = free_port()
        out = pitr("restore", "--archive", self.archive, "--pgdata", pgdata, *target, "--start",
                   "--port", str(port), timeout=900)
        return RestoredServer(self, pgdata, port), out.stderr.decode()

    def check_segments_match_server(self, pg):
        """Sealed segments equal the server's own files; pg_waldump reads what pitr serves."""
        current = pg.sql("SELECT pg_walfile_name(pg_current_wal_lsn())").strip()
        sealed = sorted(k.split("/")[-1][:24] for k in archive_keys(self.archive, "wal/")
                        if re.fullmatch(r"[0-9A-F]{24}\.zst", k.split("/")[-1]))
        compared = 0
        for name in sealed:
            server_file = os.path.join(pg.wal_dir, name)
            if name >= current or not os.path.exists(server_file):
                continue  # recycled files carry future names and old bytes
            got = os.path.join(self.tmp, "got-" + name)
            pitr("get", "--archive", self.archive, name, "-o", got)
            with open(got, "rb") as a, open(server_file, "rb") as b:
                server_bytes = b.read()
                self.assertTrue(a.read() == server_bytes, f"{name} differs from the server's file")
            if compared == 0:  # to stdout as well, as a binlog is
                self.assertTrue(pitr("get", "--archive", self.archive, name).stdout == server_bytes,
                                f"{name} on stdout differs from the server's file")
                # -o writes through what it names (/dev/null, a FIFO, a symlink), never over it.
                target, link = got + ".target", got + ".link"
                os.symlink(target, link)
                pitr("get", "--archive", self.archive, name, "-o", link)
                self.assertTrue(os.path.islink(link), "pitr get -o replaced a symlink")
                with open(target, "rb") as t:
                    self.assertTrue(t.read() == server_bytes, f"{name} through a symlink differs")
            compared += 1
        self.assertGreaterEqual(compared, 2, f"sealed {sealed}, current {current}")
        waldir = shared_with_postgres(os.path.join(self.tmp, "waldump"))
        for name in sealed[-2:]:
            pitr("get", "--archive", self.archive, name, "-o", os.path.join(waldir, name))
        dump = subprocess.run([pg.bin("pg_waldump"), "--stats", "-p", waldir, sealed[-2],
                               sealed[-1]], capture_output=True, text=True)
        self.assertIn("Total", dump.stdout, dump.stderr)


class CaptureAndRestoreTest(PostgresTestCase):
    def test_restores_to_moments_by_time_lsn_and_xid(self):
        pg = self.start_source()
        capture = self.capture(pg)
        self.pgbench("-i", "-s", "1", "-q")
        pg.sql("CREATE TABLE marker (id int PRIMARY KEY)")
        self.backup()
        moments, backup_thread, errors = [], None, []
        for k in range(1, 13):
            if k == 6:  # a second base backup while pgbench writes
                backup_thread = threading.Thread(
                    target=lambda: errors.append(None) if self.backup() else None)
                backup_thread.start()
            self.pgbench("-n", "-c", "2", "-t", "150")
            xid = pg.sql(f"INSERT INTO marker VALUES ({k}) RETURNING txid_current()").split()[0]
            moments.append({"k": k, "xid": xid, "state": pg.sql(STATE).strip(),
                            "lsn": pg.sql("SELECT pg_current_wal_lsn()").strip(),
                            "time": pg.sql(UTC_NOW).strip()})
        backup_thread.join()
        pg.sql("SELECT pg_create_restore_point('after-all')")
        final_state = pg.sql(STATE).strip()
        self.pgbench("-n", "-c", "2", "-t", "50")
        self.wait_archived(pg)
        self.assertEqual(len(self.status()[0]["backups"]), 2)
        # One tar of a backup, decompressed (and decrypted) as the server sent it.
        backup_id = self.status()[0]["backups"][0]["id"]
        tar = pitr("get", "--archive", self.archive, "--backup", backup_id, "base.tar").stdout
        with tarfile.open(fileobj=io.BytesIO(tar)) as t:
            self.assertIn("PG_VERSION", t.getnames())

        self.check_segments_match_server(pg)

        kinds = [("--to-time", "time"), ("--to-lsn", "lsn"), ("--to-xid", "xid")]
        for i, m in enumerate(moments):
            option, key = kinds[i % 3]
            server, log = self.restore(f"restore-{m['k']}", option, m[key])
            try:
                self.assertEqual(server.sql(STATE).strip(), m["state"],
                                 f"moment {m['k']} restored by {option} {m[key]}:\n{log}")
            finally:
                server.stop()
                shutil.rmtree(server.pgdata, ignore_errors=True)
        server, _ = self.restore("restore-name", "--to-name", "after-all")
        self.assertEqual(server.sql(STATE).strip(), final_state)
        server.stop()

        self.assertEqual(capture.stop(), 0, capture.output())
        verify = pitr("verify", "--archive", self.archive)
        self.assertIn("archive OK", verify.stdout.decode())

    def test_refusals(self):
        pg = self.start_source()
        capture = self.capture(pg)
        pg.sql("CREATE TABLE marker (id int)")
        self.wait_archived(pg)
        target = os.path.join(self.tmp, "not-empty")
        os.makedirs(target)
        open(os.path.join(target, "PG_VERSION"), "w").close()
        out = pitr("restore", "--archive", self.archive, "--pgdata", target, check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("no base backup", out.stderr.decode())
        self.backup()
        pg.sql("INSERT INTO marker VALUES (1)")
        self.wait_archived(pg)
        for args, message in [
                ((), "not empty"),
                (("--to-time", "2099-01-01T00:00:00Z"), "after the newest transaction"),
                (("--to-xid", "4000000000"), "does not commit"),
                (("--to-name", "nowhere"), "no restore point"),
                (("--to-lsn", "FF/0"), "beyond the WAL")]:
            out = pitr("restore", "--archive", self.archive, "--pgdata", target, *args, check=False)
            self.assertNotEqual(out.returncode, 0, args)
            self.assertIn(message, out.stderr.decode(), args)
        out = pitr("wal-fetch", "--archive", self.archive, "00000009000000000000FFFF",
                   os.path.join(self.tmp, "x"), check=False)
        self.assertEqual(out.returncode, 1)
        self.assertEqual(capture.stop(), 0, capture.output())
        bad = pitr("capture", "--archive", self.archive, "--source", pg.uri, password="wrong",
                   check=False, timeout=60)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("password", bad.stderr.decode())


class BlockStoreTest(PostgresTestCase):
    """Base backups in the block store (docs/archive-format.md): a second backup stores only the
    pages that changed; a damaged block is named by verify and refused by restore."""

    def manifest(self, backup_id):
        return json.loads(pitr("get", "--archive", self.archive, "--backup", backup_id,
                               "manifest.json").stdout)

    def json_backup(self, *args):
        return json.loads(pitr("backup", "--archive", self.archive, "--source", self.pg.uri,
                               "--json", *args, password=self.pg.password, timeout=600).stdout)

    def wal_segments(self):
        """The names of the sealed WAL segments, sorted."""
        return sorted(os.path.basename(k) for k in archive_keys(self.archive, "wal/")
                      if re.fullmatch(r"[0-9A-F]{24}(\.partial)?\.zst", os.path.basename(k)))

    def stored(self, backup_id):
        return sum(a["stored_bytes"] for a in self.manifest(backup_id)["archives"])

    def test_second_backup_stores_changed_pages_only_and_damage_is_named(self):
        pg = self.start_source()
        capture = self.capture(pg)
        self.pgbench("-i", "-s", "3", "-q")
        pg.sql("CREATE TABLE marker (id int PRIMARY KEY)")
        first = self.json_backup()
        self.pgbench("-n", "-c", "2", "-t", "100")
        second = self.json_backup("--type", "full")
        self.assertEqual((second["type"], second["method"]), ("full", "physical"))
        self.assertEqual(self.stored(second["id"]), second["bytes_stored"])
        first, second = first["id"], second["id"]
        state = pg.sql(STATE).strip()
        self.wait_archived(pg)
        self.assertEqual(capture.stop(), 0, capture.output())
        m = self.manifest(second)
        self.assertEqual(m["version"], 2)
        self.assertEqual({a["storage"] for a in m["archives"]}, {"blocks"})
        # 200 pgbench transactions touch a few hundred of the ~6000 pages: a small part is new.
        self.assertGreater(self.stored(first), 1 << 20)
        self.assertLess(self.stored(second), self.stored(first) / 4,
                        f"first {self.stored(first)}, second {self.stored(second)}")
        server, log = self.restore("restore-second")
        try:
            self.assertEqual(server.sql(STATE).strip(), state, log)
        finally:
            server.stop()
        self.assertIn("archive OK", pitr("verify", "--archive", self.archive).stdout.decode())

        # A flipped byte in the middle of a pack (inside a block's frame).
        packs = archive_keys(self.archive, "blocks/packs/")
        self.assertTrue(packs)
        pack = max(packs, key=lambda k: len(archive_object(self.archive, k)))
        data = bytearray(archive_object(self.archive, pack))
        data[len(data) // 3] ^= 0x20
        replace_archive_object(self.archive, pack, bytes(data))
        verify = pitr("verify", "--archive", self.archive, check=False)
        self.assertEqual(verify.returncode, 1, verify.stdout.decode())
        named = re.search(rf"backups/({first}|{second})/base.tar.blocks.json.zst: file \S+",
                          verify.stdout.decode())
        self.assertTrue(named, verify.stdout.decode())
        out = pitr("restore", "--archive", self.archive, "--pgdata",
                   os.path.join(self.tmp, "refused"), "--backup", named.group(1), check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertRegex(out.stderr.decode(), r"file \S+: .*block [0-9a-f]{64}")


    def test_a_killed_backup_run_again_uploads_only_what_is_missing(self):
        pg = self.start_source()
        capture = self.capture(pg)
        self.pgbench("-i", "-s", "10", "-q")
        pg.sql("CREATE TABLE marker (id int PRIMARY KEY)")
        # zstd level 19 and small packs: the first run is killed after its first packs.
        env = dict(os.environ, PITR_PASSWORD=pg.password)
        first = subprocess.Popen([PITR, *with_spool(
            ["backup", "--archive", self.archive, "--source", pg.uri, "--compression-level",
             "19", "--pack-size", "1M"])], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until(lambda: self.packs(), timeout=120, what="the first pack of the backup")
        first.kill()
        first.wait()
        self.assertEqual(first.returncode, -signal.SIGKILL, "the backup ended before the kill")
        kept = self.pack_bytes()
        self.assertGreater(kept, 0)
        again = self.json_backup()
        total = self.pack_bytes()
        # Every block the killed run stored is used again, not uploaded again.
        self.assertLessEqual(again["bytes_stored"], total - kept)
        self.assert_no_block_stored_twice()
        self.assertGreater(again["bytes_read"], kept)
        state = pg.sql(STATE).strip()
        self.wait_archived(pg)
        self.assertEqual(capture.stop(), 0, capture.output())
        self.assertIn("archive OK", pitr("verify", "--archive", self.archive).stdout.decode())
        server, log = self.restore("after-resume")
        try:
            self.assertEqual(server.sql(STATE).strip(), state, log)
        finally:
            server.stop()

    def test_expire_removes_a_backup_and_the_blocks_only_it_used(self):
        pg = self.start_source()
        capture = self.capture(pg)
        self.pgbench("-i", "-s", "2", "-q")
        pg.sql("CREATE TABLE marker (id int PRIMARY KEY)")
        first = self.backup().stdout.decode().split()[1]
        # Every page of pgbench_accounts changes: the first backup's copies are its alone.
        pg.sql("UPDATE pgbench_accounts SET abalance = abalance + 1")
        pg.sql("CHECKPOINT")
        # WAL segments that only the first backup needs.
        for _ in range(3):
            pg.sql("INSERT INTO marker SELECT coalesce(max(id), 0) + 1 FROM marker; "
                   "SELECT pg_switch_wal()")
        second = self.backup().stdout.decode().split()[1]
        state = pg.sql(STATE).strip()
        self.wait_archived(pg)
        self.assertEqual(capture.stop(), 0, capture.output())
        packs = self.packs()
        stored = self.pack_bytes()
        wal = self.wal_segments()
        second_start = next(b["start_lsn"] for b in self.status()[0]["backups"]
                            if b["id"] == second)
        hi, lo = (int(x, 16) for x in second_start.split("/"))
        first_kept = ((hi << 32) | lo) // (16 << 20)
        # 16 MiB segments: 256 to each 4 GiB "log" of the file name.
        needed = [w for w in wal if int(w[8:16], 16) * 256 + int(w[16:24], 16) >= first_kept]
        self.assertGreaterEqual(len(wal) - len(needed), 3, wal)

        dry = pitr("expire", "--archive", self.archive, "--keep", "1", "--dry-run").stdout.decode()
        self.assertIn(f"would expire {first}", dry)
        self.assertIn("nothing changed (dry run)", dry)
        self.assertRegex(dry, rf"{len(wal) - len(needed)} WAL segments? .* would be removed; "
                              r"kept from segment")
        self.assertEqual(self.packs(), packs)
        self.assertEqual(self.wal_segments(), wal)
        out = pitr("expire", "--archive", self.archive, "--keep", "1").stdout.decode()
        self.assertIn(f"expire {first}", out)
        self.assertRegex(out, r"[1-9]\d* no longer needed \([\d.]+ MiB\).*; deleted")
        # The old copies of every pgbench_accounts page were the first backup's alone.
        self.assertLess(self.pack_bytes(), stored * 0.8, out)
        self.assertEqual([b["id"] for b in self.status()[0]["backups"]], [second])
        self.assertEqual(archive_keys(self.archive, f"backups/{first}/"), [])
        # The WAL from before the second backup's start went with the first backup.
        self.assertRegex(out, rf"{len(wal) - len(needed)} WAL segments? .* removed; "
                              r"kept from segment")
        self.assertEqual(self.wal_segments(), needed)
        self.assertIn("archive OK", pitr("verify", "--archive", self.archive).stdout.decode())
        # Nothing more to expire: a second run changes nothing.
        left = self.packs()
        again = pitr("expire", "--archive", self.archive, "--keep", "1").stdout.decode()
        self.assertIn("0 no longer needed", again)
        self.assertEqual(self.packs(), left)
        server, log = self.restore("after-expire")
        try:
            self.assertEqual(server.sql(STATE).strip(), state, log)
        finally:
            server.stop()


class CrashSafetyTest(PostgresTestCase):
    def test_kill9_as_synchronous_standby(self):
        pg = self.start_source()
        capture = self.capture(pg, "--sync")
        # Only now: with no synchronous standby connected, every commit would wait.
        pg.sql("ALTER SYSTEM SET synchronous_standby_names = 'pitr'; SELECT pg_reload_conf()")
        wait_until(lambda: pg.sql("SELECT sync_state FROM pg_stat_replication").strip() == "sync",
                   what="pitr to be the synchronous standby")
        self.pgbench("-i", "-s", "1", "-q")
        pg.sql("CREATE TABLE marker (id int PRIMARY KEY); CREATE TABLE acked (id serial PRIMARY KEY)")
        self.backup()
        acked, stop = [], threading.Event()

        def client():
            while not stop.is_set():
                acked.append(pg.sql("INSERT INTO acked DEFAULT VALUES RETURNING txid_current()")
                             .split()[0])
        writer = threading.Thread(target=client)
        writer.start()
        bench = subprocess.Popen(
            ["runuser", "-u", "postgres", "--"] * (os.geteuid() == 0) +
            [pg.bin("pgbench"), "-h", pg.dir, "-p", str(pg.port), "-U", "postgres", "-n", "-c", "2",
             "-T", "25", "postgres"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for i in range(5):
            time.sleep(2)
            capture.kill9()
            # No commit can be acknowledged now: pitr is the synchronous standby. What the
            # killed capture left must hold the last one (looked up before a new capture
            # could add anything).
            last = acked[-1] if acked else None
            self.assertIsNotNone(last)
            found = pitr("restore", "--archive", self.archive, "--pgdata",
                         os.path.join(self.tmp, "unused"), "--to-xid", last, "--dry-run",
                         check=False)
            self.assertEqual(found.returncode, 0,
                             f"acknowledged transaction {last} missing after kill -9 #{i + 1}: "
                             f"{found.stderr.decode()}")
            capture = self.capture(pg, "--sync")
        bench.wait()
        stop.set()
        writer.join()
        self.wait_archived(pg)
        self.assertEqual(capture.stop(), 0, capture.output())
        self.assertIn("archive OK", pitr("verify", "--archive", self.archive).stdout.decode())
        server, _ = self.restore("latest")
        try:
            self.assertEqual(server.sql("SELECT count(*) FROM acked").strip(), str(len(acked)))
            self.assertEqual(server.sql(STATE.replace("marker", "acked")).strip(),
                             pg.sql(STATE.replace("marker", "acked")).strip())
        finally:
            server.stop()

    def test_kill9_just_after_segment_switches(self):
        """kill -9 within 0-100 ms of pg_switch_wal() during pgbench: every restart resumes,
        the archive verifies, and its segments equal the server's."""
        pg = self.start_source()
        self.pgbench("-i", "-s", "1", "-q")
        seed = int(os.environ.get("PITR_TEST_SEED", time.time()))
        rng = random.Random(seed)
        bench = subprocess.Popen(
            ["runuser", "-u", "postgres", "--"] * (os.geteuid() == 0) +
            [pg.bin("pgbench"), "-h", pg.dir, "-p", str(pg.port), "-U", "postgres", "-n", "-c", "2",
             "-T", "600", "postgres"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for i in range(20):
                capture = self.capture(pg).wait_connected()
                self.wait_archived(pg)  # streaming, caught up
                pg.sql("SELECT pg_switch_wal()")
                time.sleep(rng.uniform(0, 0.1))
                capture.kill9()
                self.assertNotIn("reconnecting", capture.this_run(), f"seed {seed}")
                verify = pitr("verify", "--archive", self.archive, check=False)
                self.assertIn("archive OK", verify.stdout.decode(),
                              f"after kill #{i + 1} (seed {seed}): {verify.stdout.decode()}"
                              f"{verify.stderr.decode()}")
            capture = self.capture(pg).wait_connected()
        finally:
            bench.terminate()
            bench.wait()
        pg.sql("SELECT pg_switch_wal()")
        self.wait_archived(pg)
        self.assertEqual(capture.stop(), 0, capture.output())
        self.assertIn("archive OK", pitr("verify", "--archive", self.archive).stdout.decode())
        self.check_segments_match_server(pg)


class ServerFailureTest(PostgresTestCase):
    def walsender(self, pg):
        pid = pg.sql("SELECT pid FROM pg_stat_replication WHERE application_name = 'pitr'").strip()
        return int(pid) if pid else None

    def test_killed_connection_server_restart_and_frozen_walsender(self):
        """Capture (heartbeat 1 s) reconnects after each failure with no gap in the archive."""
        pg = self.start_source()
        capture = self.capture(pg)
        self.pgbench("-i", "-s", "1", "-q")
        pg.sql("CREATE TABLE marker (id int PRIMARY KEY)")
        self.backup()

        def write(k):
            self.pgbench("-n", "-c", "2", "-t", "100")
            pg.sql(f"INSERT INTO marker VALUES ({k})")
            wait_until(lambda: self.walsender(pg), what="capture to stream")

        write(1)
        pg.sql(f"SELECT pg_terminate_backend({self.walsender(pg)})")
        write(2)
        pg.stop()
        pg.start()
        write(3)
        frozen = self.walsender(pg)
        os.kill(frozen, signal.SIGSTOP)  # the socket stays open and says nothing, as in a cut
        try:
            wait_until(lambda: "no answer from the server" in capture.output(), 30,
                       what="capture to notice the silent walsender")
        finally:
            os.kill(frozen, signal.SIGCONT)
        write(4)
        self.wait_archived(pg)
        self.assertTrue(capture.alive(), capture.output())
        log = capture.output()
        self.assertGreaterEqual(log.count("reconnecting"), 3, log)
        self.assertEqual(capture.stop(), 0, log)
        self.assertIn("archive OK", pitr("verify", "--archive", self.archive).stdout.decode())
        server, _ = self.restore("latest")
        try:
            self.assertEqual(server.sql(STATE).strip(), pg.sql(STATE).strip())
            self.assertEqual(server.sql("SELECT string_agg(id::text, ',' ORDER BY id) FROM marker")
                             .strip(), "1,2,3,4")
        finally:
            server.stop()


class GapTest(PostgresTestCase):
    MARKERS = "SELECT string_agg(id::text, ',' ORDER BY id) FROM marker"

    def test_invalidated_slot_is_a_recorded_gap_and_accept_gap_goes_on(self):
        pg = self.start_source()
        capture = self.capture(pg)
        pg.sql("CREATE TABLE marker (id int PRIMARY KEY); INSERT INTO marker VALUES (1)")
        self.backup()
        xid = pg.sql("INSERT INTO marker VALUES (2) RETURNING txid_current()").split()[0]
        before_gap = pg.sql(UTC_NOW).strip()
        self.wait_archived(pg)
        self.assertEqual(capture.stop(), 0, capture.output())

        # While capture is down the slot may keep only 1 MB: the next checkpoint drops it.
        pg.lose_slot_wal()

        for attempt in range(2):  # the same gap is recorded once
            out = pitr("capture", "--archive", self.archive, "--source", pg.uri, "--stop-at-end",
                       password=pg.password, check=False, timeout=60)
            self.assertEqual(out.returncode, 3, out.stderr)
            self.assertIn("has already been removed", out.stderr.decode())
            self.assertIn("--accept-gap", out.stderr.decode())
        self.assertEqual(len(archive_keys(self.archive, "gaps/")), 1)
        verify = pitr("verify", "--archive", self.archive, check=False)
        self.assertEqual(verify.returncode, 1)
        self.assertIn("recorded gap", verify.stdout.decode())

        capture = self.capture(pg, "--accept-gap")
        pg.sql("INSERT INTO marker VALUES (3)")
        self.wait_archived(pg)
        self.assertEqual(pg.sql("SELECT wal_status FROM pg_replication_slots").strip(), "reserved")
        self.backup()
        pg.sql("INSERT INTO marker VALUES (4)")
        after_gap, at_after_gap = pg.sql(UTC_NOW).strip(), pg.sql(self.MARKERS).strip()
        pg.sql("INSERT INTO marker VALUES (5)")
        self.wait_archived(pg)
        self.assertEqual(capture.stop(), 0, capture.output())
        self.assertIn("--accept-gap: going on past the gap", capture.output())

        # Whether the lost WAL committed anything before this moment cannot be known.
        out = pitr("restore", "--archive", self.archive, "--pgdata",
                   os.path.join(self.tmp, "refused"), "--to-time", before_gap, check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("falls in a gap", out.stderr.decode())
        for name, target, want in [("before-gap", ("--to-xid", xid), "1,2"),
                                   ("after-gap", ("--to-time", after_gap), at_after_gap),
                                   ("latest", (), pg.sql(self.MARKERS).strip())]:
            server, log = self.restore(name, *target)
            try:
                self.assertEqual(server.sql(self.MARKERS).strip(), want, f"{name}: {log}")
            finally:
                server.stop()


class TimelineTest(PostgresTestCase):
    def test_archive_continues_on_the_restored_servers_timeline(self):
        pg = self.start_source()
        capture = self.capture(pg)
        pg.sql("CREATE TABLE marker (id int PRIMARY KEY)")
        self.backup()
        pg.sql("INSERT INTO marker VALUES (1); INSERT INTO marker VALUES (2)")
        moment = pg.sql(UTC_NOW).strip()
        time.sleep(0.2)
        pg.sql("INSERT INTO marker VALUES (3)")
        self.wait_archived(pg)
        self.assertEqual(capture.stop(), 0, capture.output())
        pg.stop()

        branch, _ = self.restore("branch", "--to-time", moment)
        try:
            self.assertEqual(branch.sql("SELECT string_agg(id::text, ',' ORDER BY id) FROM marker")
                             .strip(), "1,2")
            capture = self.capture(branch)
            branch.sql("INSERT INTO marker VALUES (100)")
            self.wait_archived(branch, timeline=2)
            self.assertEqual(capture.stop(), 0, capture.output())
        finally:
            branch.stop()
        timelines = [t["timeline"] for t in self.status()[0]["timelines"]]
        self.assertEqual(timelines, [1, 2])
        self.assertIn("archive OK", pitr("verify", "--archive", self.archive).stdout.decode())
        latest, log = self.restore("latest")
        try:
            self.assertEqual(latest.sql("SELECT string_agg(id::text, ',' ORDER BY id) FROM marker")
                             .strip(), "1,2,100", log)
        finally:
            latest.stop()


class TablespaceTest(PostgresTestCase):
    SPACED = "SELECT md5(string_agg(id || ':' || note, ',' ORDER BY id)) FROM spaced"

    def owned_by_server(self, path):
        os.makedirs(path)
        if os.geteuid() == 0:
            shutil.chown(path, user="postgres", group="postgres")
        return path

    def test_tablespace_restored_to_mapped_and_original_location(self):
        pg = self.start_source()
        location = self.owned_by_server(os.path.join(self.tmp, "tablespace"))
        capture = self.capture(pg)
        pg.sql(f"CREATE TABLESPACE extra LOCATION '{location}'")
        pg.sql("CREATE TABLE spaced (id int PRIMARY KEY, note text) TABLESPACE extra; "
               "INSERT INTO spaced SELECT g, md5(g::text) FROM generate_series(1, 5000) g")
        self.backup()
        # After the backup: replay must write into the restored tablespace too.
        pg.sql("INSERT INTO spaced SELECT g, md5(g::text) FROM generate_series(5001, 6000) g; "
               "CREATE TABLE spaced_later TABLESPACE extra AS SELECT * FROM spaced")
        want = pg.sql(self.SPACED).strip()
        oid = pg.sql("SELECT oid FROM pg_tablespace WHERE spcname = 'extra'").strip()
        self.wait_archived(pg)
        self.assertEqual(capture.stop(), 0, capture.output())

        [manifest_key] = [k for k in archive_keys(self.archive, "backups/")
                          if k.endswith("/manifest.json")]
        backup_dir = manifest_key[:-len("manifest.json")]
        if not ENCRYPTED:  # the manifest read by hand
            manifest = json.loads(archive_object(self.archive, manifest_key))
            spaces = [a for a in manifest["archives"] if a["tablespace_oid"]]
            self.assertEqual([(a["tablespace_oid"], a["tablespace_path"]) for a in spaces],
                             [(oid, location)])
        self.assertIn("archive OK", pitr("verify", "--archive", self.archive).stdout.decode())

        # The source still uses the original location: restore refuses to write there.
        refused = pitr("restore", "--archive", self.archive, "--pgdata",
                       os.path.join(self.tmp, "refused"), check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn(f"tablespace location {location} exists and is not empty",
                      refused.stderr.decode())
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "refused")))

        moved = os.path.join(self.tmp, "moved-tablespace")
        self.check_restored("mapped", moved, oid, want, "--tablespace-map", f"{location}={moved}")

        pg.stop()
        os.rename(location, location + ".source")
        self.check_restored("original", location, oid, want)

        # A data file of the tablespace given another file's content (its block list), every
        # block intact: verify still finds it through the server's manifest. (An encrypted
        # archive cannot be changed so by hand; test_encryption tampers with it.)
        if ENCRYPTED:
            return
        damaged = self.swap_in_other_content(backup_dir, spaces[0]["file"])
        out = pitr("verify", "--archive", self.archive, check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(f"pg_tblspc/{oid}/{damaged} fails the CRC-32C in the server's manifest",
                      out.stdout.decode() + out.stderr.decode())

    def member_list(self, key):
        return json.loads(subprocess.run(["zstd", "-d", "-q", "-c"],
                                         input=archive_object(self.archive, key), check=True,
                                         capture_output=True).stdout)

    def swap_in_other_content(self, backup_dir, stored):
        """Gives the tablespace's first one-page file the block list of a one-page file of
        the data directory with other content; returns the changed file's name."""
        spaced = self.member_list(backup_dir + stored)
        base = self.member_list(backup_dir + "base.tar.blocks.json.zst")
        page = [m for m in spaced if m["type"] == "file" and m["size"] == 8192][0]
        other = [m for m in base if m["type"] == "file" and m["size"] == 8192
                 and m["lists"] != page["lists"]][0]
        page["lists"] = other["lists"]
        replace_archive_object(self.archive, backup_dir + stored, subprocess.run(
            ["zstd", "-q", "-c"], input=json.dumps(spaced).encode(), check=True,
            capture_output=True).stdout)
        return page["name"]

    def check_restored(self, name, location, oid, want, *args):
        server, log = self.restore(name, *args)
        try:
            self.assertEqual(server.sql(self.SPACED).strip(), want, log)
            self.assertEqual(server.sql("SELECT count(*) FROM spaced_later").strip(), "6000")
            self.assertEqual(server.sql(f"SELECT pg_tablespace_location({oid})").strip(),
                             location)
            self.assertEqual(os.readlink(os.path.join(server.pgdata, "pg_tblspc", oid)),
                             location)
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
