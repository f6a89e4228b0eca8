"""Point-in-time restore of MariaDB: source and target are real servers. Ground truth is
recorded at moments of a workload (DDL, a temporary table, BLOBs, a transaction over 64 MiB,
an accidental DELETE) and every restore must reproduce it exactly."""
import os
import subprocess
import time
import unittest

from harness import INSTANCE, Capture, ServerTestCase, archive_keys, pitr, replace_archive_object


def truth(server):
    """Checksums of every table of db, with the binlog position, GTID and time, read while
    nothing else writes."""
    tables = [t for t in server.sql("SHOW TABLES FROM db").split()]
    sums = {}
    if tables:
        out = server.sql("CHECKSUM TABLE " + ", ".join(f"db.`{t}`" for t in tables) + " EXTENDED")
        sums = dict(line.split("\t") for line in out.splitlines())
    file, pos = server.sql("SHOW MASTER STATUS").split("\t")[:2]
    gtid = server.sql("SELECT @@gtid_binlog_pos").strip()
    return {"sums": sums, "file": file, "pos": int(pos), "gtid": gtid, "time": int(time.time())}


class RestoreTest(ServerTestCase):
    def moment(self, source):
        time.sleep(1.1)  # binlog times have one-second resolution
        m = truth(source)
        time.sleep(1.1)
        self.moments.append(m)
        return m

    def reset(self, target):
        target.sql("DROP DATABASE IF EXISTS db; RESET MASTER;")

    def restore(self, target, *args):
        return pitr("restore", "--archive", self.archive, "--target", target.uri, *args,
                    password=target.password, check=False)

    def archive_state(self):
        """What the archive holds, for a failure message: its objects and its last
        transactions."""
        keys = "\n  ".join(archive_keys(self.archive))
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.moments[-3]["time"]))
        found = pitr("find", "--archive", self.archive, "--since", since, check=False)
        return (f"\nstored objects:\n  {keys}\npitr find --since {since}:\n"
                f"{found.stdout.decode()}{found.stderr.decode()}")

    def assertRestored(self, target, moment, why):
        self.assertEqual(truth(target)["sums"], moment["sums"], why)

    def test_restore_to_moments_by_time_position_and_gtid(self):
        source = self.mariadb()
        self.archive = self.new_archive()
        self.moments = []
        capture = Capture(self.archive, source, "--segment-size", "1M")
        source.sql("CREATE DATABASE db; CREATE TABLE db.orders (id INT AUTO_INCREMENT PRIMARY KEY,"
                   " customer INT, amount DECIMAL(10,2), note VARCHAR(100), doc BLOB);"
                   "CREATE TABLE db.customers (id INT PRIMARY KEY, name VARCHAR(50));"
                   "INSERT INTO db.customers SELECT seq, CONCAT('c', seq) FROM db.seq_1_to_50;")
        source.sql("INSERT INTO db.orders (customer, amount, note, doc) SELECT seq % 50, seq, "
                   "'first', RANDOM_BYTES(300) FROM db.seq_1_to_500;")
        time.sleep(1.1)
        pre_backup_time = int(time.time())  # transactions exist before it, but no backup
        time.sleep(1.1)
        source.sql("INSERT INTO db.customers VALUES (99, 'between');")
        pitr("backup", "--archive", self.archive, "--source", source.uri, "--jobs", "2",
             password=source.password)
        self.moment(source)                                                       # 0
        source.sql("UPDATE db.orders SET amount = amount * 2 WHERE id % 3 = 0;")
        self.moment(source)                                                       # 1
        source.sql("ALTER TABLE db.orders ADD COLUMN status ENUM('new','paid') DEFAULT 'new';"
                   "UPDATE db.orders SET status = 'paid' WHERE id < 100;")
        self.moment(source)                                                       # 2
        source.sql("CREATE TEMPORARY TABLE db.tmp (id INT); INSERT INTO db.tmp VALUES (1),(2);"
                   "INSERT INTO db.orders (customer, note) SELECT id, 'from tmp' FROM db.tmp;"
                   "DROP TEMPORARY TABLE db.tmp;")
        self.moment(source)                                                       # 3
        source.sql("CREATE TABLE db.audit (id INT AUTO_INCREMENT PRIMARY KEY, what LONGTEXT);"
                   "INSERT INTO db.audit (what) VALUES ('created');")
        self.moment(source)                                                       # 4
        big = "INSERT INTO db.audit (what) VALUES (REPEAT(MD5(RAND()), 32768));"
        source.sql("CREATE TABLE db.blobs (id INT AUTO_INCREMENT PRIMARY KEY, b LONGBLOB);"
                   "BEGIN;" + "INSERT INTO db.blobs (b) VALUES (REPEAT(MD5(RAND()), 32768));" * 70
                   + "COMMIT;")  # a transaction of 70 MiB
        self.moment(source)                                                       # 5
        # A statement that ends in a comment must not swallow what replay sends after it.
        subprocess.run([INSTANCE, "sql", source.dir, "--comments"], check=True,
                       input=b"ALTER TABLE db.customers ADD COLUMN vip INT -- marks VIPs\n;")
        source.sql("DELETE FROM db.customers WHERE id > 40; " + big)
        self.moment(source)                                                       # 6
        before_accident = self.moment(source)                                     # 7
        source.sql("DELETE FROM db.orders;")  # the accident
        self.moment(source)                                                       # 8
        source.sql("INSERT INTO db.orders (customer, note) VALUES (1, 'after');"
                   "DROP TABLE db.audit;")
        self.moment(source)                                                       # 9
        source.sql("FLUSH BINARY LOGS;")
        rotated = self.moments[9]["file"]
        sizes = dict(line.split("\t")[:2] for line in source.sql("SHOW BINARY LOGS").splitlines())
        source.wait_binlog_checkpoint()  # so that the moment's position ends the INSERT
        source.sql("INSERT INTO db.customers (id, name) VALUES (100, 'late');")
        self.moment(source)                                                       # 10
        self.assert_archive_matches(self.archive, source)
        self.assertEqual(capture.stop(), 0)

        target = self.mariadb(server_id=2)
        kinds = ["time", "position", "gtid"]
        for i, m in enumerate(self.moments):
            kind = kinds[i % 3]
            args = {"time": ["--to-time", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(m["time"]))],
                    "position": ["--to-position", f"{m['file']}:{m['pos']}"],
                    "gtid": ["--to-gtid", m["gtid"]]}[kind]
            self.reset(target)
            out = self.restore(target, *args)
            if out.returncode != 0:  # the archive's state is read only for the message
                self.fail(f"moment {i} by {kind}: exit {out.returncode}: {out.stderr.decode()}"
                          f"{self.archive_state()}")
            self.assertRestored(target, m, f"moment {i} by {kind}")

        # The end of the rotated file, after its ROTATE event, is no transaction's start or end
        # (as SHOW MASTER STATUS can stand after a Binlog_checkpoint): restored by position, it
        # stops before the next file's first transaction.
        self.reset(target)
        out = self.restore(target, "--to-position", f"{rotated}:{sizes[rotated]}")
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        self.assertRestored(target, self.moments[9], "the end of the rotated file")

        # The bad write: find it, restore to just before it.
        found = pitr("find", "--archive", self.archive, "--match", "delete:db.orders").stdout
        self.assertEqual(len(found.splitlines()), 1, found)
        self.assertIn(b"delete db.orders (502 rows)", found)
        self.reset(target)
        out = self.restore(target, "--before-match", "delete:db.orders")
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        self.assertRestored(target, before_accident, "before the DELETE")

        # --sql-out piped into the client gives the same.
        script = os.path.join(self.tmp, "restore.sql")
        out = pitr("restore", "--archive", self.archive, "--to-gtid", self.moments[9]["gtid"],
                   "--sql-out", script)
        self.reset(target)
        with open(script, "rb") as f:
            subprocess.run([INSTANCE, "sql", target.dir], stdin=f, check=True)
        self.assertRestored(target, self.moments[9], "--sql-out")

        # Refusals change nothing on the target.
        self.reset(target)
        for args, words in [
                (["--to-time", "2001-01-01T00:00:00Z"], b"no base backup is consistent"),
                (["--to-time", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(pre_backup_time))],
                 b"no base backup"),
                (["--to-gtid", "0-1-999999"], b"no transaction with GTID"),
                (["--to-time", "2030-01-01T00:00:00Z"], b"after the archive's end")]:
            out = self.restore(target, *args)
            self.assertEqual(out.returncode, 1, args)
            self.assertIn(words, out.stderr, args)
        out = self.restore(target, "--to-gtid", "0-1-5", "--before-gtid", "0-1-6")
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"excludes", out.stderr)
        # Last: a segment removed from the middle of the archive.
        segments = [k for k in archive_keys(self.archive, "binlog/mariadb-1-0/binlog.000001/")
                    if k.endswith(".seg.zst")]
        replace_archive_object(self.archive, segments[len(segments) // 2], None)
        out = pitr("restore", "--archive", self.archive, "--target", target.uri,
                   password=target.password, check=False)
        self.assertEqual(out.returncode, 1)
        self.assertRegex(out.stderr, rb"hole in the archive|missing")
        self.assertEqual(target.sql("SHOW DATABASES LIKE 'db'"), "")


if __name__ == "__main__":
    unittest.main()
