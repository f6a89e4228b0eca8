"""Encryption at rest (--encryption-key-file): with real MariaDB, PostgreSQL and the Ceph
gateway, a marker the workload writes reaches no stored object; a flipped bit, a truncated
object and two swapped objects are reported by `pitr verify` and refused by restore and
wal-fetch; a missing or wrong key is a clear error before anything is read or written; and
restores through the key, including PostgreSQL's restore_command, give the data back."""
import json
import os
import re
import time

from harness import Capture, ServerTestCase, Workload, free_port, pitr, shared_with_postgres, \
    wait_until
from test_archive_s3 import BUCKET, S3ArchiveTestCase
from test_s3_gateway import Client

MARKER = "pitr-secret-marker-5b1e"


def write_key(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def stored_files(root):
    """Every object of a local archive: the open tails (.partial) and the lock are the spool's."""
    for top, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".partial") and f != "capture.lock":
                yield os.path.join(top, f)


class Tampering:
    """Changes a stored file and puts it back afterwards."""

    def __init__(self, check):
        self.check = check

    def each(self, first, second):
        originals = {}
        for p in (first, second):
            with open(p, "rb") as f:
                originals[p] = f.read()

        def put(path, data):
            with open(path, "wb") as f:
                f.write(data)

        flipped = bytearray(originals[first])
        flipped[len(flipped) // 2] ^= 0x04
        truncated = originals[first][:len(originals[first]) - 100]
        for what, changes in [("a flipped bit", {first: bytes(flipped)}),
                              ("a truncated object", {first: truncated}),
                              ("two swapped objects", {first: originals[second],
                                                       second: originals[first]})]:
            for path, data in changes.items():
                put(path, data)
            try:
                self.check(what)
            finally:
                for path, data in originals.items():
                    put(path, data)


class EncryptedKeyTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.key = write_key(os.path.join(self.tmp, "archive.key"), "ab" * 32 + "\n")
        self.other_key = write_key(os.path.join(self.tmp, "other.key"), "cd" * 32 + "\n")
        self.with_key = ("--encryption-key-file", self.key)


class MariaDBEncryptedTest(EncryptedKeyTestCase):
    def test_marker_hidden_tampering_refused_and_restore_with_the_key(self):
        source = self.mariadb()
        archive = os.path.join(self.tmp, "archive")
        capture = Capture(archive, source, "--segment-size", "64K", "--segment-time", "1",
                          *self.with_key).wait_connected()
        with Workload(source, seed=5):
            source.sql(f"CREATE TABLE work.secrets (id INT PRIMARY KEY, note VARCHAR(100));"
                       f"INSERT INTO work.secrets VALUES (1, '{MARKER}');")
            pitr("backup", "--archive", archive, "--source", source.uri, *self.with_key,
                 password=source.password)
            time.sleep(2)
            source.sql(f"INSERT INTO work.secrets VALUES (2, '{MARKER}-after-backup')")
        source.sql("FLUSH BINARY LOGS")
        expected = source.sql("CHECKSUM TABLE work.orders, work.secrets EXTENDED")
        last = source.binlogs()[-2]

        def sealed():
            got = pitr("get", "--archive", archive, *self.with_key, last, check=False)
            return got.returncode == 0 and len(got.stdout) == os.path.getsize(
                source.binlog_path(last))
        wait_until(sealed, 120, what="capture to archive the flushed binlog")
        self.assertEqual(capture.stop(), 0, capture.output())

        # The marker is in the server's binlog (so this test can fail), in no stored object.
        binlogs = b""
        for n in source.binlogs():
            with open(source.binlog_path(n), "rb") as f:
                binlogs += f.read()
        self.assertIn(MARKER.encode(), binlogs)
        files = list(stored_files(archive))
        self.assertGreater(len(files), 5)
        for path in files:
            with open(path, "rb") as f:
                self.assertNotIn(MARKER.encode(), f.read(), path)
        with open(os.path.join(archive, "pitr-archive.json")) as f:
            marker = json.load(f)
        self.assertEqual(marker["encryption"]["cipher"], "AES-256-GCM")
        self.assertNotIn("ab" * 8, json.dumps(marker))  # the key's id, never the key

        # A missing or wrong key is a clear error, exit 1, before anything is read.
        for args, message in [((), "is encrypted (key id"),
                              (("--encryption-key-file", self.other_key), "is not the key of")]:
            for command in (["verify"], ["status"], ["get", last]):
                out = pitr(*command, "--archive", archive, *args, check=False)
                self.assertEqual(out.returncode, 1, (command, args))
                self.assertIn(message, out.stderr.decode(), (command, args))
        os.environ["PITR_ENCRYPTION_KEY_FILE"] = self.key  # the variable serves as the option
        try:
            self.assertIn("archive OK", pitr("verify", "--archive", archive).stdout.decode())
        finally:
            del os.environ["PITR_ENCRYPTION_KEY_FILE"]

        # Each kind of tampering is reported by verify and refused by restore.
        target = self.mariadb(server_id=2)
        segments = sorted(p for p in files if p.endswith(".seg.zst"))

        def refused(what):
            out = pitr("verify", "--archive", archive, *self.with_key, check=False)
            self.assertNotEqual(out.returncode, 0, what)
            self.assertNotIn("archive OK", out.stdout.decode(), what)
            report = out.stdout.decode() + out.stderr.decode()
            self.assertTrue("authentication" in report or "cut short" in report, (what, report))
            out = pitr("restore", "--archive", archive, "--target", target.uri, *self.with_key,
                       password=target.password, check=False)
            self.assertNotEqual(out.returncode, 0, what)
            self.assertEqual(target.sql("SHOW DATABASES LIKE 'work'").strip(), "", what)
        Tampering(refused).each(segments[-1], segments[-2])

        out = pitr("restore", "--archive", archive, "--target", target.uri, *self.with_key,
                   password=target.password, check=False)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        self.assertEqual(target.sql("CHECKSUM TABLE work.orders, work.secrets EXTENDED"), expected)


class MariaDBEncryptedOnS3Test(S3ArchiveTestCase):
    def test_capture_backup_restore_encrypted_in_the_bucket(self):
        key = write_key(os.path.join(self.tmp, "archive.key"), "ef" * 32)
        with_key = ("--encryption-key-file", key)
        source = self.mariadb()
        url = f"s3://{BUCKET}/enc"
        capture = self.capture(url, source, "--segment-size", "64K", "--segment-time", "1",
                               *with_key)
        with Workload(source, seed=9):
            source.sql(f"CREATE TABLE work.secrets (id INT PRIMARY KEY, note VARCHAR(100));"
                       f"INSERT INTO work.secrets VALUES (1, '{MARKER}');")
            pitr("backup", "--archive", url, "--source", source.uri, *with_key,
                 password=source.password)
            time.sleep(2)
        source.sql("FLUSH BINARY LOGS")
        expected = source.sql("CHECKSUM TABLE work.orders, work.secrets EXTENDED")
        self.assertEqual(capture.stop(), 0, capture.output())
        self.assertIn("archive OK", pitr("verify", "--archive", url, *with_key).stdout.decode())

        client = Client(self.gateway, self.tmp)
        keys = self.keys("enc/")
        self.assertTrue(any(k.endswith(".seg.zst") for k in keys), keys)
        self.assertTrue(any(k.endswith("/manifest.json") for k in keys), keys)
        for k in keys:
            status, _, body = client.get(BUCKET, k)
            self.assertEqual(status, 200, k)
            self.assertNotIn(MARKER.encode(), body, k)

        target = self.mariadb(server_id=2)
        out = pitr("restore", "--archive", url, "--target", target.uri, *with_key,
                   password=target.password, check=False)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        self.assertEqual(target.sql("CHECKSUM TABLE work.orders, work.secrets EXTENDED"), expected)


class PostgresEncryptedTest(EncryptedKeyTestCase):
    def test_wal_fetch_refuses_tampering_and_restore_recovers_through_the_key(self):
        pg = self.postgres("source")
        archive = shared_with_postgres(os.path.join(self.tmp, "archive"))
        capture = Capture(archive, pg, *self.with_key).wait_connected()
        pg.sql(f"CREATE TABLE marker (id int PRIMARY KEY, note text);"
               f"INSERT INTO marker SELECT g, '{MARKER}' FROM generate_series(1, 500) g;")
        pitr("backup", "--archive", archive, "--source", pg.uri, *self.with_key,
             password=pg.password, timeout=600)
        for k in range(3):
            pg.sql(f"INSERT INTO marker SELECT g, '{MARKER}' || g FROM "
                   f"generate_series({1000 * (k + 1)}, {1000 * (k + 1) + 800}) g;"
                   "SELECT pg_switch_wal();")
        pg.sql("SELECT pg_create_restore_point('encrypted')")
        expected = pg.sql("SELECT count(*), md5(string_agg(id || note, ',' ORDER BY id)) "
                          "FROM marker").strip()
        pg.sql("SELECT pg_switch_wal()")
        wal = os.path.join(archive, "wal")

        def segments():
            return sorted(os.path.join(top, f) for top, _, files in os.walk(wal) for f in files
                          if re.fullmatch(r"[0-9A-F]{24}\.zst", f))
        wait_until(lambda: len(segments()) >= 5, 120, what="WAL segments to be sealed")
        self.assertEqual(capture.stop(), 0, capture.output())
        for path in stored_files(archive):
            with open(path, "rb") as f:
                self.assertNotIn(MARKER.encode(), f.read(), path)
        self.assertIn("archive OK", pitr("verify", "--archive", archive, *self.with_key)
                      .stdout.decode())

        # wal-fetch, as PostgreSQL runs it, refuses every kind of tampering and writes nothing.
        first, second = segments()[-2], segments()[-1]
        name = os.path.basename(first).split(".")[0]
        dest = os.path.join(self.tmp, "fetched")

        def refused(what):
            out = pitr("wal-fetch", "--archive", archive, *self.with_key, "--prefetch", "0",
                       name, dest, check=False)
            self.assertEqual(out.returncode, 128, what)  # recovery stops, it does not end early
            self.assertFalse(os.path.exists(dest), what)
            self.assertIn(name, out.stderr.decode(), what)
            out = pitr("verify", "--archive", archive, *self.with_key, check=False)
            self.assertNotEqual(out.returncode, 0, what)
        Tampering(refused).each(first, second)
        out = pitr("wal-fetch", "--archive", archive, "--encryption-key-file", self.other_key,
                   name, dest, check=False)
        self.assertEqual(out.returncode, 128)
        self.assertIn("is not the key of", out.stderr.decode())

        # The restored server reaches the archive through a key file only its OS user reads.
        restored = shared_with_postgres(os.path.join(self.tmp, "restored"))
        pgdata = os.path.join(restored, "data")
        out = pitr("restore", "--archive", archive, "--pgdata", pgdata, "--to-name", "encrypted",
                   *self.with_key, check=False, timeout=600)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        key_copy = pgdata + ".pitr-key"
        self.assertIn(f"once it is promoted, remove {key_copy}", out.stderr.decode())
        self.assertEqual(os.stat(key_copy).st_mode & 0o777, 0o600)
        with open(os.path.join(pgdata, "postgresql.auto.conf")) as f:
            conf = f.read()
        self.assertIn(f"--encryption-key-file ''{key_copy}''", conf)
        self.assertNotIn("ab" * 32, conf)
        port = free_port()
        started = pg.as_owner([pg.bin("pg_ctl"), "-D", pgdata, "-w", "-t", "300", "-o",
                               f"-p {port} -k {pgdata} -c listen_addresses=''", "-l",
                               os.path.join(pgdata, "server.log"), "start"],
                              capture_output=True, text=True)
        try:
            self.assertEqual(started.returncode, 0, started.stdout + started.stderr)
            query = [pg.bin("psql"), "-X", "-At", "-h", pgdata, "-p", str(port), "-U", "postgres",
                     "-d", "postgres", "-c"]
            wait_until(lambda: pg.as_owner(query + ["SELECT NOT pg_is_in_recovery()"],
                                           capture_output=True, text=True).stdout.strip() == "t",
                       180, what="recovery through the encrypted archive to finish")
            got = pg.as_owner(query + ["SELECT count(*), md5(string_agg(id || note, ',' ORDER BY "
                                       "id)) FROM marker"], capture_output=True, text=True)
            self.assertEqual(got.stdout.strip(), expected)
        finally:
            pg.as_owner([pg.bin("pg_ctl"), "-D", pgdata, "-m", "immediate", "stop"],
                        capture_output=True)
