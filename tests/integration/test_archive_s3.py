"""The archive in object storage: capture, backup, verify, get, status and restore of
MariaDB and PostgreSQL with `--archive s3://BUCKET/PREFIX` on a real Ceph RADOS Gateway
(scripts/ceph-instance), the open tail in a local spool. Credentials reach pitr through
AWS_* variables only, and a restored PostgreSQL server's restore_command through a file
only its OS user reads."""
import json
import os
import re
import shutil
import socket
import subprocess
import time
import unittest

from fault_proxy import FaultPlan, FaultProxy
from harness import (PITR, Capture, ServerTestCase, Workload, free_port, in_use_flag_cleared, pitr,
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

    def assert_planned_from_record_catalogs(self, url, catalogs, sealed):
        """Capture stored record catalogs, and status builds its catalog from them: not one
        index record is read from a sealed object (a ranged GET, answered 206)."""
        self.assertTrue(self.keys(catalogs), f"no record catalog under {catalogs}")
        log_start = len(self.gateway.log())
        pitr("status", "--archive", url)
        ranged = [line for line in self.gateway.log()[log_start:].splitlines()
                  if re.search(r'"GET /[^ ]+' + sealed + r' HTTP/1\.1" 206 ', line)]
        self.assertEqual(ranged, [])

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
        self.assert_planned_from_record_catalogs(url, "db1/catalogs/binlog/", r"\.seg\.zst")

        target = self.mariadb(server_id=2)
        log_start = len(self.gateway.log())
        out = pitr("restore", "--archive", url, "--target", target.uri, password=target.password,
                   check=False)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        self.assertEqual(target.sql("CHECKSUM TABLE work.orders, work.after EXTENDED"), expected)

        # The restore reads its segments twice (to plan, to apply) but downloads each once:
        # whole-object GETs (200, not a ranged 206 for an index record) in the gateway's log.
        downloads = {}
        for line in self.gateway.log()[log_start:].splitlines():
            m = re.search(r'"GET /[^ ]+/(binlog/[^ ]+\.seg\.zst) HTTP/1\.1" 200 ', line)
            if m:
                downloads[m.group(1)] = downloads.get(m.group(1), 0) + 1
        self.assertGreater(len(downloads), 3, downloads)
        self.assertEqual(max(downloads.values()), 1, downloads)


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
        self.assert_planned_from_record_catalogs(url, "pg1/catalogs/wal/", r"wal/[^ ]+\.zst")

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


class GatewayOutageTest(S3ArchiveTestCase):
    def test_gateway_killed_and_restarted_during_capture_and_restore(self):
        source = self.mariadb()
        url = f"s3://{BUCKET}/outage"
        capture = self.capture(url, source, "--segment-size", "256K", "--segment-time", "1")
        pitr("backup", "--archive", url, "--source", source.uri, password=source.password)
        with Workload(source, seed=11):
            time.sleep(3)
            self.gateway.stop_gateway(kill=True)  # sealed segments wait, the spool grows
            time.sleep(8)
            self.assertTrue(capture.alive(), capture.output())
            self.gateway.start_gateway()
            time.sleep(4)
        source.sql("FLUSH BINARY LOGS")
        expected = source.sql("CHECKSUM TABLE work.orders EXTENDED")
        done = source.binlogs()[-2]  # complete now; capture catches up with its backlog

        def caught_up():
            got = pitr("get", "--archive", url, "--spool", self.spool, done, "-o", os.devnull,
                       check=False)
            return got.returncode == 0 and len(pitr("get", "--archive", url, "--spool",
                                                    self.spool, done).stdout) == \
                os.path.getsize(source.binlog_path(done))
        wait_until(caught_up, 300, interval=1, what="capture to catch up after the outage")
        self.assertEqual(capture.stop(), 0, capture.output())
        self.assertIn("archive OK", pitr("verify", "--archive", url).stdout.decode())
        for name in source.binlogs()[:-1]:
            self.assert_same_binlog(url, source, name, capture)

        # A restore that finds the gateway gone retries until it is back, and finishes.
        target = self.mariadb(server_id=2)
        self.gateway.stop_gateway(kill=True)
        restore = subprocess.Popen([PITR, "restore", "--archive", url, "--target", target.uri],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=dict(os.environ, PITR_PASSWORD=target.password))
        time.sleep(4)
        self.assertIsNone(restore.poll(), "restore did not wait for the gateway")
        self.gateway.start_gateway()
        _, err = restore.communicate(timeout=600)
        self.assertEqual(restore.returncode, 0, err.decode())
        self.assertEqual(target.sql("CHECKSUM TABLE work.orders EXTENDED"), expected)

        # Gone for longer than --s3-timeout: a clear error and exit 1, nothing claimed.
        self.gateway.stop_gateway(kill=True)
        out = pitr("verify", "--archive", url, "--s3-timeout", "3", check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("gave up after", out.stderr.decode())
        self.gateway.start_gateway()


    def assert_same_binlog(self, url, source, name, capture):
        """The archived file equals the server's; else says where they part, with the log."""
        with open(source.binlog_path(name), "rb") as f:
            want = f.read()
        got = pitr("get", "--archive", url, name).stdout
        if got == want:
            return
        at = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]),
                  min(len(got), len(want)))
        status = pitr("status", "--archive", url, "--json").stdout.decode()
        self.fail(f"{name}: archived bytes differ from the server's: {len(got)} vs {len(want)} "
                  f"bytes, first difference at offset {at}\ncapture log:\n{capture.output()}"
                  f"\nstatus:\n{status}")


