#!/usr/bin/env python3
"""ClickHouse backup benchmark, in one run on one machine, against the plain way: FREEZE WITH
NAME, then `tar --zstd` of the shadow (default zstd level), fsynced.

1. full: `pitr backup --type full` against FREEZE + tar of every part;
2. after --added percent more rows arrived (new parts): `pitr backup` (incr: only new parts
   read) against FREEZE + tar again (the plain way has no incremental);
3. restore of that backup onto a fresh server: `pitr restore` (DDL, parts written into
   detached/, ATTACH PART, every table's rows and content hash checked) against the plain
   way (DDL, `tar --zstd -x` into detached/, chown, ATTACH PART of each part, no check).

Prints each time (the time until the backup is durable, or until the server holds the data),
CPU milliseconds per MiB of the table's parts (of the client processes: pitr, or tar and zstd;
the server's work, such as the row hashes pitr asks it for, is not counted), bytes stored,
and ratios (> 1: pitr is faster or stores less).

    bench/clickhouse_bench.py [--rows 5000000] [--added 2] [--pitr build/tools/pitr]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import PITR, ClickHouse  # noqa: E402
from measure import run_measured, run_measured_output  # noqa: E402

DDL = ("CREATE TABLE bench.events (day Date, id UInt64, user UInt32, kind String, "
       "amount Float64, note Nullable(String)) ENGINE = MergeTree PARTITION BY toYYYYMM(day) "
       "ORDER BY (user, id)")


def insert(server, first, count):
    server.sql(f"INSERT INTO bench.events SELECT toDate('2024-01-01') + intDiv(number, 20000), "
               f"number, rand() % 100000, ['view', 'click', 'buy'][rand() % 3 + 1], "
               f"rand() / 1000, if(rand() % 10 = 0, NULL, toString(rand64())) "
               f"FROM numbers({first}, {count})")


def parts_bytes(server):
    return int(server.sql("SELECT sum(bytes_on_disk) FROM system.parts "
                          "WHERE database = 'bench' AND active"))


def plain_backup(server, out, n):
    """FREEZE, tar --zstd of the shadow, fsync: what the plain way waits for."""
    name = f"bench_{n}"
    script = (f"set -e; printf '%s' \"ALTER TABLE bench.events FREEZE WITH NAME '{name}'\" | "
              f"{harness.CH_INSTANCE} sql {server.dir}; "
              f"tar --zstd -cf {out} -C {server.data_path}shadow/{name} .; sync -f {out}; "
              f"rm -rf {server.data_path}shadow/{name}")
    return run_measured(["bash", "-c", script])


def plain_restore(server, tarball):
    """DDL, the parts untarred into detached/, given to the server's user, attached."""
    detached = f"{server.data_path}data/bench/events/detached"
    script = (f"set -e; printf '%s\\n' 'CREATE DATABASE bench;' \"{DDL};\" | "
              f"{harness.CH_INSTANCE} sql {server.dir}; "
              f"tmp=$(mktemp -d); tar --zstd -xf {tarball} -C $tmp; "
              f"mv $tmp/data/bench/events/* {detached}/; rm -rf $tmp; "
              f"chown -R clickhouse: {detached}; "
              f"for p in $(ls {detached}); do printf '%s' \"ALTER TABLE bench.events ATTACH PART '$p'\""
              f" | {harness.CH_INSTANCE} sql {server.dir}; done")
    return run_measured(["bash", "-c", script])


def pitr_backup(args, archive, server, *extra):
    env = dict(os.environ, PITR_PASSWORD=server.password)
    wall, cpu, out = run_measured_output(
        [args.pitr, "backup", "--archive", archive, "--source", server.uri, "--json", *extra], env)
    return wall, cpu, json.loads(out)


def pitr_restore(args, archive, server, backup_id):
    env = dict(os.environ, PITR_PASSWORD=server.password)
    return run_measured([args.pitr, "restore", "--archive", archive, "--target", server.uri,
                         "--backup", backup_id], env)


def row(what, pitr, plain, unit="s"):
    ratio = plain / pitr if pitr else float("inf")
    print(f"{what:<34} pitr {pitr:10.2f} {unit}   plain {plain:10.2f} {unit}   ratio {ratio:5.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=5000000)
    ap.add_argument("--added", type=float, default=2.0, help="percent more rows before step 2")
    ap.add_argument("--pitr", default=PITR)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="pitr-ch-bench-")
    os.chmod(tmp, 0o755)
    servers = []
    try:
        source = ClickHouse(tmp, "source")
        servers.append(source)
        source.sql(f"CREATE DATABASE bench;\n{DDL};")
        insert(source, 0, args.rows)
        mib = parts_bytes(source) / 1048576
        archive = os.path.join(tmp, "archive")
        print(f"{args.rows} rows, {mib:.1f} MiB of parts")

        wall, cpu, full = pitr_backup(args, archive, source, "--type", "full")
        p_wall, p_cpu = plain_backup(source, os.path.join(tmp, "plain-full.tar.zst"), 1)
        row("full backup", wall, p_wall)
        row("  CPU ms per MiB", 1000 * cpu / mib, 1000 * p_cpu / mib, "ms")
        row("  MiB stored", full["bytes_stored"] / 1048576,
            os.path.getsize(os.path.join(tmp, "plain-full.tar.zst")) / 1048576, "MiB")

        added = int(args.rows * args.added / 100)
        insert(source, args.rows, added)
        mib = parts_bytes(source) / 1048576
        wall, cpu, incr = pitr_backup(args, archive, source)
        plain_tar = os.path.join(tmp, "plain-second.tar.zst")
        p_wall, p_cpu = plain_backup(source, plain_tar, 2)
        row(f"backup after {args.added}% more rows", wall, p_wall)
        row("  CPU ms per MiB", 1000 * cpu / mib, 1000 * p_cpu / mib, "ms")
        row("  MiB stored", incr["bytes_stored"] / 1048576, os.path.getsize(plain_tar) / 1048576,
            "MiB")

        target = ClickHouse(tmp, "target")
        servers.append(target)
        plain_target = ClickHouse(tmp, "plain-target")
        servers.append(plain_target)
        wall, cpu = pitr_restore(args, archive, target, incr["id"])
        p_wall, p_cpu = plain_restore(plain_target, plain_tar)
        count = "SELECT count(), sum(id) FROM bench.events"
        if target.sql(count) != source.sql(count) or plain_target.sql(count) != source.sql(count):
            raise SystemExit("a restored server does not hold the source's rows")
        row("restore of the second backup", wall, p_wall)
        row("  CPU ms per MiB", 1000 * cpu / mib, 1000 * p_cpu / mib, "ms")
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
