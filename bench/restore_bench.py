#!/usr/bin/env python3
"""Restore benchmark, in one run on one machine:

1. binlog apply: `pitr restore` against `mariadb-binlog FILES | mariadb`, both applying the
   same archived sysbench binlog (>= --megabytes MB written after a base backup) onto a
   target that holds that base backup;
2. base backup + load: `pitr backup` + the load step of `pitr restore` against
   `mariadb-dump --single-transaction` + `mariadb < dump`, on the same data;
3. with --s3: the same `pitr restore` (load + apply) from an archive in a private Ceph
   gateway (scripts/ceph-instance) against the restore from the local archive.

Prints each time and the ratios (> 1 means pitr is faster).

    bench/restore_bench.py [--megabytes 100] [--table-size 200000] [--pitr build/tools/pitr]
                           [--s3]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import INSTANCE, PITR, CephGateway, MariaDB  # noqa: E402


def timed(cmd, **kwargs):
    start = time.monotonic()
    out = subprocess.run(cmd, check=True, capture_output=True, **kwargs)
    return time.monotonic() - start, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--megabytes", type=int, default=100)
    ap.add_argument("--table-size", type=int, default=200000)
    ap.add_argument("--pitr", default=PITR)
    ap.add_argument("--s3", action="store_true",
                    help="also restore from an archive in a private Ceph gateway")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="pitr-restore-bench-")
    servers = []
    try:
        source = MariaDB(tmp, 1)
        servers.append(source)
        if args.s3:
            servers.append(CephGateway(tmp, bucket="bench"))
            os.environ.update(servers[-1].env())
        s3_archive = ["--archive", "s3://bench/restore", "--spool", os.path.join(tmp, "spool")]
        env = dict(os.environ, PITR_PASSWORD=source.password, MYSQL_PWD=source.password)
        sock = os.path.join(source.dir, "mysqld.sock")
        common = ["--db-driver=mysql", f"--mysql-socket={sock}", "--mysql-user=root", "--tables=4",
                  f"--table-size={args.table_size}", "--threads=4"]
        source.sql("CREATE DATABASE sbtest;")
        subprocess.run(["sysbench", "oltp_write_only", *common, "prepare"], check=True,
                       capture_output=True)
        archive = os.path.join(tmp, "archive")

        # Base backup and load: pitr vs mariadb-dump | mariadb.
        t_backup, _ = timed([args.pitr, "backup", "--archive", archive, "--source", source.uri,
                             "--jobs", "4"], env=env)
        if args.s3:  # the same backup position: nothing is written in between
            subprocess.run([args.pitr, "backup", *s3_archive[:2], "--source", source.uri,
                            "--jobs", "4"], check=True, capture_output=True, env=env)
        dump = os.path.join(tmp, "dump.sql")
        with open(dump, "wb") as f:
            start = time.monotonic()
            subprocess.run(["mariadb-dump", "--no-defaults", "-h127.0.0.1", f"-P{source.port}",
                            "-upitr", "--single-transaction", "--databases", "sbtest"],
                           stdout=f, check=True, env=env)
            t_dump = time.monotonic() - start
        start_pos = source.sql("SHOW MASTER STATUS").split("\t")[:2]
        first_file, first_pos = start_pos[0], int(start_pos[1])

        # The binlog to replay, written after the backup.
        def binlog_bytes():
            total = 0
            for name in source.binlogs():
                size = os.path.getsize(source.binlog_path(name))
                total += size - (first_pos if name == first_file else 0)
            return total
        while binlog_bytes() < args.megabytes << 20:
            subprocess.run(["sysbench", "oltp_write_only", *common, "--time=15", "run"],
                           check=True, capture_output=True)
        replay_mb = binlog_bytes() / 2**20
        subprocess.run([args.pitr, "capture", "--archive", archive, "--source", source.uri,
                        "--stop-at-end"], check=True, capture_output=True, env=env)
        if args.s3:
            subprocess.run([args.pitr, "capture", *s3_archive, "--source", source.uri,
                            "--stop-at-end"], check=True, capture_output=True, env=env)
        expected = source.sql("CHECKSUM TABLE sbtest.sbtest1, sbtest.sbtest2, sbtest.sbtest3, "
                              "sbtest.sbtest4 EXTENDED")
        source.stop()
        servers.remove(source)

        # pitr restore: load + apply, timed separately by pitr itself.
        target = MariaDB(tmp, 2)
        servers.append(target)
        start = time.monotonic()
        out = subprocess.run([args.pitr, "restore", "--archive", archive, "--target", target.uri,
                              "--jobs", "4"], check=True, capture_output=True,
                             env=dict(os.environ, PITR_PASSWORD=target.password)).stderr.decode()
        t_pitr_total = time.monotonic() - start
        t_pitr_load = float(re.search(r"loaded the base backup in ([\d.]+) s", out).group(1))
        t_pitr_apply = float(re.search(r"applied the binlog in ([\d.]+) s", out).group(1))
        got = target.sql("CHECKSUM TABLE sbtest.sbtest1, sbtest.sbtest2, sbtest.sbtest3, "
                         "sbtest.sbtest4 EXTENDED")
        assert got == expected, "pitr restore did not reproduce the source"
        target.stop()
        servers.remove(target)

        if args.s3:  # the same restore, from the gateway
            target = MariaDB(tmp, 4)
            servers.append(target)
            t_s3_total, _ = timed([args.pitr, "restore", *s3_archive[:2], "--target", target.uri,
                                   "--jobs", "4"], env=dict(os.environ, PITR_PASSWORD=target.password))
            got = target.sql("CHECKSUM TABLE sbtest.sbtest1, sbtest.sbtest2, sbtest.sbtest3, "
                             "sbtest.sbtest4 EXTENDED")
            assert got == expected, "pitr restore from the gateway did not reproduce the source"
            target.stop()
            servers.remove(target)

        # mariadb < dump, then mariadb-binlog | mariadb from the same position.
        target = MariaDB(tmp, 3)
        servers.append(target)
        with open(dump, "rb") as f:
            t_load, _ = timed([INSTANCE, "sql", target.dir], stdin=f)
        files = []
        names = [n for n in sorted(os.listdir(os.path.join(archive, "binlog", "mariadb-1-0")))]
        for name in names[names.index(first_file):]:
            path = os.path.join(tmp, name)
            subprocess.run([args.pitr, "get", "--archive", archive, name, "-o", path], check=True)
            files.append(path)
        start = time.monotonic()
        binlog = subprocess.Popen(["mariadb-binlog", f"--start-position={first_pos}", *files],
                                  stdout=subprocess.PIPE)
        subprocess.run([INSTANCE, "sql", target.dir], stdin=binlog.stdout, check=True)
        binlog.wait()
        t_binlog_apply = time.monotonic() - start
        got = target.sql("CHECKSUM TABLE sbtest.sbtest1, sbtest.sbtest2, sbtest.sbtest3, "
                         "sbtest.sbtest4 EXTENDED")
        assert got == expected, "mariadb-binlog | mariadb did not reproduce the source"

        print(f"binlog replayed: {replay_mb:.1f} MiB of sysbench oltp_write_only")
        print(f"apply  pitr restore {t_pitr_apply:7.2f} s   mariadb-binlog | mariadb "
              f"{t_binlog_apply:7.2f} s   ratio {t_binlog_apply / t_pitr_apply:.2f}")
        print(f"backup pitr backup  {t_backup:7.2f} s   mariadb-dump             {t_dump:7.2f} s")
        print(f"load   pitr restore {t_pitr_load:7.2f} s   mariadb < dump           {t_load:7.2f} s")
        print(f"backup + load ratio {(t_dump + t_load) / (t_backup + t_pitr_load):.2f}")
        print(f"pitr restore total (load + apply) {t_pitr_total:.2f} s")
        if args.s3:
            print(f"restore from the gateway {t_s3_total:.2f} s, from a local directory "
                  f"{t_pitr_total:.2f} s: ratio {t_pitr_total / t_s3_total:.2f} (target >= 0.8)")
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
