"""The archive in object storage: capture, backup, verify, get, status and restore of
MariaDB and PostgreSQL with `--archive s3://BUCKET/PREFIX` on a real Ceph RADOS Gateway
(scripts/ceph-instance), the open tail in a local spool. Credentials reach pitr through
AWS_* variables only, and a restored PostgreSQL server's restore_command through a file
only its OS user reads."""
import json
import os
import shutil
import subprocess
import time
import unittest

from harness import (Capture, ServerTestCase, Workload, free_port, in_use_flag_cleared, pitr,
                     shared_with_postgres, wait_until)

BUCKET = "pitr-archive"


class S3ArchiveTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.gateway = self.ceph(BUCKET)
        self.saved_env = {k: os.environ.get(k) for k in self.gateway.env()}
        os.environ.update(self.gateway.env())  # pitr and its children inherit them
        self.spool = os.path.join(self.tmp, "spool")

    def tearDown(self):
        for c in getattr(self, "captures", []):
            if c.alive():
                c.kill9()
        for k, v in self.saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        super().tearDown()

    def capture(self, url, server, *extra):
        c = Capture(url, server, "--spool", self.spool, *extra,
                    log_path=os.path.join(self.tmp, "capture.log"))
        self.captures = getattr(self, "captures", []) + [c]
        return c.wait_connected()

    def keys(self, prefix):
        """Every key under the bucket's prefix, through the gateway's admin tool."""
        out = subprocess.run(["radosgw-admin", "--conf", os.path.join(self.gateway.dir, "ceph.conf"),
                              "-n", "client.admin", "bucket", "list", "--bucket", BUCKET, "--max-entries", "100000"],
                             capture_output=True, text=True, check=True)
        return sorted(o["name"] for o in json.loads(out.stdout) if o["name"].startswith(prefix))


class MariaDBOnS3Test(S3ArchiveTestCase):
    def test_capture_backup_verify_get_and_restore(self):
        source = self.mariadb()
        url = f"s3://{BUCKET}/db1"
        capture = self.capture(url, source, "--segment-size", "64K", "--segment-time", "1")
        with Workload(source, seed=7):
            time.sleep(3)
            pitr("backup", "--archive", url, "--source", source.uri, "--jobs", "2",
                 password=source.password)
            time.sleep(3)
        source.sql("FLUSH BINARY LOGS; CREATE TABLE work.after (id INT PRIMARY KEY);"
                   "INSERT INTO work.after VALUES (1), (2), (3);")
        expected = source.sql("CHECKSUM TABLE work.orders, work.after EXTENDED")

        # While capture runs, the open tail is only in the spool: with --spool the readers
        # see it, and every binlog comes back byte for byte.
        names = source.binlogs()
        with_spool = ("--spool", self.spool)

        def caught_up():
            got = pitr("get", "--archive", url, *with_spool, names[-1], check=False).stdout
            return len(got) == os.path.getsize(source.binlog_path(names[-1]))
        wait_until(caught_up, 120, what="capture to reach the end of the active binlog")
        self.assertEqual(capture.stop(), 0, capture.output())

        # Stopped, capture sealed everything into the bucket: no spool needed any more.
        left = [f for _, _, files in os.walk(self.spool) for f in files if f != "capture.lock"]
        self.assertEqual(left, [], "capture stopped with open segments left in the spool")
        for name in names:
            with open(source.binlog_path(name), "rb") as f:
                want = f.read()
            got = pitr("get", "--archive", url, name).stdout
            if name == names[-1]:
                want, got = in_use_flag_cleared(want), in_use_flag_cleared(got)
            self.assertTrue(got == want, f"{name}: archived bytes differ from the server's")
        self.assertIn("archive OK", pitr("verify", "--archive", url).stdout.decode())
        status = json.loads(pitr("status", "--archive", url, "--json").stdout)
        self.assertEqual(len(status["backups"]), 1)
        self.assertEqual(status["archive"], url + "/")
        self.assertTrue(any(k.endswith(".seg.zst") for k in self.keys("db1/binlog/")))
        self.assertTrue(any(k.endswith("/manifest.json") for k in self.keys("db1/backups/")))

        target = self.mariadb(server_id=2)
        out = pitr("restore", "--archive", url, "--target", target.uri, password=target.password,
                   check=False)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        self.assertEqual(target.sql("CHECKSUM TABLE work.orders, work.after EXTENDED"), expected)