class TwoCapturesTest(S3ArchiveTestCase):
    def start(self, url, source, spool, *prefix):
        """A capture, optionally run through `prefix` (e.g. in another UTS namespace); its
        output goes to proc.log_path."""
        log_path = os.path.join(self.tmp, f"capture-{len(getattr(self, 'procs', []))}.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([*prefix, PITR, "capture", "--archive", url, "--source",
                                     source.uri, "--spool", spool, "--heartbeat", "1",
                                     "--lease-time", "5", "--segment-size", "1M"],
                                    stdout=log, stderr=subprocess.STDOUT,
                                    env=dict(os.environ, PITR_PASSWORD=source.password))
        proc.log_path = log_path
        self.procs = getattr(self, "procs", []) + [proc]
        return proc

    @staticmethod
    def output(proc):
        with open(proc.log_path, errors="replace") as f:
            return f.read()

    def tearDown(self):
        for p in getattr(self, "procs", []):
            if p.poll() is None:
                p.kill()
                p.wait()
        super().tearDown()

    def test_second_refuses_and_takes_over_when_the_holder_dies(self):
        source = self.mariadb()
        url = f"s3://{BUCKET}/two"
        spools = [os.path.join(self.tmp, f"spool{i}") for i in range(4)]
        with Workload(source, seed=3):
            first = self.start(url, source, spools[0])
            time.sleep(3)
            second = self.start(url, source, spools[1])
            self.assertEqual(second.wait(timeout=60), 1)
            refusal = self.output(second)
            self.assertIn("another pitr capture is writing", refusal)
            self.assertIn(f"pid {first.pid}", refusal)
            self.assertIn(socket.gethostname(), refusal)

            # Killed on this host: the next capture sees its process is gone and takes over.
            first.kill()
            first.wait()
            third = self.start(url, source, spools[2])
            time.sleep(4)
            self.assertIsNone(third.poll(), "the capture after a killed one did not take over")

            # Killed on "another host" (its own UTS namespace): the lease must lapse first.
            # (A capture that stops releases its lease: another host may take it at once.)
            third.terminate()
            self.assertEqual(third.wait(timeout=60), 0, self.output(third))
            shutil.rmtree(spools[2])
            other = self.start(url, source, spools[2], "unshare", "--uts", "sh", "-c",
                               'hostname pitr-other-host && exec "$@"', "sh")
            wait_until(lambda: "connected to" in self.output(other), 30,
                       what="the capture on the other host to take the lease")
            time.sleep(2)
            other.kill()
            other.wait()
            killed_at = time.monotonic()
            while True:  # refused while the lease looks alive, then taken once it lapsed
                fourth = self.start(url, source, spools[3])
                wait_until(lambda: fourth.poll() is not None or "lapsed" in self.output(fourth),
                           60, what="the capture to refuse or to wait for the lease")
                if fourth.poll() is None:
                    break
                self.assertIn("pitr-other-host", self.output(fourth))
                self.assertLess(time.monotonic() - killed_at, 30, "the lease never lapsed")
                time.sleep(0.5)
            wait_until(lambda: fourth.poll() is not None or "connected to" in self.output(fourth),
                       120, what=f"the takeover:\n{self.output(fourth)}")
            self.assertIn("has lapsed", self.output(fourth))
            self.assertGreaterEqual(time.monotonic() - killed_at, 5)
            self.assertIsNone(fourth.poll())
            time.sleep(2)
        source.sql("FLUSH BINARY LOGS")
        time.sleep(2)
        fourth.terminate()
        self.assertEqual(fourth.wait(timeout=60), 0)
        self.assertIn("archive OK", pitr("verify", "--archive", url).stdout.decode())
        for name in source.binlogs()[:-1]:
            with open(source.binlog_path(name), "rb") as f:
                self.assertTrue(pitr("get", "--archive", url, name).stdout == f.read(),
                                f"{name}: archived bytes differ from the server's")


