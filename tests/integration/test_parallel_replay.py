"""Parallel replay against real MariaDB servers: four client sessions write concurrently to
tables that parallel replay must keep in order (a unique VARCHAR key, no key at all, a
secondary unique key whose values move between rows, foreign keys with ON DELETE CASCADE)
and to tables it may spread over sessions. A restore with --jobs 8 must give the source's
exact checksums and GTID position, like the strictly serial --jobs 1."""
import os
import random
import re
import subprocess
import threading
import unittest

from harness import INSTANCE, Capture, ServerTestCase, pitr

SCHEMA = """
CREATE DATABASE db;
CREATE TABLE db.items (id BIGINT PRIMARY KEY, k INT, payload VARCHAR(200), KEY (k));
CREATE TABLE db.accounts (id INT PRIMARY KEY, email VARCHAR(64) NOT NULL UNIQUE, balance INT);
CREATE TABLE db.nokey (a INT, b INT);
CREATE TABLE db.slots (id INT PRIMARY KEY, code INT UNIQUE, v INT);
CREATE TABLE db.parent (id INT PRIMARY KEY, n INT);
CREATE TABLE db.child (id INT AUTO_INCREMENT PRIMARY KEY, parent_id INT NOT NULL, n INT,
  FOREIGN KEY (parent_id) REFERENCES db.parent (id) ON DELETE CASCADE);
INSERT INTO db.items SELECT seq, seq % 100, CONCAT('p', seq) FROM db.seq_1_to_2000;
INSERT INTO db.accounts SELECT seq, CONCAT('user', seq, '@example.com'), 100 FROM db.seq_1_to_200;
INSERT INTO db.slots SELECT seq, seq, 0 FROM db.seq_1_to_50;
INSERT INTO db.parent SELECT seq, 0 FROM db.seq_1_to_100;
"""

TABLES = ["items", "accounts", "nokey", "slots", "parent", "child"]


def transaction(r):
    """One random transaction; small key ranges make conflicts between sessions common."""
    s = ["BEGIN;"]
    for _ in range(r.randint(1, 4)):
        kind = r.randrange(9)
        if kind <= 2:
            s.append(f"UPDATE db.items SET k = k + 1, payload = '{r.random()}' "
                     f"WHERE id = {r.randint(1, 2000)};")
        elif kind == 3:
            s.append(f"REPLACE INTO db.items VALUES ({r.randint(1, 2500)}, {r.randint(0, 99)}, "
                     f"'r{r.random()}');")
        elif kind == 4:
            a, b = r.randint(1, 200), r.randint(1, 200)
            s.append(f"UPDATE db.accounts SET balance = balance - 1 WHERE id = {a};"
                     f"UPDATE db.accounts SET balance = balance + 1, email = "
                     f"CONCAT('user', id, '.', {r.randint(0, 3)}, '@example.com') WHERE id = {b};")
        elif kind == 5:
            s.append(f"INSERT INTO db.nokey VALUES ({r.randint(1, 50)}, {r.randint(1, 9)});"
                     f"DELETE FROM db.nokey WHERE a = {r.randint(1, 50)} LIMIT 1;")
        elif kind == 6:
            # Moves a unique code from one row to another: order matters between sessions.
            a, b = r.randint(1, 50), r.randint(1, 50)
            s.append(f"UPDATE db.slots SET code = NULL, v = v + 1 WHERE id = {a} AND {a} <> {b};"
                     f"UPDATE db.slots SET code = {r.randint(1, 60)} WHERE id = {b} AND "
                     f"code IS NOT NULL;")
        elif kind == 7:
            s.append(f"INSERT INTO db.child (parent_id, n) VALUES ({r.randint(1, 100)}, "
                     f"{r.randint(1, 9)});")
        else:
            p = r.randint(1, 100)
            s.append(f"DELETE FROM db.parent WHERE id = {p};"
                     f"INSERT INTO db.parent VALUES ({p}, {r.randint(1, 9)});")
    s.append("COMMIT;")
    return "\n".join(s)


def run_session(server, seed, count, errors):
    r = random.Random(seed)
    script = "\n".join(transaction(r) for _ in range(count))
    # --force: a deadlock or key conflict on the source is part of the workload.
    out = subprocess.run([INSTANCE, "sql", server.dir, "--force", "--batch"], input=script,
                         capture_output=True, text=True)
    if "ERROR 2013" in out.stderr or "ERROR 2006" in out.stderr:
        errors.append(out.stderr[-500:])


def checksums(server):
    out = server.sql("CHECKSUM TABLE " + ", ".join(f"db.{t}" for t in TABLES) + " EXTENDED")
    return dict(line.split("\t") for line in out.splitlines())


class ParallelReplayTest(ServerTestCase):
    def test_parallel_replay_equals_the_source_and_serial_replay(self):
        source = self.mariadb()
        archive = os.path.join(self.tmp, "archive")
        source.sql(SCHEMA)
        capture = Capture(archive, source)
        pitr("backup", "--archive", archive, "--source", source.uri, password=source.password)
        errors = []
        sessions = [threading.Thread(target=run_session, args=(source, seed, 1500, errors))
                    for seed in range(4)]
        for t in sessions:
            t.start()
        for t in sessions:
            t.join()
        self.assertEqual(errors, [])
        expected = checksums(source)
        gtid = source.sql("SELECT @@gtid_binlog_pos").strip()
        self.assert_archive_matches(archive, source)  # waits for capture to catch up
        self.assertEqual(capture.stop(), 0)

        for jobs in ("8", "1"):
            target = self.mariadb(server_id=10 + int(jobs))
            out = pitr("restore", "--archive", archive, "--target", target.uri, "--jobs", jobs,
                       password=target.password).stderr.decode()
            self.assertEqual(checksums(target), expected, f"--jobs {jobs}")
            self.assertEqual(target.sql("SELECT @@gtid_binlog_pos").strip(), gtid, f"--jobs {jobs}")
            if jobs == "8":
                m = re.search(r"(\d+) transaction\(s\) applied in parallel on 8 sessions, (\d+) alone",
                              out)
                self.assertIsNotNone(m, out)
                # Most transactions are row-only and go to the parallel sessions; the
                # statements of the backup's schema and anything pitr cannot key run alone.
                self.assertGreater(int(m.group(1)), 1000, out)


if __name__ == "__main__":
    unittest.main()
