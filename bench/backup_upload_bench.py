#!/usr/bin/env python3
"""Base backup into object storage, in one run on one machine: `pitr backup` of a PostgreSQL
server holding --megabytes of incompressible data into a private Ceph gateway
(scripts/ceph-instance), against one `curl --aws-sigv4 -T` upload of the same bytes (the
backup's stored objects, concatenated into one local file) into the same gateway.

pitr's time is what the DBA waits for: from start until the manifest is stored (reading
the server's BASE_BACKUP stream, checking it, compressing, uploading in parallel multipart
parts). curl's is the upload alone, of a file already on disk, in one PUT. Prints wall time,
MiB/s, CPU seconds per MiB and the ratio (> 1 means pitr is faster).

On loopback one connection is bounded only by the gateway's CPU, unlike any real endpoint,
where one connection is bounded by the round trip and the provider's per-connection rate.
--per-connection-mbit N shapes every TCP connection to the gateway to N Mbit/s (tc htb on
lo, one class per connection; needs root), for both tools alike.

    bench/backup_upload_bench.py [--megabytes 1024] [--rounds 3] [--pitr build/tools/pitr]
                                 [--per-connection-mbit N]
"""
import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from measure import run_measured  # noqa: E402
from harness import PITR, CephGateway, PostgreSQL  # noqa: E402

BUCKET = "bench"


def fill(pg, megabytes):
    """megabytes of random bytea, stored uncompressed (pglz cannot shrink it anyway)."""
    pg.sql("CREATE EXTENSION IF NOT EXISTS pgcrypto;"
           "CREATE TABLE blobs (id int PRIMARY KEY, b bytea);"
           "ALTER TABLE blobs ALTER COLUMN b SET STORAGE EXTERNAL;")
    rows = megabytes * 1024
    step = 65536
    for first in range(1, rows + 1, step):
        last = min(rows, first + step - 1)
        pg.sql(f"INSERT INTO blobs SELECT g, gen_random_bytes(1024) "
               f"FROM generate_series({first}, {last}) g;")
    pg.sql("CHECKPOINT")
    return int(pg.sql("SELECT pg_database_size(current_database())").strip())


def curl(gateway, method, key, extra=()):
    return ["curl", "-sS", "--fail", "-X", method, "--aws-sigv4",
            f"aws:amz:{gateway.region}:s3", "--user",
            f"{gateway.access_key}:{gateway.secret_key}", "-H",
            "x-amz-content-sha256: UNSIGNED-PAYLOAD", *extra,
            f"{gateway.endpoint}/{BUCKET}/{key}"]


def stored_objects(gateway, prefix):
    out = subprocess.run(["radosgw-admin", "--conf", os.path.join(gateway.dir, "ceph.conf"),
                          "-n", "client.admin", "bucket", "list", "--bucket", BUCKET,
                          "--max-entries", "100000"], capture_output=True, text=True, check=True)
    return sorted((o["name"], o["meta"]["size"]) for o in json.loads(out.stdout)
                  if o["name"].startswith(prefix))


