"""Capture reads what a server says from its error codes (MySQL error numbers, PostgreSQL
SQLSTATEs), never from English message text: servers speaking German (lc_messages) are
refused, gapped and retried exactly as English ones. Also: a restart point that is itself
gone after --accept-gap ends capture instead of reconnecting in a tight loop."""
import os
import subprocess
import time
import unittest

from harness import (INSTANCE, Capture, ServerTestCase, archive_keys, fixtures_required, pitr,
                     shared_with_postgres, wait_until)


def german_locale_missing():
    out = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.lower()
    if "de_de.utf8" in out:
        return None
    return "locale de_DE.UTF-8 not generated (scripts/install-deps generates it)"


class MariaDBInGermanTest(ServerTestCase):
    def mariadb_de(self):
        server = self.mariadb(extra_args=("--lc-messages=de_DE",))
        said = subprocess.run([INSTANCE, "sql", server.dir], input="SELECT * FROM mysql.nope",
                              capture_output=True, text=True).stderr
        self.assertIn("existiert nicht", said, "the server should answer in German")
        return server

    def test_wrong_password_is_refused_at_once(self):
        server = self.mariadb_de()
        archive = os.path.join(self.tmp, "archive")
        start = time.monotonic()
        out = pitr("capture", "--archive", archive, "--source", server.uri, password="wrong",
                   check=False, timeout=60)
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn(b"Check the user and the password", out.stderr)
        self.assertLess(time.monotonic() - start, 20)

    def test_purged_binlog_is_a_gap_and_a_purged_restart_point_ends_capture(self):
        server = self.mariadb_de()
        archive = os.path.join(self.tmp, "archive")
        pitr("capture", "--archive", archive, "--source", server.uri, "--stop-at-end",
             password=server.password)
        server.sql("CREATE DATABASE work; CREATE TABLE work.t (id INT PRIMARY KEY);"
                   "INSERT INTO work.t VALUES (1); FLUSH BINARY LOGS; INSERT INTO work.t VALUES (2);"
                   "FLUSH BINARY LOGS;")
        purged = server.binlogs()[-2]
        server.purge_all_but_last_binlog()
        out = pitr("capture", "--archive", archive, "--source", server.uri, "--stop-at-end",
                   password=server.password, check=False, timeout=60)
        self.assertEqual(out.returncode, 3, out.stderr)
        self.assertIn(b"no longer has the binlog", out.stderr)
        self.assertEqual(len(archive_keys(archive, "gaps/")), 1)

        # --accept-gap from a --start-file the server purged as well: one more gap, then the
        # end, not a reconnect loop (without --stop-at-end capture would otherwise run on).
        capture = Capture(archive, server, "--accept-gap", "--start-file", purged,
                          password=server.password)
        start = time.monotonic()
        wait_until(lambda: not capture.alive(), 30, what="capture to give up")
        self.assertEqual(capture.proc.returncode, 3, capture.output())
        self.assertIn("gone from the server too", capture.output())
        self.assertLess(time.monotonic() - start, 30)
        capture.log.close()


@unittest.skipIf(german_locale_missing() and not fixtures_required(), german_locale_missing())
class PostgresInGermanTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.archive = shared_with_postgres(os.path.join(self.tmp, "archive"))

    def postgres_de(self):
        pg = self.postgres("source", settings=("lc_messages='de_DE.UTF-8'",))
        said = subprocess.run(
            ["runuser", "-u", "postgres", "--"] * (os.geteuid() == 0) +
            [pg.bin("psql"), "-X", "-h", pg.dir, "-p", str(pg.port), "-U", "postgres",
             "-c", "SELECT * FROM no_such_table"], capture_output=True, text=True).stderr
        self.assertIn("existiert nicht", said, "the server should answer in German")
        return pg

    def test_wrong_password_is_refused_at_once(self):
        pg = self.postgres_de()
        start = time.monotonic()
        capture = Capture(self.archive, pg, password="wrong")
        wait_until(lambda: not capture.alive(), 30, what="capture to refuse the password")
        self.assertEqual(capture.proc.returncode, 1, capture.output())
        self.assertIn("PITR_PASSWORD", capture.output())
        self.assertLess(time.monotonic() - start, 30)
        capture.log.close()

    def test_removed_wal_is_a_recorded_gap(self):
        pg = self.postgres_de()
        capture = Capture(self.archive, pg).wait_connected()
        pg.sql("CREATE TABLE marker (id int PRIMARY KEY); INSERT INTO marker VALUES (1)")
        time.sleep(1)
        self.assertEqual(capture.stop(), 0, capture.output())
        pg.lose_slot_wal()
        out = pitr("capture", "--archive", self.archive, "--source", pg.uri, "--stop-at-end",
                   password=pg.password, check=False, timeout=60)
        self.assertEqual(out.returncode, 3, out.stderr)
        self.assertIn("--accept-gap", out.stderr.decode())
        self.assertEqual(len(archive_keys(self.archive, "gaps/")), 1)


if __name__ == "__main__":
    unittest.main()