class FaultyGatewayTest(S3ArchiveTestCase):
    def test_capture_backup_verify_get_and_restore_through_injected_faults(self):
        """Every pitr command through a proxy that answers 503 SlowDown and 429, loses answers
        after the gateway acted, cuts bodies mid-transfer and stalls: each retries, and what
        they store and restore is exact (checked again without the proxy)."""
        proxy = FaultProxy(self.gateway.port, FaultPlan(slow_down=7, too_many=11, lost_answer=13,
                                                        cut_body=3, stall=60, stall_seconds=3))
        self.addCleanup(proxy.stop)
        through = ("--s3-endpoint", proxy.endpoint)
        source = self.mariadb()
        url = f"s3://{BUCKET}/faults"
        with Workload(source, seed=3):
            time.sleep(2)
            pitr("backup", "--archive", url, *through, "--source", source.uri,
                 password=source.password, timeout=600)
            time.sleep(2)
        source.sql("FLUSH BINARY LOGS")
        expected = source.sql("CHECKSUM TABLE work.orders EXTENDED")
        pitr("capture", "--archive", url, *through, "--spool", self.spool, "--source", source.uri,
             "--segment-size", "64K", "--stop-at-end", password=source.password, timeout=600)
        self.assertIn("archive OK", pitr("verify", "--archive", url, *through).stdout.decode())
        for name in source.binlogs()[:-1]:
            with open(source.binlog_path(name), "rb") as f:
                self.assertTrue(pitr("get", "--archive", url, *through, name).stdout == f.read(),
                                f"{name}: archived bytes differ from the server's")
        target = self.mariadb(server_id=2)
        pitr("restore", "--archive", url, *through, "--target", target.uri,
             password=target.password, timeout=600)
        self.assertEqual(target.sql("CHECKSUM TABLE work.orders EXTENDED"), expected)
        for kind, count in proxy.plan.injected.items():
            self.assertGreater(count, 0, f"{kind} was never injected: {proxy.plan.injected}")
        self.assertIn("archive OK", pitr("verify", "--archive", url).stdout.decode())


