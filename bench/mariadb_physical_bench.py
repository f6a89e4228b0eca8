#!/usr/bin/env python3
"""MariaDB physical backup benchmark, in one run on one machine, on the same private server:

1. full: `pitr backup --method physical --type full` against `mariabackup --backup
   --target-dir` (both read the whole data directory; pitr stores it compressed in its block
   store, mariabackup writes files);
2. after --changed percent of the rows were updated: `pitr backup --type incr` against
   `mariabackup --backup --incremental-basedir=FULL` (time, and bytes stored);
3. restore of that incremental into an empty data directory ready to start: `pitr restore
   --datadir` (files rebuilt from the block store, one --prepare) against mariabackup's
   chain (`--prepare` of the full, `--prepare --incremental-dir`, `--move-back`; copying the
   backups first so they survive the prepare is not counted).

Prints each time, CPU seconds per MiB of data directory, bytes, and the ratios (> 1: pitr
is faster or stores less).

    bench/mariadb_physical_bench.py [--rows 1000000] [--changed 5] [--pitr build/tools/pitr]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import PITR, Capture, MariaDB, wait_until  # noqa: E402
from measure import run_measured, run_measured_output  # noqa: E402


def dir_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def settle(server):
    """Dirty pages flushed and the checkpoint caught up, as on a server running a while."""
    wait_until(lambda: int(server.sql(
        "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
        "WHERE VARIABLE_NAME = 'INNODB_CHECKPOINT_AGE'")) < 4096, 600, what="the checkpoint")


def mariabackup(server, *args):
    options = os.path.join(server.dir, "bench.cnf")
    with open(options, "w") as f:
        f.write(f"[client]\nuser=pitr\npassword={server.password}\n")
    return ["mariabackup", f"--defaults-extra-file={options}", "--host=127.0.0.1",
            f"--port={server.port}", *args]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--changed", type=float, default=5.0,
                    help="percent of rows updated, in one range of ids (so of pages too)")
    ap.add_argument("--pitr", default=PITR)
    args = ap.parse_args()
    harness.PITR = args.pitr  # the capture runs this pitr too
    tmp = tempfile.mkdtemp(prefix="pitr-bench-mb-")
    os.chmod(tmp, 0o755)
    server = MariaDB(tmp)
    env = dict(os.environ, PITR_PASSWORD=server.password)
    try:
        server.sql(f"""SET GLOBAL innodb_max_dirty_pages_pct = 0;
            CREATE DATABASE bench; USE bench;
            CREATE TABLE t (id INT PRIMARY KEY, k INT, pad CHAR(120), note VARCHAR(100), KEY (k));
            INSERT INTO t SELECT seq, seq % 1000, REPEAT('p', 120), MD5(seq)
              FROM seq_1_to_{args.rows};""")
        settle(server)
        archive = os.path.join(tmp, "archive")
        capture = Capture(archive, server).wait_connected()  # restores need the binlog
        backup = [args.pitr, "backup", "--archive", archive, "--source", server.uri,
                  "--method", "physical", "--json"]

        wall, cpu, out = run_measured_output(backup + ["--type", "full"], env)
        full = json.loads(out)
        datadir_mib = full["bytes_read"] / 1048576  # what both read: the streamed files
        mb_full = os.path.join(tmp, "mb-full")
        mwall, mcpu = run_measured(mariabackup(server, "--backup", f"--target-dir={mb_full}"))
        print(f"data directory: {datadir_mib:.0f} MiB streamed (redo log included), {args.rows} rows")
        print(f"full: pitr {wall:.2f} s ({cpu / datadir_mib:.4f} CPU s/MiB, "
              f"{full['bytes_stored'] / 1048576:.1f} MiB stored); mariabackup {mwall:.2f} s "
              f"({mcpu / datadir_mib:.4f} CPU s/MiB, {dir_bytes(mb_full) / 1048576:.1f} MiB "
              f"stored); ratio {mwall / wall:.2f}x")

        # A contiguous range of rows: about the same share of the table's pages.
        server.sql(f"UPDATE bench.t SET note = MD5(id + 1) "
                   f"WHERE id <= {int(args.rows * args.changed / 100)}")
        settle(server)
        gtid = server.sql("SELECT @@gtid_binlog_pos").strip()
        wall, cpu, out = run_measured_output(backup + ["--type", "incr"], env)
        incr = json.loads(out)
        mb_incr = os.path.join(tmp, "mb-incr")
        mwall, mcpu = run_measured(mariabackup(server, "--backup", f"--target-dir={mb_incr}",
                                               f"--incremental-basedir={mb_full}"))
        mb_bytes = dir_bytes(mb_incr)
        print(f"incremental after {args.changed:g}% of rows (and pages) changed: pitr {wall:.2f} s "
              f"({cpu / datadir_mib:.4f} CPU s/MiB), {incr['bytes_read'] / 1048576:.1f} MiB read, "
              f"{incr['bytes_stored'] / 1048576:.2f} MiB stored; mariabackup {mwall:.2f} s, "
              f"{mb_bytes / 1048576:.2f} MiB stored; time ratio {mwall / wall:.2f}x, "
              f"stored ratio {mb_bytes / max(1, incr['bytes_stored']):.1f}x")

        wait_until(lambda: gtid.encode() in subprocess.run(
            [args.pitr, "status", "--archive", archive], capture_output=True).stdout, 60,
            what="capture to archive the update")
        capture.stop()
        restored = os.path.join(tmp, "restored")
        # --to-gtid the incremental's own position: no server is started, as for the chain.
        wall, cpu = run_measured([args.pitr, "restore", "--archive", archive, "--datadir",
                                  restored, "--backup", incr["id"], "--to-gtid", gtid,
                                  "--run-as", "root"], env)
        work_full, work_incr = os.path.join(tmp, "work-full"), os.path.join(tmp, "work-incr")
        shutil.copytree(mb_full, work_full)
        shutil.copytree(mb_incr, work_incr)
        chain = os.path.join(tmp, "chain")
        start = time.monotonic()
        for step in (["--prepare", f"--target-dir={work_full}"],
                     ["--prepare", f"--target-dir={work_full}", f"--incremental-dir={work_incr}"],
                     ["--move-back", f"--target-dir={work_full}", f"--datadir={chain}"]):
            subprocess.run(["mariabackup", *step], check=True, capture_output=True)
        mwall = time.monotonic() - start
        print(f"restore of the incremental: pitr {wall:.2f} s (rebuild + one prepare); "
              f"mariabackup chain {mwall:.2f} s (prepare, prepare --incremental-dir, "
              f"move-back); ratio {mwall / wall:.2f}x")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