class PerConnectionRate:
    """Shapes each TCP connection to `port` on loopback to `mbit` Mbit/s with tc: an htb
    qdisc on lo whose default class is unlimited, and a u32 hash table that sends packets to
    the port into one of 256 htb classes of `mbit` each by the low byte of their source port,
    so that the few connections of a run (each its own ephemeral port) are shaped
    separately. Other loopback traffic passes unshaped."""

    BUCKETS = 256

    def __init__(self, port, mbit):
        self.port, self.mbit = port, mbit

    @staticmethod
    def tc(*args):
        subprocess.run(["tc", *args], check=True)

    def __enter__(self):
        tc, lo = self.tc, ["dev", "lo"]
        tc("qdisc", "add", *lo, "root", "handle", "1:", "htb", "default", "1")
        try:
            tc("class", "add", *lo, "parent", "1:", "classid", "1:1", "htb", "rate", "100gbit",
               "quantum", "200000")
            tc("filter", "add", *lo, "parent", "1:", "prio", "1", "handle", "2:", "protocol",
               "ip", "u32", "divisor", str(self.BUCKETS))
            for i in range(self.BUCKETS):
                tc("class", "add", *lo, "parent", "1:", "classid", f"1:{i + 16:x}", "htb",
                   "rate", f"{self.mbit}mbit", "ceil", f"{self.mbit}mbit",
                   "quantum", "200000")
                tc("filter", "add", *lo, "parent", "1:", "prio", "1", "protocol", "ip", "u32",
                   "ht", f"2:{i:x}:", "match", "ip", "dport", str(self.port), "0xffff",
                   "flowid", f"1:{i + 16:x}")
            # The 32-bit word at offset 20 (an IP header without options) is the TCP source
            # and destination ports: hash on the source port's low byte.
            tc("filter", "add", *lo, "parent", "1:", "prio", "1", "protocol", "ip", "u32",
               "ht", "800::", "match", "ip", "dport", str(self.port), "0xffff",
               "hashkey", "mask", "0x00ff0000", "at", "20", "link", "2:")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"], check=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--megabytes", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pitr", default=PITR)
    ap.add_argument("--per-connection-mbit", type=int,
                    help="shape each connection to the gateway to this rate (tc, root)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="pitr-upload-bench-")
    os.chmod(tmp, 0o755)
    servers = []
    try:
        pg = PostgreSQL(tmp, "source")
        servers.append(pg)
        size = fill(pg, args.megabytes)
        print(f"database: {size / 2**20:.0f} MiB (random bytea) on PostgreSQL at "
              f"127.0.0.1:{pg.port}")
        results = {"pitr backup": [], "curl -T": []}

        def link(gateway):
            if not args.per_connection_mbit:
                return contextlib.nullcontext()
            return PerConnectionRate(gateway.port, args.per_connection_mbit)

        if args.per_connection_mbit:
            print(f"each connection to the gateway shaped to {args.per_connection_mbit} Mbit/s")
        for r in range(args.rounds):
            # A fresh gateway each round: it keeps objects in memory (4 GiB) and frees deleted
            # multipart data only after its garbage collection delay.
            gateway = CephGateway(tmp, name=f"ceph-{r}", bucket=BUCKET)
            servers.append(gateway)
            env = dict(os.environ, PITR_PASSWORD=pg.password, **gateway.env())
            url = f"s3://{BUCKET}/round-{r}"
            with link(gateway):
                results["pitr backup"].append(run_measured(
                    [args.pitr, "backup", "--archive", url, "--source", pg.uri], env))
            objects = stored_objects(gateway, f"round-{r}/backups/")
            stored = os.path.join(tmp, "stored")
            with open(stored, "wb") as f:
                for key, _ in objects:
                    f.write(subprocess.run(curl(gateway, "GET", key), capture_output=True,
                                           check=True).stdout)
            stored_bytes = os.path.getsize(stored)
            with link(gateway):
                results["curl -T"].append(run_measured(curl(gateway, "PUT", f"curl-{r}",
                                                            ["-T", stored])))
            os.remove(stored)
            gateway.stop()
            servers.remove(gateway)
        mib = stored_bytes / 2**20
        print(f"bytes stored by pitr backup: {mib:.0f} MiB in {len(objects)} objects")
        print(f"{'tool':12} {'wall s':>8} {'MiB/s':>8} {'CPU s':>8} {'CPU s/MiB':>10}")
        for tool, runs in results.items():
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            print(f"{tool:12} {wall:8.2f} {mib / wall:8.1f} {cpu:8.2f} {cpu / mib:10.4f}")
        ratio = statistics.median(w for w, _ in results["curl -T"]) / statistics.median(
            w for w, _ in results["pitr backup"])
        print(f"ratio curl -T / pitr backup: {ratio:.2f} (median of {args.rounds} rounds; "
              f"> 1 means pitr is faster; target >= 2)")
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