class PostgresFaultyGatewayTest(S3ArchiveTestCase):
    def test_capture_backup_and_wal_fetch_through_injected_faults(self):
        """PostgreSQL's capture, its backup, and the restored server's wal-fetch (the proxy's
        endpoint goes into restore_command) all through the fault-injecting proxy: each
        retries, and the recovered server holds exactly what the source held."""
        proxy = FaultProxy(self.gateway.port, FaultPlan(slow_down=7, too_many=11, lost_answer=13,
                                                        cut_body=3, stall=60, stall_seconds=3))
        self.addCleanup(proxy.stop)
        through = ("--s3-endpoint", proxy.endpoint)
        pg = self.postgres("source")
        url = f"s3://{BUCKET}/pg-faults"
        capture = self.capture(url, pg, *through)
        pg.sql("CREATE TABLE marker (id int PRIMARY KEY, note text);"
               "INSERT INTO marker SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g;")
        pitr("backup", "--archive", url, *through, "--source", pg.uri, password=pg.password,
             timeout=600)
        for k in range(4):  # WAL after the backup, over several segments
            pg.sql(f"INSERT INTO marker SELECT g, repeat('y', 500) FROM "
                   f"generate_series({10000 * (k + 1)}, {10000 * (k + 1) + 3000}) g;"
                   "SELECT pg_switch_wal();")
        expected = pg.sql("SELECT count(*), md5(string_agg(id || note, ',' ORDER BY id)) "
                          "FROM marker").strip()
        lsn = pg.sql("SELECT pg_current_wal_lsn()").strip()

        def archived():
            status = json.loads(pitr("status", "--archive", url, "--json").stdout)["postgres"]
            return status and status[0]["timelines"] and \
                PostgresOnS3Test.lsn(status[0]["timelines"][-1]["end_lsn"]) >= \
                PostgresOnS3Test.lsn(lsn)
        wait_until(archived, 300, what="the WAL to reach the bucket through the proxy")
        self.assertEqual(capture.stop(), 0, capture.output())
        pg.stop()  # the restored server takes no port of the source's, and cannot reach it

        pgdata = os.path.join(shared_with_postgres(os.path.join(self.tmp, "restored")), "data")
        port = free_port()
        out = pitr("restore", "--archive", url, *through, "--pgdata", pgdata, "--start",
                   "--port", str(port), check=False, timeout=900)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        with open(os.path.join(pgdata, "postgresql.auto.conf")) as f:
            self.assertIn(proxy.endpoint, f.read())
        try:
            got = pg.as_owner([pg.bin("psql"), "-X", "-At", "-h", pgdata, "-p", str(port), "-U",
                               "postgres", "-d", "postgres", "-c",
                               "SELECT count(*), md5(string_agg(id || note, ',' ORDER BY id)) "
                               "FROM marker"], capture_output=True, text=True)
            self.assertEqual(got.stdout.strip(), expected, got.stderr)
        finally:
            pg.as_owner([pg.bin("pg_ctl"), "-D", pgdata, "-m", "immediate", "stop"],
                        capture_output=True)
        for kind, count in proxy.plan.injected.items():
            self.assertGreater(count, 0, f"{kind} was never injected: {proxy.plan.injected}")
        self.assertIn("archive OK", pitr("verify", "--archive", url).stdout.decode())


class StoreErrorsTest(S3ArchiveTestCase):
    """What a DBA gets wrong first: each is one clear line, exit 1, and nothing stored."""

    def run_capture(self, url, *extra, secret=None):
        started = time.monotonic()
        if secret:
            os.environ["AWS_SECRET_ACCESS_KEY"] = secret  # tearDown puts the right one back
        try:
            out = pitr("capture", "--archive", url, "--source", "mysql://pitr@127.0.0.1:1",
                       "--spool", self.spool, *extra, password="x", check=False, timeout=120)
        finally:
            os.environ["AWS_SECRET_ACCESS_KEY"] = self.gateway.secret_key
        return out.returncode, out.stderr.decode(), time.monotonic() - started

    def test_wrong_credentials_unknown_bucket_and_unreachable_endpoint(self):
        code, err, _ = self.run_capture(f"s3://{BUCKET}/wrong-key", secret="not-the-secret")
        self.assertEqual(code, 1, err)
        self.assertIn(self.gateway.access_key, err)
        self.assertIn(BUCKET, err)
        self.assertNotIn("not-the-secret", err)

        code, err, _ = self.run_capture("s3://no-such-bucket/db1")
        self.assertEqual(code, 1, err)
        self.assertIn("no-such-bucket", err)

        port = free_port()  # nothing listens there
        code, err, took = self.run_capture(f"s3://{BUCKET}/unreachable", "--s3-endpoint",
                                           f"http://127.0.0.1:{port}", "--s3-timeout", "3")
        self.assertEqual(code, 1, err)
        self.assertIn(f"127.0.0.1:{port}", err)
        self.assertLess(took, 60)

        code, err, _ = self.run_capture("s3://Bad_Bucket/x")  # a bad command line
        self.assertEqual(code, 2, err)
        self.assertIn("not a valid bucket name", err)
        self.assertEqual(self.keys(""), [], "a failed command left objects behind")


if __name__ == "__main__":
    unittest.main()
