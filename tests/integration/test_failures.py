"""Capture survives kill -9, server restarts, binlog rotation and killed connections with no
gap and no duplicate, and refuses to paper over purged binlogs."""
import glob
import os
import random
import signal
import time
import unittest

from harness import (S3, Capture, ServerTestCase, Workload, archive_keys, local_view, pitr,
                     wait_until)


class FailureTest(ServerTestCase):
    def test_sigkill_at_random_moments(self):
        server = self.mariadb()
        archive = self.new_archive()
        rng = random.Random(int(os.environ.get("PITR_TEST_SEED", time.time())))
        with Workload(server):
            for _ in range(6):
                capture = Capture(archive, server, "--segment-size", "256K")
                time.sleep(rng.uniform(0.3, 2.5))
                capture.kill9()
                self.assertIn(b"archive OK", pitr("verify", "--archive", archive).stdout)
                if rng.random() < 0.3:
                    server.sql("FLUSH BINARY LOGS;")
            capture = Capture(archive, server, "--segment-size", "256K")
            time.sleep(1)
        self.assert_archive_matches(archive, server)
        self.assertEqual(capture.stop(), 0)
        self.assertIn(b"archive OK", pitr("verify", "--archive", archive).stdout)

    def test_server_restart_rotation_and_killed_connection(self):
        server = self.mariadb()
        archive = self.new_archive()
        capture = Capture(archive, server)
        with Workload(server) as work:
            time.sleep(1)
            server.sql("FLUSH BINARY LOGS;")
            time.sleep(1)
            ids = server.sql("SELECT ID FROM information_schema.PROCESSLIST "
                             "WHERE COMMAND LIKE 'Binlog Dump%';").split()
            self.assertEqual(len(ids), 1)
            server.sql(f"KILL {ids[0]};")
            time.sleep(1.5)
        before = work.batches
        server.restart()
        with Workload(server, seed=2):
            time.sleep(2)
        self.assertTrue(capture.alive())
        self.assert_archive_matches(archive, server)
        self.assertEqual(capture.stop(), 0)
        log = capture.output()
        self.assertGreaterEqual(log.count("reconnecting"), 2, log)
        self.assertGreater(before, 0)
        self.assertIn(b"archive OK", pitr("verify", "--archive", archive).stdout)

    def test_frozen_server_is_detected_by_the_heartbeat_timeout(self):
        server = self.mariadb()
        archive = self.new_archive()
        capture = Capture(archive, server)
        with Workload(server):
            time.sleep(1)
        with open(os.path.join(server.dir, "mysqld.pid")) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGSTOP)  # like a network cut: the socket stays open, silent
        try:
            wait_until(lambda: "no answer" in capture.output(), 30,
                       what="capture to notice the silent server")
        finally:
            os.kill(pid, signal.SIGCONT)
        with Workload(server, seed=3):
            time.sleep(1)
        self.assert_archive_matches(archive, server)
        self.assertEqual(capture.stop(), 0)
        self.assertIn(b"archive OK", pitr("verify", "--archive", archive).stdout)

    def test_sigkill_just_after_rotations(self):
        """kill -9 within 0-100 ms of a rotation (FLUSH BINARY LOGS, or max_binlog_size):
        every restart resumes, the archive verifies and equals the server's binlogs."""
        server = self.mariadb(extra_args=["--max-binlog-size=65536"])
        archive = self.new_archive()
        seed = int(os.environ.get("PITR_TEST_SEED", time.time()))
        rng = random.Random(seed)
        data = os.path.join(server.dir, "data")

        def newest_binlog():
            return max(n for n in os.listdir(data) if n.startswith("binlog.") and
                       n[7:].isdigit())

        def archived(name):
            return bool(glob.glob(os.path.join(local_view(archive), "binlog", "*", name)))

        # Each round verifies the whole archive, which in object storage downloads every
        # segment: there fewer rounds, and a workload that leaves the archive small enough.
        rounds, pause = (10, 0.05) if S3 else (24, 0.0)
        with Workload(server, pause=pause):
            for i in range(rounds):
                # Every third run also hands segments off mid-file (16K segments).
                size = ["--segment-size", "16K"] if i % 3 == 0 else []
                capture = Capture(archive, server, *size).wait_connected()
                current = newest_binlog()
                wait_until(lambda: archived(current), 30, interval=0.01,
                           what=f"capture to reach {current} (seed {seed})")
                if i % 2 == 0:
                    server.sql("FLUSH BINARY LOGS;")
                else:
                    wait_until(lambda: newest_binlog() != current, 30, interval=0.005,
                               what="a rotation by max_binlog_size")
                time.sleep(rng.uniform(0, 0.1))
                capture.kill9()
                self.assertNotIn("reconnecting", capture.this_run(), f"seed {seed}")
                verify = pitr("verify", "--archive", archive, check=False)
                self.assertIn(b"archive OK", verify.stdout, f"after kill #{i + 1} (seed {seed}): "
                              f"{verify.stdout.decode()}{verify.stderr.decode()}")
            capture = Capture(archive, server).wait_connected()
        self.assert_archive_matches(archive, server)
        self.assertEqual(capture.stop(), 0, capture.output())
        self.assertIn(b"archive OK", pitr("verify", "--archive", archive).stdout)

    def test_purged_binlog_is_reported_as_a_gap(self):
        server = self.mariadb()
        archive = self.new_archive()
        pitr("capture", "--archive", archive, "--source", server.uri, "--stop-at-end",
             password=server.password)
        with Workload(server):
            time.sleep(0.5)
        server.sql("FLUSH BINARY LOGS; INSERT INTO work.orders (customer) VALUES (1);"
                   "FLUSH BINARY LOGS;")
        server.purge_all_but_last_binlog()
        out = pitr("capture", "--archive", archive, "--source", server.uri, "--stop-at-end",
                   password=server.password, check=False)
        self.assertEqual(out.returncode, 3, out.stderr)
        self.assertIn(b"no longer has the binlog", out.stderr)
        verify = pitr("verify", "--archive", archive, check=False)
        self.assertEqual(verify.returncode, 1)
        self.assertIn(b"recorded gap", verify.stdout)
        # Trying again records the same gap once.
        pitr("capture", "--archive", archive, "--source", server.uri, "--stop-at-end",
             password=server.password, check=False)
        self.assertEqual(len(archive_keys(archive, "gaps/")), 1)
        # --accept-gap goes on from the server's oldest binlog; the gap stays on record.
        server.sql("INSERT INTO work.orders (customer) VALUES (2);")
        out = pitr("capture", "--archive", archive, "--source", server.uri, "--stop-at-end",
                   "--accept-gap", password=server.password)
        self.assertIn(b"--accept-gap: going on past the gap", out.stderr)
        self.assert_archive_matches(archive, server)
        self.assertEqual(len(archive_keys(archive, "gaps/")), 1)
        verify = pitr("verify", "--archive", archive, check=False)
        self.assertEqual(verify.returncode, 1)
        self.assertIn(b"recorded gap", verify.stdout)


if __name__ == "__main__":
    unittest.main()