class PostgresOnS3Test(S3ArchiveTestCase):
    def test_capture_backup_and_restore_through_wal_fetch(self):
        pg = self.postgres("source")
        url = f"s3://{BUCKET}/pg1"
        capture = self.capture(url, pg)
        pg.sql("CREATE TABLE marker (id int PRIMARY KEY, note text);"
               "INSERT INTO marker SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g;")
        pitr("backup", "--archive", url, "--source", pg.uri, password=pg.password, timeout=600)
        for k in range(3):  # WAL after the backup, over several segments
            pg.sql(f"INSERT INTO marker SELECT g, repeat('y', 500) FROM "
                   f"generate_series({10000 * (k + 1)}, {10000 * (k + 1) + 3000}) g;"
                   "SELECT pg_switch_wal();")
        pg.sql("SELECT pg_create_restore_point('on-s3')")
        expected = pg.sql("SELECT count(*), md5(string_agg(id || note, ',' ORDER BY id)) "
                          "FROM marker").strip()
        pg.sql("INSERT INTO marker VALUES (-1, 'after the restore point'); SELECT pg_switch_wal();")
        lsn = pg.sql("SELECT pg_current_wal_lsn()").strip()

        def archived():
            status = json.loads(pitr("status", "--archive", url, "--json").stdout)["postgres"]
            return status and status[0]["timelines"] and \
                self.lsn(status[0]["timelines"][-1]["end_lsn"]) >= self.lsn(lsn)
        wait_until(archived, 120, what="the WAL to reach the bucket")
        self.assertEqual(capture.stop(), 0, capture.output())
        self.assertIn("archive OK", pitr("verify", "--archive", url).stdout.decode())
        self.assertTrue(any(k.endswith(".zst") for k in self.keys("pg1/wal/")))

        # The restore writes the credentials for wal-fetch beside the data directory, for the
        # server's OS user alone; postgresql.auto.conf names the file, never the secret.
        restored = shared_with_postgres(os.path.join(self.tmp, "restored"))
        pgdata = os.path.join(restored, "data")
        out = pitr("restore", "--archive", url, "--pgdata", pgdata, "--to-name", "on-s3",
                   check=False, timeout=600)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        with open(os.path.join(pgdata, "postgresql.auto.conf")) as f:
            conf = f.read()
        self.assertIn(url, conf)
        self.assertNotIn(self.gateway.secret_key, conf)
        credentials = pgdata + ".pitr-credentials"
        self.assertEqual(os.stat(credentials).st_mode & 0o777, 0o600)
        # The server runs without any AWS_* variable: only the file can reach the bucket.
        port = free_port()
        clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        started = pg.as_owner([pg.bin("pg_ctl"), "-D", pgdata, "-w", "-t", "300", "-o",
                               f"-p {port} -k {pgdata} -c listen_addresses=''", "-l",
                               os.path.join(pgdata, "server.log"), "start"], env=clean,
                              capture_output=True, text=True)
        try:
            self.assertEqual(started.returncode, 0, started.stdout + started.stderr)
            query = ["psql", "-X", "-At", "-h", pgdata, "-p", str(port), "-U", "postgres",
                     "-d", "postgres", "-c"]
            wait_until(lambda: pg.as_owner([pg.bin(query[0]), *query[1:],
                                            "SELECT NOT pg_is_in_recovery()"],
                                           capture_output=True, text=True).stdout.strip() == "t",
                       180, what="recovery from the bucket to finish")
            got = pg.as_owner([pg.bin(query[0]), *query[1:],
                               "SELECT count(*), md5(string_agg(id || note, ',' ORDER BY id)) "
                               "FROM marker"], capture_output=True, text=True).stdout.strip()
            self.assertEqual(got, expected)
        finally:
            pg.as_owner([pg.bin("pg_ctl"), "-D", pgdata, "-m", "immediate", "stop"],
                        capture_output=True)

    @staticmethod
    def lsn(text):
        hi, lo = text.split("/")
        return int(hi, 16) << 32 | int(lo, 16)


if __name__ == "__main__":
    unittest.main()
