"""The command line without a server: inspect on the real fixtures, help, exit codes."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from harness import BINLOG_FIXTURES as FIXTURES
from harness import needs_fixtures, pitr


def sources():
    with open(os.path.join(FIXTURES, "SOURCES.md")) as f:
        return [json.loads(line) for line in f if line.startswith('{"file"')]


class CliTest(unittest.TestCase):
    @needs_fixtures
    def test_inspect_json_lists_every_event(self):
        for expected in sources():
            path = os.path.join(FIXTURES, expected["file"])
            out = pitr("inspect", "--json", path, check=False)
            events = [json.loads(line) for line in out.stdout.splitlines()]
            top = [e for e in events if "inside" not in e]
            with self.subTest(expected["file"]):
                if expected["clean"] and expected["file"] != "corrupt-relay-bin.000624":
                    self.assertEqual(out.returncode, 0, out.stderr)
                    self.assertEqual(len(top), expected["events"])
                    for e in top:
                        for key in ("pos", "type", "name", "time", "server_id", "size"):
                            self.assertIn(key, e)
                    counts = {}
                    for e in top:
                        counts[str(e["type"])] = counts.get(str(e["type"]), 0) + 1
                    self.assertEqual(counts, expected["types"])
                else:
                    self.assertEqual(out.returncode, 1)
                    offset = 4 if not expected["clean"] else 91204
                    self.assertIn(f"at offset {offset}".encode(), out.stderr)

    @needs_fixtures
    def test_inspect_text_shows_gtid_query_and_xid(self):
        out = pitr("inspect", os.path.join(FIXTURES, "mariadb-bin.000001")).stdout.decode()
        self.assertRegex(out, r"GTID_EVENT .* gtid=0-1-\d+")
        self.assertRegex(out, r"XID_EVENT .* xid=\d+")
        self.assertRegex(out, r"ANNOTATE_ROWS_EVENT .* query=insert into outbox")
        gtid = pitr("inspect", os.path.join(FIXTURES, "binlog_transaction_with_GTID.000001"))
        self.assertRegex(gtid.stdout.decode(), r"QUERY_EVENT .* query=DROP TABLE")
        self.assertRegex(gtid.stdout.decode(), r"GTID_LOG_EVENT .* gtid=[0-9a-f-]{36}:\d+")
        payload = pitr("inspect", os.path.join(FIXTURES, "transaction_compression.000001"))
        self.assertIn(b"compression=zstd", payload.stdout)
        self.assertRegex(payload.stdout.decode(), r"\n  +\d+ +30 WRITE_ROWS_EVENT")

    def test_every_command_has_help(self):
        for command in ("capture", "status", "get", "verify", "inspect", "find", "backup",
                        "restore", "wal-fetch", "expire"):
            out = pitr(command, "--help")
            self.assertIn(b"Usage", out.stdout + out.stderr, command)
        self.assertEqual(pitr("--help").returncode, 0)

    def test_usage_errors_exit_2(self):
        self.assertEqual(pitr("capture", check=False).returncode, 2)
        self.assertEqual(pitr("nonsense", check=False).returncode, 2)
        # Found after parsing: still 2, naming the option and the form it wants.
        with tempfile.TemporaryDirectory() as tmp:
            for args, says in [
                    (("restore", "--archive", tmp, "--to-position", "binlog.000001"),
                     b"--to-position wants FILE:POS"),
                    (("restore", "--archive", tmp, "--to-position", "binlog.000001:x12"),
                     b"--to-position wants FILE:POS"),
                    (("restore", "--archive", tmp, "--to-time", "yesterday"),
                     b"--to-time wants an ISO 8601 time"),
                    (("restore", "--archive", tmp, "--pgdata", tmp + "/d", "--to-lsn", "12"),
                     b"--to-lsn wants an LSN"),
                    (("find", "--archive", tmp, "--since", "noon"), b"--since wants"),
                    (("capture", "--archive", tmp, "--source", "mysql://u@127.0.0.1:1",
                      "--segment-size", "12Q"), b"--segment-size wants a size"),
                    (("capture", "--archive", tmp, "--source", "mysql://u@127.0.0.1:1",
                      "--ssl-mode", "maybe"), b"--ssl-mode wants"),
                    (("expire", "--archive", tmp), b"say what to keep"),
                    (("expire", "--archive", tmp, "--keep", "0"), b"keep at least 1"),
                    (("expire", "--archive", tmp, "--recovery-window", "7"),
                     b"--recovery-window wants a duration"),
                    (("status", "--archive", "s3://x"), b"not a valid bucket name"),
                    (("status", "--archive", "ftp://host/x"), b"unknown scheme")]:
                out = pitr(*args, check=False, password="x")
                self.assertEqual(out.returncode, 2, (args, out.stderr))
                self.assertIn(says, out.stderr, args)
                self.assertNotIn(b"stoull", out.stderr, args)

    def test_password_in_uri_is_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = pitr("capture", "--archive", tmp, "--source", "mysql://u:secret@127.0.0.1:1",
                       check=False)
            self.assertEqual(out.returncode, 1)
            self.assertIn(b"PITR_PASSWORD", out.stderr)
            self.assertNotIn(b"secret", out.stderr)

    def test_not_an_archive(self):
        with tempfile.TemporaryDirectory() as tmp:
            for command in ("status", "verify"):
                out = pitr(command, "--archive", tmp, check=False)
                self.assertEqual(out.returncode, 1)
                self.assertIn(b"is not a pitr archive", out.stderr)

    def test_missing_fixtures_are_skipped_with_one_line_or_fail_under_ci(self):
        # Runs the fixture tests of this file with PITR_FIXTURES pointing nowhere.
        with tempfile.TemporaryDirectory() as tmp:
            nowhere = os.path.join(tmp, "nowhere")
            env = dict(os.environ, PITR_FIXTURES=nowhere)
            env.pop("CI", None)
            argv = [sys.executable, "-m", "unittest", "-v",
                    "test_cli.CliTest.test_inspect_json_lists_every_event",
                    "test_cli.CliTest.test_inspect_text_shows_gtid_query_and_xid"]
            here = os.path.dirname(os.path.abspath(__file__))
            skipped = subprocess.run(argv, cwd=here, env=env, capture_output=True, text=True)
            self.assertEqual(skipped.returncode, 0, skipped.stderr)
            self.assertIn("OK (skipped=2)", skipped.stderr)
            lines = [line for line in skipped.stderr.splitlines() if "skipped '" in line]
            self.assertEqual(len(lines), 2, skipped.stderr)
            for line in lines:
                self.assertIn(f"no directory {nowhere}/mysql-binlogs; set PITR_FIXTURES", line)
            env["CI"] = "true"
            failed = subprocess.run(argv, cwd=here, env=env, capture_output=True, text=True)
            self.assertNotEqual(failed.returncode, 0)
            self.assertIn("FAILED (failures=2)", failed.stderr)
            self.assertIn("CI=true: the fixtures are required", failed.stderr)


if __name__ == "__main__":
    unittest.main()
