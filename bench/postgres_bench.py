#!/usr/bin/env python3
"""PostgreSQL benchmark, in one run on one machine, against PostgreSQL's own tools:

1. WAL streaming: `pitr capture` against `pg_receivewal`, each through its own slot,
   catching up on the same pgbench WAL (--seconds of pgbench after the slots were made):
   wall time, MB/s and CPU seconds (user + system) of each.
2. Base backup: `pitr backup` (pages into the block store, every file checked against the
   server's manifest) into an empty archive and into one already holding backups, against
   `pg_basebackup -Ft -Z zstd -X none`, on the same data.
3. Recovery: the same base backup recovering the same WAL, once with
   `restore_command = pitr wal-fetch` (compressed archive, prefetch) and once with
   `restore_command = cp DIR/%f %p` from a local uncompressed directory; the time from
   server start to promotion.

4. Incremental backup after about 5% of the pages changed (--rows-percent of
   pgbench_accounts' rows updated, 2.5 by default: those pages, the pages their new versions
   go to, and index pages; the share of pages read is printed): `pitr backup --type incr`
   against a full `pg_basebackup -Ft -Z zstd` (time and bytes read from the server).

Prints each measurement and the ratios (> 1 means pitr is faster).

    bench/postgres_bench.py [--scale 20] [--seconds 30] [--pitr build/tools/pitr]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from measure import run_measured, run_measured_output  # noqa: E402
from harness import PITR, PostgreSQL, free_port, shared_with_postgres  # noqa: E402


def owner(cmd):
    return ["runuser", "-u", "postgres", "--"] + cmd if os.geteuid() == 0 else cmd


def lsn_value(text):
    hi, lo = text.split("/")
    return int(hi, 16) << 32 | int(lo, 16)


def wait_promoted(pgdata, timeout=1800):
    start = time.monotonic()
    while os.path.exists(os.path.join(pgdata, "recovery.signal")):
        stopped = time.monotonic() - start > 3 and not os.path.exists(
            os.path.join(pgdata, "postmaster.pid"))
        if stopped or time.monotonic() - start > timeout:
            raise SystemExit(f"recovery in {pgdata} did not finish; see its bench.log")
        time.sleep(0.05)
    return time.monotonic() - start


def time_basebackup(pg, into, env, plain=False):
    """Wall seconds of a full `pg_basebackup -Ft -Z zstd`, or with `plain` in its default
    format (plain files, uncompressed, fsynced), its output removed after."""
    form = [] if plain else ["-Ft", "-Z", "zstd"]
    wall = run_measured(
        [pg.bin("pg_basebackup"), "-D", into, *form, "-X", "none",
         "--checkpoint=fast", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "pitr", "-w"],
        env=env)[0]
    shutil.rmtree(into)
    return wall


def incremental(args, pg, tmp, env):
    """4. Incremental backup after --rows-percent of pgbench_accounts' rows changed (a slice
    of its pages, the pages their new versions went to, and index pages): `pitr backup --type
    incr` (changed blocks over SQL, found through the WAL capture archived and summarized)
    against a full `pg_basebackup`, each round after another slice. Time until the backup is
    stored, and bytes read from the server."""
    archive = shared_with_postgres(os.path.join(tmp, "incremental"))
    capture = subprocess.Popen([args.pitr, "capture", "--archive", archive, "--source", pg.uri],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        full = json.loads(subprocess.run(
            [args.pitr, "backup", "--archive", archive, "--source", pg.uri, "--type", "full",
             "--json"], env=env, check=True, capture_output=True).stdout)
        rows = int(args.scale * 100000 * args.rows_percent / 100)
        bb_walls, plain_walls, pi_walls, pi_read, pi_cpu = [], [], [], [], []
        for i in range(args.backup_runs):
            first = i * rows + 1
            pg.sql(f"UPDATE pgbench_accounts SET abalance = abalance + 1 "
                   f"WHERE aid BETWEEN {first} AND {first + rows - 1}")
            bb_walls.append(time_basebackup(pg, os.path.join(tmp, f"incr-basebackup-{i}"), env))
            plain_walls.append(time_basebackup(pg, os.path.join(tmp, f"incr-plain-{i}"), env,
                                               plain=True))
            wall, cpu, out = run_measured_output(
                [args.pitr, "backup", "--archive", archive, "--source", pg.uri, "--type", "incr",
                 "--json"], env=env)
            result = json.loads(out)
            if result["type"] != "incr":
                raise SystemExit(f"round {i}: pitr took a {result['type']} backup, not incr")
            pi_walls.append(wall)
            pi_cpu.append(cpu)
            pi_read.append(result["bytes_read"])
        bb_wall, pi_wall = statistics.median(bb_walls), statistics.median(pi_walls)
        read = statistics.median(pi_read)
        print(f"incremental after {args.rows_percent}% of rows changed (pages read: "
              f"{100 * read / full['bytes_read']:.1f}% of the full backup's bytes): "
              f"pg_basebackup -Ft -Z zstd {bb_wall:6.2f} s, "
              f"read {full['bytes_read'] / 1048576:.0f} MiB | pitr backup --type incr "
              f"{pi_wall:6.2f} s (cpu {statistics.median(pi_cpu):.2f} s), read "
              f"{read / 1048576:.1f} MiB | time ratio {bb_wall / pi_wall:.2f}x, bytes read ratio "
              f"{full['bytes_read'] / read:.1f}x (medians of {args.backup_runs}: "
              f"{' '.join(f'{w:.2f}' for w in bb_walls)} | {' '.join(f'{w:.2f}' for w in pi_walls)})")
        plain = statistics.median(plain_walls)
        print(f"  against pg_basebackup in its default format (plain, uncompressed, fsynced) "
              f"{plain:6.2f} s: time ratio {plain / pi_wall:.2f}x (runs "
              f"{' '.join(f'{w:.2f}' for w in plain_walls)})")
    finally:
        capture.terminate()
        capture.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scale", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--backup-runs", type=int, default=5, help="backups by each tool (median)")
    ap.add_argument("--stream-rounds", type=int, default=1,
                    help="catch-ups by each tool, alternating, each through its own slot (median)")
    ap.add_argument("--pitr", default=PITR)
    ap.add_argument("--pitr-args", default="", help="extra pitr capture options, e.g. "
                    "\"--compression-level 1\"")
    ap.add_argument("--streaming-only", action="store_true",
                    help="measure streaming only (no backup and recovery steps)")
    ap.add_argument("--rows-percent", type=float, default=2.5,
                    help="share of pgbench_accounts' rows each incremental round updates")
    ap.add_argument("--incremental-only", action="store_true",
                    help="measure step 4 only (incremental backups against pg_basebackup)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="pitr-pg-bench-")
    os.chmod(tmp, 0o755)
    pg = PostgreSQL(tmp, "source", ["max_wal_size=4GB", "checkpoint_timeout=30min"])
    env = dict(os.environ, PITR_PASSWORD=pg.password, PGPASSWORD=pg.password)
    archive = shared_with_postgres(os.path.join(tmp, "archive"))
    try:
        bench = owner([pg.bin("pgbench"), "-h", pg.dir, "-p", str(pg.port), "-U", "postgres"])
        subprocess.run(bench + ["-i", "-q", "-s", str(args.scale), "postgres"], check=True,
                       capture_output=True)
        if args.incremental_only:
            return incremental(args, pg, tmp, env)
        subprocess.run([args.pitr, "backup", "--archive", archive, "--source", pg.uri], env=env,
                       check=True, capture_output=True)
        backup_dir = sorted(os.listdir(os.path.join(archive, "backups")))[0]
        for r in range(args.stream_rounds):
            pg.sql(f"SELECT pg_create_physical_replication_slot('receivewal_{r}', true);"
                   f"SELECT pg_create_physical_replication_slot('pitr_{r}', true);")
        start_lsn = pg.sql("SELECT pg_current_wal_lsn()").strip()
        subprocess.run(bench + ["-n", "-c", "4", "-j", "2", "-T", str(args.seconds), "postgres"],
                       check=True, capture_output=True)
        end_lsn = pg.sql("SELECT pg_current_wal_lsn()").strip()
        mib = (lsn_value(end_lsn) - lsn_value(start_lsn)) / 1048576
        print(f"pgbench wrote {mib:.0f} MiB of WAL ({start_lsn} .. {end_lsn})")

        # Each round: pg_receivewal, then pitr capture (until the last, open segment reads back
        # through `pitr get`), each catching up through a slot of its own.
        last_segment = pg.sql(f"SELECT pg_walfile_name('{end_lsn}')").strip()
        rounds = []
        for r in range(args.stream_rounds):
            received = os.path.join(tmp, f"receivewal-{r}")
            os.makedirs(received)
            pg_run = run_measured(
                [pg.bin("pg_receivewal"), "-D", received, "-d",
                 f"host=127.0.0.1 port={pg.port} user=pitr", "--slot", f"receivewal_{r}",
                 "--endpos", end_lsn, "--no-loop"], env=env)
            into = archive if r == 0 else shared_with_postgres(os.path.join(tmp, f"archive-{r}"))
            capture = run_measured(
                [args.pitr, "capture", "--archive", into, "--source", pg.uri, "--slot",
                 f"pitr_{r}", "--end-lsn", end_lsn, *args.pitr_args.split()], env=env)
            got = run_measured([args.pitr, "get", "--archive", into, last_segment, "-o",
                                os.devnull], env=env)
            rounds.append((pg_run, (capture[0] + got[0], capture[1] + got[1])))
            if r > 0:
                shutil.rmtree(received)
        received = os.path.join(tmp, "receivewal-0")
        pg_wall = statistics.median(p[0] for p, _ in rounds)
        pg_cpu = statistics.median(p[1] for p, _ in rounds)
        pitr_wall = statistics.median(q[0] for _, q in rounds)
        pitr_cpu = statistics.median(q[1] for _, q in rounds)
        for r, (p, q) in enumerate(rounds):
            print(f"  round {r}: pg_receivewal {p[0]:6.2f} s cpu {p[1]:5.2f} s | pitr capture + get "
                  f"{q[0]:6.2f} s cpu {q[1]:5.2f} s | ratio {p[0] / q[0]:.2f}")
        print(f"streaming  pg_receivewal {pg_wall:6.2f} s {mib / pg_wall:7.1f} MiB/s cpu {pg_cpu:5.2f} s"
              f" ({pg_cpu / mib * 1000:.1f} ms/MiB)"
              f" | pitr capture {pitr_wall:6.2f} s {mib / pitr_wall:7.1f} MiB/s cpu {pitr_cpu:5.2f} s"
              f" ({pitr_cpu / mib * 1000:.1f} ms/MiB)"
              f" | speed ratio {pg_wall / pitr_wall:.2f}x (median of {args.stream_rounds}), "
              f"cpu ratio {pg_cpu / max(pitr_cpu, 1e-3):.2f}x")

        if args.streaming_only:
            return
        # Backups are short: alternate the two tools and compare medians.
        bb_walls, pb_walls, cold_walls = [], [], []
        for i in range(args.backup_runs):
            bb_walls.append(time_basebackup(pg, os.path.join(tmp, f"basebackup-{i}"), env))
            # Into an empty archive (every page new), and into the archive that already holds
            # earlier backups (pages unchanged since are stored once: the daily case).
            cold = shared_with_postgres(os.path.join(tmp, f"cold-{i}"))
            cold_walls.append(run_measured(
                [args.pitr, "backup", "--archive", cold, "--source", pg.uri, "--type", "full"],
                env=env)[0])
            shutil.rmtree(cold)
            pb_walls.append(run_measured(
                [args.pitr, "backup", "--archive", archive, "--source", pg.uri, "--type", "full"],
                env=env)[0])
        bb_wall, pb_wall = statistics.median(bb_walls), statistics.median(pb_walls)
        cold_wall = statistics.median(cold_walls)
        print(f"backup     pg_basebackup -Ft -Z zstd {bb_wall:6.2f} s | pitr backup into an empty "
              f"archive {cold_wall:6.2f} s, ratio {bb_wall / cold_wall:.2f}x | into the archive "
              f"holding earlier backups {pb_wall:6.2f} s, ratio {bb_wall / pb_wall:.2f}x "
              f"(medians of {args.backup_runs}: {' '.join(f'{w:.2f}' for w in bb_walls)} | "
              f"{' '.join(f'{w:.2f}' for w in cold_walls)} | {' '.join(f'{w:.2f}' for w in pb_walls)})")

        # Recovery: the first backup replays the pgbench WAL, through each restore_command.
        target = os.path.join(tmp, "with-pitr")
        subprocess.run([args.pitr, "restore", "--archive", archive, "--pgdata", target,
                        "--to-lsn", end_lsn], check=True, capture_output=True)
        plain = os.path.join(tmp, "with-cp")
        shutil.copytree(target, plain, symlinks=True)
        walcopy = shared_with_postgres(os.path.join(tmp, "walcopy"))
        for name in os.listdir(received):  # the last segment is a zero-padded .partial
            shutil.copy(os.path.join(received, name),
                        os.path.join(walcopy, name.removesuffix(".partial")))
        with open(os.path.join(plain, "postgresql.auto.conf"), "a") as f:
            f.write(f"restore_command = 'cp {walcopy}/%f %p'\n")
        subprocess.run(["chown", "-R", "postgres:", plain, walcopy] if os.geteuid() == 0 else ["true"],
                       check=True)
        times = {}
        for name, pgdata in (("cp", plain), ("pitr wal-fetch", target)):
            port = free_port()
            started = subprocess.run(
                owner([pg.bin("pg_ctl"), "-D", pgdata, "-l", os.path.join(pgdata, "bench.log"),
                       "-o", f"-p {port} -c unix_socket_directories={pgdata}", "start"]),
                capture_output=True, text=True)
            if started.returncode != 0:
                raise SystemExit(f"recovery with {name} did not start: {started.stderr}")
            times[name] = wait_promoted(pgdata)
            subprocess.run(owner([pg.bin("pg_ctl"), "-D", pgdata, "-m", "immediate", "stop"]),
                           capture_output=True)
        print(f"recovery   cp from a local directory {times['cp']:6.2f} s | pitr wal-fetch "
              f"{times['pitr wal-fetch']:6.2f} s | ratio {times['cp'] / times['pitr wal-fetch']:.2f}x"
              f" (backup {backup_dir}, {mib:.0f} MiB of WAL)")
        incremental(args, pg, tmp, env)
    finally:
        pg.stop("immediate")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
