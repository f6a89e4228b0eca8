"""Continuous capture from a real MariaDB: pitr get gives back every binlog byte for byte."""
import json
import os
import subprocess
import time
import unittest

from harness import (ENCRYPTED, Capture, ServerTestCase, Workload, archive_keys, archive_object,
                     pitr, wait_until)


def big_transaction(server, megabytes):
    """One transaction of `megabytes` 1 MiB rows."""
    rows = ",".join(["(REPEAT(MD5(RAND()), 32768))"] * 4)
    server.sql("CREATE TABLE IF NOT EXISTS work.big (id INT AUTO_INCREMENT PRIMARY KEY, b LONGBLOB);"
               + "BEGIN;" + f"INSERT INTO work.big (b) VALUES {rows};" * (megabytes // 4)
               + "COMMIT;")


class CaptureTest(ServerTestCase):
    def test_archive_is_byte_identical_to_the_servers_binlogs(self):
        server = self.mariadb()
        archive = self.new_archive()
        capture = Capture(archive, server, "--segment-size", "1M", "--segment-time", "5")
        with Workload(server) as work:
            time.sleep(2)
            big_transaction(server, 20)  # a transaction larger than 16 MiB
            # A single row event larger than 16 MiB crosses several protocol packets.
            server.sql("INSERT INTO work.big (b) VALUES (REPEAT(MD5(RAND()), 20 * 32768));")
            server.sql("FLUSH BINARY LOGS;")
            time.sleep(2)
        self.assertGreater(work.batches, 5)
        names = self.assert_archive_matches(archive, server)
        self.assertGreaterEqual(len(names), 2)

        # A second capture on the same archive refuses to start.
        second = pitr("capture", "--archive", archive, "--source", server.uri, check=False,
                      password=server.password, timeout=30)
        self.assertEqual(second.returncode, 1)
        self.assertIn(b"already writing the archive", second.stderr)

        self.assertEqual(capture.stop(), 0)
        self.assertIn("stopped by signal", capture.output())
        self.assertNotIn(server.password, capture.output())
        verify = pitr("verify", "--archive", archive)
        self.assertIn(b"archive OK", verify.stdout)

        status = json.loads(pitr("status", "--archive", archive, "--json").stdout)
        source = status["sources"][0]
        self.assertEqual(source["source_id"], "mariadb-1-0")
        self.assertEqual(source["first_file"], names[0])
        self.assertEqual(source["last_file"], names[-1])
        self.assertGreater(source["transactions"], work.batches)
        # The first file holds at least two segments (the 20 MiB transaction and the 20 MiB row
        # each end one); how many more the workload fills depends on the machine's speed.
        self.assertGreaterEqual(source["segments"], len(names) + 1)
        self.assertEqual(status["gaps"], [])
        # Segments are plain zstd: the standard tool decompresses them (unless encrypted).
        first = archive_keys(archive, f"binlog/mariadb-1-0/{names[0]}/")[0]
        if not ENCRYPTED:
            raw = subprocess.run(["zstd", "-dc"], input=archive_object(archive, first),
                                 check=True, capture_output=True).stdout
            with open(server.binlog_path(names[0]), "rb") as f:
                self.assertEqual(raw, f.read(len(raw)))

    def test_sync_mode_and_restart_after_clean_stop(self):
        server = self.mariadb()
        archive = self.new_archive()
        for round in range(3):
            capture = Capture(archive, server, "--sync")
            with Workload(server, seed=round):
                time.sleep(1.5)
            self.assert_archive_matches(archive, server)
            self.assertEqual(capture.stop(), 0)
        self.assertIn(b"archive OK", pitr("verify", "--archive", archive).stdout)

    def test_start_from_a_gtid_in_the_middle_of_a_file(self):
        server = self.mariadb()
        with Workload(server):
            time.sleep(1)
        gtid = server.sql("SELECT @@gtid_binlog_pos").strip()
        offset = os.path.getsize(server.binlog_path(server.binlogs()[-1]))
        with Workload(server, seed=5):
            time.sleep(1)
        archive = self.new_archive()
        out = pitr("capture", "--archive", archive, "--source", server.uri, "--stop-at-end",
                   "--start-gtid", gtid, "--segment-size", "64K", password=server.password)
        self.assertIn(b"from offset", out.stderr)
        name = server.binlogs()[-1]
        log_dir = f"binlog/mariadb-1-0/{name}/"
        parts = [k[len(log_dir):] for k in archive_keys(archive, log_dir)]
        # The part archived does not hold the file's FORMAT_DESCRIPTION_EVENT: it is kept
        # beside the segments, as the server sent it (but for the active file's in-use flag).
        self.assertIn("format-description.bin", parts)
        parts.remove("format-description.bin")
        self.assertEqual(int(parts[0][:16]), offset)
        if not ENCRYPTED:  # the objects read by hand, with the standard tools
            self.check_archived_by_hand(server, archive, log_dir, parts, name, offset)
        status = json.loads(pitr("status", "--archive", archive, "--json").stdout)
        seq = int(gtid.split("-")[2])
        self.assertEqual(status["sources"][0]["first_gtid"], f"0-1-{seq + 1}")
        self.assertIn(b"archive OK", pitr("verify", "--archive", archive).stdout)
        # The whole file cannot be given back: the archive holds it from `offset` only.
        got = pitr("get", "--archive", archive, name, check=False)
        self.assertEqual(got.returncode, 1)
        self.assertIn(b"only from offset", got.stderr)
        # Capture resumes after a restart where it stopped, still mid-file.
        with Workload(server, seed=6):
            time.sleep(0.5)
        pitr("capture", "--archive", archive, "--source", server.uri, "--stop-at-end",
             password=server.password)
        self.assertIn(b"archive OK", pitr("verify", "--archive", archive).stdout)

    def check_archived_by_hand(self, server, archive, log_dir, parts, name, offset):
        """The segments decompressed with zstd and the open tail read as it is give back the
        file from `offset`; format-description.bin is the file's FDE as the server re-sent it."""
        fde = archive_object(archive, log_dir + "format-description.bin")
        data = b""
        for part in parts:
            stored = archive_object(archive, log_dir + part)
            if part.endswith(".seg.zst"):
                stored = subprocess.run(["zstd", "-dc"], input=stored, check=True,
                                        capture_output=True).stdout
            data += stored
        with open(server.binlog_path(name), "rb") as f:
            whole = f.read()
        self.assertEqual(data, whole[offset:])
        fde_size = int.from_bytes(whole[4 + 9:4 + 13], "little")
        self.assertEqual(len(fde), fde_size)
        self.assertEqual(fde[4], 15)  # FORMAT_DESCRIPTION_EVENT
        # The body's binlog and server versions (the re-sent copy has no creation time).
        self.assertEqual(fde[19:19 + 52], whole[4 + 19:4 + 19 + 52])


if __name__ == "__main__":
    unittest.main()
