#!/usr/bin/env python3
"""Change history benchmark: `pitr log --format json` over an archive against `mariadb-binlog
-vv --base64-output=decode-rows` over the same binlog files, in one run on one machine.

A private MariaDB (binlog_row_metadata=FULL) writes at least --megabytes of row events
(inserts, then updates of every row, of a table with integers, DECIMAL, DATETIME(6), VARCHAR,
a nullable TEXT and a BLOB); pitr capture archives them. Then each tool decodes every row into
a file, alternating, --rounds times; the medians are compared. Both write what the user reads:
pitr one JSON object per row change, mariadb-binlog its commented pseudo-SQL.

    bench/log_bench.py [--megabytes 100] [--rounds 3] [--pitr build/tools/pitr]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
sys.path.insert(0, os.path.dirname(__file__))
from harness import PITR, MariaDB  # noqa: E402
from measure import run_measured  # noqa: E402

TABLE = """CREATE DATABASE bench;
CREATE TABLE bench.events (id INT UNSIGNED PRIMARY KEY, user BIGINT, amount DECIMAL(12,2),
  at DATETIME(6), kind VARCHAR(20), note TEXT NULL, payload BLOB);"""


def binlog_bytes(server):
    return sum(int(line.split("\t")[1]) for line in
               server.sql("SHOW BINARY LOGS").splitlines())


def write_rows(server, megabytes):
    """Batches of 20000 rows until the binlog holds `megabytes`, then every row updated."""
    first = 0
    while binlog_bytes(server) < megabytes * 1048576 * 0.6:
        server.sql(f"INSERT INTO bench.events SELECT seq, seq * 7919, seq / 100, "
                   f"'2024-01-01' + INTERVAL seq SECOND + INTERVAL seq MOD 1000000 MICROSECOND, "
                   f"ELT(1 + seq MOD 3, 'view', 'click', 'buy'), "
                   f"IF(seq MOD 10 = 0, NULL, REPEAT('n', seq MOD 50)), RANDOM_BYTES(64) "
                   f"FROM bench.seq_{first + 1}_to_{first + 20000}")
        first += 20000
    for start in range(0, first, 20000):
        server.sql(f"UPDATE bench.events SET amount = amount + 1, kind = 'seen' "
                   f"WHERE id > {start} AND id <= {start + 20000}")
    return first


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--megabytes", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pitr", default=PITR)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="pitr-log-bench-")
    server = None
    try:
        server = MariaDB(tmp, extra_args=["--binlog-row-metadata=FULL",
                                          "--max-binlog-size=1073741824"])
        server.sql(TABLE)
        rows = write_rows(server, args.megabytes)
        server.sql("FLUSH BINARY LOGS")
        archive = os.path.join(tmp, "archive")
        env = dict(os.environ, PITR_PASSWORD=server.password)
        subprocess.run([args.pitr, "capture", "--archive", archive, "--source", server.uri,
                        "--stop-at-end"], env=env, check=True, capture_output=True)
        files = [server.binlog_path(name) for name in server.binlogs()[:-1]]
        mib = sum(os.path.getsize(f) for f in files) / 1048576
        print(f"{rows} rows inserted and updated: {mib:.1f} MiB of binlog in {len(files)} files")
        out = os.path.join(tmp, "out")
        pitr_cmd = ["bash", "-c", f"{args.pitr} log --archive {archive} > {out}"]
        baseline = ["bash", "-c", "mariadb-binlog -vv --base64-output=decode-rows " +
                    " ".join(files) + f" > {out}"]
        times = {"pitr": [], "mariadb-binlog": []}
        cpu = {"pitr": [], "mariadb-binlog": []}
        for _ in range(args.rounds):
            for name, cmd in (("mariadb-binlog", baseline), ("pitr", pitr_cmd)):
                wall, used = run_measured(cmd)
                times[name].append(wall)
                cpu[name].append(used)
                print(f"  {name:<15} {wall:6.2f} s, {used:6.2f} CPU s, "
                      f"{os.path.getsize(out) / 1048576:7.1f} MiB written")
        p, b = statistics.median(times["pitr"]), statistics.median(times["mariadb-binlog"])
        print(f"median: pitr log {p:.2f} s ({1000 * statistics.median(cpu['pitr']) / mib:.1f} "
              f"CPU ms/MiB), mariadb-binlog {b:.2f} s "
              f"({1000 * statistics.median(cpu['mariadb-binlog']) / mib:.1f} CPU ms/MiB): "
              f"ratio {b / p:.2f}")
    finally:
        if server:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
