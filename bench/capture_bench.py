#!/usr/bin/env python3
"""Capture benchmark: pitr capture vs mariadb-binlog --read-from-remote-server --raw.

Both read the same binlogs (>= --megabytes MB written by sysbench, plus one 100 MiB
transaction and one 40 MiB row) from one private MariaDB on loopback, in the same run,
alternating, --rounds times. Prints per-tool medians of wall time, throughput, CPU seconds
(and per MiB) and peak RSS, pitr's compression ratio, and the throughput ratio. With --s3,
pitr also captures into a private Ceph RADOS Gateway on loopback (s3://bench/round-N, the
open tail in a local spool) each round: its time runs until the last segment is stored in
the bucket.

    bench/capture_bench.py [--megabytes 150] [--rounds 3] [--pitr build/tools/pitr] [--s3]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import PITR, CephGateway, MariaDB  # noqa: E402


def run_measured(cmd, env=None):
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{err}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024}


def dir_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def generate(server, megabytes):
    sock = os.path.join(server.dir, "mysqld.sock")
    server.sql("CREATE DATABASE sbtest;")
    common = ["--db-driver=mysql", f"--mysql-socket={sock}", "--mysql-user=root",
              "--tables=4", "--table-size=20000", "--threads=4"]
    subprocess.run(["sysbench", "oltp_write_only", *common, "prepare"], check=True,
                   capture_output=True)
    while sum(os.path.getsize(server.binlog_path(n)) for n in server.binlogs()) < megabytes << 20:
        subprocess.run(["sysbench", "oltp_write_only", *common, "--time=10", "run"], check=True,
                       capture_output=True)
    # Large transactions: capture's memory must not grow with them.
    server.sql("CREATE TABLE sbtest.big (id INT AUTO_INCREMENT PRIMARY KEY, b LONGBLOB);"
               "BEGIN;" + "INSERT INTO sbtest.big (b) VALUES (REPEAT(MD5(RAND()), 32768));" * 100
               + "COMMIT;"
               "INSERT INTO sbtest.big (b) VALUES (REPEAT(MD5(RAND()), 40 * 32768));")
    server.sql("FLUSH BINARY LOGS;")
    return sum(os.path.getsize(server.binlog_path(n)) for n in server.binlogs())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--megabytes", type=int, default=150)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pitr", default=PITR)
    ap.add_argument("--pitr-args", default="", help="extra pitr capture options, e.g. "
                    "'--compression-level 1'")
    ap.add_argument("--s3", action="store_true",
                    help="also capture into a private Ceph gateway (scripts/ceph-instance)")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="pitr-bench-")
    server = MariaDB(tmp)
    gateway = CephGateway(tmp, bucket="bench") if args.s3 else None
    try:
        total = generate(server, args.megabytes)
        first = server.binlogs()[0]
        print(f"binlog: {total / 2**20:.1f} MiB in {len(server.binlogs())} files on MariaDB "
              f"at 127.0.0.1:{server.port}")
        env = dict(os.environ, PITR_PASSWORD=server.password, MYSQL_PWD=server.password)
        results = {"pitr": [], "mariadb-binlog": []}
        if gateway:
            results["pitr into S3"] = []
            env.update(gateway.env())
        ratio_sizes = []
        for r in range(args.rounds):
            out = os.path.join(tmp, f"raw-{r}")
            os.makedirs(out)
            results["mariadb-binlog"].append(run_measured(
                ["mariadb-binlog", "--no-defaults", "--read-from-remote-server", "--raw",
                 "--host=127.0.0.1", f"--port={server.port}", "--user=pitr", "--to-last-log",
                 f"--result-file={out}/", first], env))
            raw_size = dir_size(out)
            shutil.rmtree(out)
            archive = os.path.join(tmp, f"archive-{r}")
            results["pitr"].append(run_measured(
                [args.pitr, "capture", "--archive", archive, "--source", server.uri,
                 "--stop-at-end", *args.pitr_args.split()], env))
            ratio_sizes.append((raw_size, dir_size(os.path.join(archive, "binlog"))))
            shutil.rmtree(archive)
            if gateway:
                spool = os.path.join(tmp, f"spool-{r}")
                results["pitr into S3"].append(run_measured(
                    [args.pitr, "capture", "--archive", f"s3://bench/round-{r}", "--spool", spool,
                     "--source", server.uri, "--stop-at-end", *args.pitr_args.split()], env))
                shutil.rmtree(spool)

        def median(tool, key):
            return statistics.median(x[key] for x in results[tool])

        mib = total / 2**20
        for r in range(args.rounds):
            print(f"round {r}: " + " | ".join(
                f"{tool} {results[tool][r]['wall']:.2f} s cpu {results[tool][r]['cpu']:.2f} s"
                for tool in results))
        print(f"{'tool':16} {'wall s':>8} {'MiB/s':>8} {'CPU s':>8} {'CPU s/MiB':>10} "
              f"{'peak RSS MiB':>13}")
        for tool in results:
            wall, cpu = median(tool, "wall"), median(tool, "cpu")
            print(f"{tool:16} {wall:8.2f} {mib / wall:8.1f} {cpu:8.2f} {cpu / mib:10.4f} "
                  f"{median(tool, 'rss_mib'):13.1f}")
        raw, stored = ratio_sizes[-1]
        print(f"bytes written: mariadb-binlog {raw / 2**20:.1f} MiB, pitr {stored / 2**20:.1f} MiB "
              f"(compression ratio {raw / stored:.2f})")
        print(f"throughput ratio pitr / mariadb-binlog: "
              f"{median('mariadb-binlog', 'wall') / median('pitr', 'wall'):.2f} "
              f"(median of {args.rounds} rounds; > 1 means pitr is faster)")
        if gateway:
            print(f"throughput ratio pitr into S3 / mariadb-binlog to local disk: "
                  f"{median('mariadb-binlog', 'wall') / median('pitr into S3', 'wall'):.2f}; "
                  f"pitr into S3 / pitr into a local directory: "
                  f"{median('pitr', 'wall') / median('pitr into S3', 'wall'):.2f}")
        print(f"peak RSS pitr: {max(x['rss_mib'] for x in results['pitr']):.1f} MiB "
              f"(target < 64 MiB)")
    finally:
        server.stop()
        if gateway:
            gateway.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
