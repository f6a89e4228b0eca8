"""Helpers for integration tests: private MariaDB servers, the pitr binary, workloads.

Every test starts its own servers on free loopback ports under a temporary directory
(scripts/mariadb-instance) and removes them afterwards.
"""
import atexit
import functools
import os
import secrets
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
from xml.etree import ElementTree

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PITR = os.environ.get("PITR_BIN", os.path.join(REPO, "build", "tools", "pitr"))
INSTANCE = os.path.join(REPO, "scripts", "mariadb-instance")
PG_INSTANCE = os.path.join(REPO, "scripts", "postgres-instance")
CH_INSTANCE = os.path.join(REPO, "scripts", "clickhouse-instance")
CEPH_INSTANCE = os.path.join(REPO, "scripts", "ceph-instance")

# PITR_TEST_ENCRYPTED=1 runs a suite against encrypted archives (ctest's *_encrypted
# entries): every pitr command this process starts, and so every restored server's
# restore_command, gets a key through PITR_ENCRYPTION_KEY_FILE. Checks that read stored
# objects with the standard tools (zstd) apply to unencrypted archives only.
ENCRYPTED = os.environ.get("PITR_TEST_ENCRYPTED") in ("1", "true")
if ENCRYPTED and not os.environ.get("PITR_ENCRYPTION_KEY_FILE"):
    _key_dir = tempfile.mkdtemp(prefix="pitr-test-key-")
    atexit.register(shutil.rmtree, _key_dir, True)
    with open(os.path.join(_key_dir, "archive.key"), "w") as _f:
        _f.write(secrets.token_hex(32))
    os.environ["PITR_ENCRYPTION_KEY_FILE"] = os.path.join(_key_dir, "archive.key")

# PITR_TEST_S3=1 runs a suite with every archive in object storage (ctest's *_s3 entries):
# ServerTestCase.new_archive() then names s3://pitr-suite/PREFIX on one Ceph gateway the test
# process starts and stops, pitr commands that read the open tail get the capture's --spool, and
# checks that list or read stored objects use archive_keys() and archive_object(), which
# see either kind of archive.
S3 = os.environ.get("PITR_TEST_S3") in ("1", "true")
S3_BUCKET = "pitr-suite"

# The real binlogs other projects wrote are test fixtures kept outside the repository. One
# setting finds them, as for the unit tests (tests/unit/fixture_path.hpp): PITR_FIXTURES, by
# default ../shared/fixtures beside the repository.
FIXTURES = os.path.normpath(os.environ.get("PITR_FIXTURES") or
                            os.path.join(REPO, "..", "shared", "fixtures"))
BINLOG_FIXTURES = os.path.join(FIXTURES, "mysql-binlogs")


def missing_fixtures():
    """One line saying what is missing and how to get it, or None when the fixtures are there."""
    if os.path.isdir(BINLOG_FIXTURES):
        return None
    return (f"fixture binlogs not found: no directory {BINLOG_FIXTURES}; set PITR_FIXTURES to "
            "the directory holding mysql-binlogs/ (default: ../shared/fixtures beside the "
            "repository; see README.md)")


def fixtures_required():
    """CI=true (or 1): the fixtures are required, and their absence is a failure."""
    return os.environ.get("CI") in ("true", "1")


def needs_fixtures(test):
    """Decorates a test method that reads the fixtures: where they are absent it is skipped
    with one line saying what is missing, except under CI=true, where it fails with that line
    (CI always has the fixtures, so there none may be skipped)."""
    why = missing_fixtures()
    if why is None:
        return test
    if not fixtures_required():
        return unittest.skip(why)(test)

    @functools.wraps(test)
    def fail(self, *args, **kwargs):
        self.fail(f"{why} (CI=true: the fixtures are required, so this is a failure, not a skip)")
    return fail


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout=60, interval=0.2, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class MariaDB:
    """A private mariadbd on 127.0.0.1 with a user pitr@127.0.0.1."""

    def __init__(self, root, server_id=1, extra_args=()):
        self.dir = os.path.join(root, f"mariadb-{server_id}")
        self.port = free_port()
        self.server_id = server_id
        self.extra_args = list(extra_args)
        self.start()
        with open(os.path.join(self.dir, "password")) as f:
            self.password = f.read().strip()

    def start(self):
        subprocess.run([INSTANCE, "start", self.dir, str(self.port), str(self.server_id), "--",
                        *self.extra_args], check=True)

    def stop(self):
        subprocess.run([INSTANCE, "stop", self.dir], check=True)

    def restart(self):
        self.stop()
        self.start()

    def sql(self, statements, check=True):
        out = subprocess.run([INSTANCE, "sql", self.dir, "--batch", "--skip-column-names"],
                             input=statements, capture_output=True, text=True)
        if check and out.returncode != 0:
            raise AssertionError(f"SQL failed: {out.stderr}\n{statements[:500]}")
        return out.stdout

    def binlogs(self):
        return [line.split("\t")[0] for line in self.sql("SHOW BINARY LOGS").splitlines()]

    def purge_all_but_last_binlog(self):
        """PURGE BINARY LOGS up to the active one, retried until they are gone: MariaDB keeps a
        binlog (with only a warning) until its binlog checkpoint is written, which can lag a
        FLUSH BINARY LOGS by a moment."""
        last = self.binlogs()[-1]
        def purged():
            self.sql(f"PURGE BINARY LOGS TO '{last}';")
            return self.binlogs() == [last]
        wait_until(purged, 30, what=f"binlogs before {last} to be purged")

    def wait_binlog_checkpoint(self):
        """Until the active binlog holds its own Binlog_checkpoint event. MariaDB writes it
        in the background some time after FLUSH BINARY LOGS; a transaction committed before
        it is then followed by it, and SHOW MASTER STATUS no longer ends at a transaction."""
        active = self.binlogs()[-1]

        def written():
            events = self.sql(f"SHOW BINLOG EVENTS IN '{active}'").splitlines()
            return any("\tBinlog_checkpoint\t" in e and e.rstrip().endswith(active)
                       for e in events)
        wait_until(written, 30, what=f"the Binlog_checkpoint event of {active}")

    def binlog_path(self, name):
        return os.path.join(self.dir, "data", name)

    @property
    def uri(self):
        return f"mysql://pitr@127.0.0.1:{self.port}"


class PostgreSQL:
    """A private PostgreSQL server on 127.0.0.1 with a role pitr (REPLICATION)."""

    def __init__(self, root, name="pg", settings=(), data_checksums=False):
        self.dir = os.path.join(root, name)
        self.port = free_port()
        self.settings = list(settings)
        self.start(["--data-checksums"] if data_checksums else [])
        with open(os.path.join(self.dir, "password")) as f:
            self.password = f.read().strip()

    def start(self, initdb_options=()):
        extra = []
        for s in self.settings:
            extra += ["-c", s]
        env = dict(os.environ, PITR_PG_INITDB_OPTIONS=" ".join(initdb_options))
        subprocess.run([PG_INSTANCE, "start", self.dir, str(self.port), "--", " ".join(extra)],
                       check=True, env=env)

    def stop(self, mode="fast"):
        subprocess.run([PG_INSTANCE, "stop", self.dir, mode], check=True)

    def sql(self, statements, check=True):
        out = subprocess.run([PG_INSTANCE, "sql", self.dir, "-At", "-v", "ON_ERROR_STOP=1"],
                             input=statements, capture_output=True, text=True)
        if check and out.returncode != 0:
            raise AssertionError(f"SQL failed: {out.stderr}\n{statements[:500]}")
        return out.stdout

    def bin(self, tool):
        out = subprocess.run([PG_INSTANCE, "bin"], capture_output=True, text=True, check=True)
        return os.path.join(out.stdout.strip(), tool)

    def as_owner(self, argv, **kwargs):
        """Runs a server tool as the OS user that owns the cluster."""
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(prefix + argv, **kwargs)

    @property
    def wal_dir(self):
        return os.path.join(self.dir, "data", "pg_wal")

    @property
    def uri(self):
        return f"postgres://pitr@127.0.0.1:{self.port}/postgres"


    def lose_slot_wal(self, table="marker"):
        """With capture down, lets the server drop the WAL its slot kept: the slot may keep only
        1 MB, six segment switches (rows into `table`) and a checkpoint invalidate it."""
        self.sql("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'; SELECT pg_reload_conf()")
        for k in range(100, 106):
            self.sql(f"INSERT INTO {table} VALUES ({k}); SELECT pg_switch_wal()")
        self.sql("CHECKPOINT")
        wait_until(lambda: self.sql("SELECT wal_status FROM pg_replication_slots").strip() ==
                   "lost", what="the server to invalidate the slot")


class ClickHouse:
    """A private ClickHouse server on 127.0.0.1, HTTP on `port`, with a user pitr. Under root
    it runs as the OS user clickhouse, which must be able to traverse `root`."""

    def __init__(self, root, name="ch"):
        self.dir = os.path.join(root, name)
        self.port = free_port()
        self.start()
        with open(os.path.join(self.dir, "password")) as f:
            self.password = f.read().strip()

    def start(self):
        subprocess.run([CH_INSTANCE, "start", self.dir, str(self.port)], check=True)

    def stop(self):
        subprocess.run([CH_INSTANCE, "stop", self.dir], check=True)

    def restart(self):
        self.stop()
        self.start()

    def sql(self, statements, check=True):
        """Runs the statements as pitr over HTTP, one by one: each must end with ';' at the
        end of a line (the last may omit it). Returns the results in TabSeparated."""
        out = subprocess.run([CH_INSTANCE, "sql", self.dir], input=statements,
                             capture_output=True, text=True)
        if check and out.returncode != 0:
            raise AssertionError(f"SQL failed: {out.stderr}\n{statements[:500]}")
        return out.stdout

    @property
    def data_path(self):
        """The server's <path>, with a trailing slash: data/, metadata/, shadow/ are below."""
        out = subprocess.run([CH_INSTANCE, "path", self.dir], capture_output=True, text=True,
                             check=True)
        return out.stdout.strip()

    @property
    def uri(self):
        return f"clickhouse://pitr@127.0.0.1:{self.port}"


class CephGateway:
    """A private S3 endpoint: Ceph's RADOS Gateway on 127.0.0.1 over a throw-away single-node
    cluster (scripts/ceph-instance), with an S3 user and, if given, a bucket."""

    def __init__(self, root, name="ceph", bucket=None):
        self.dir = os.path.join(root, name)
        self.port = free_port()
        self.bucket = bucket
        subprocess.run([CEPH_INSTANCE, "start", self.dir, str(self.port),
                        *([bucket] if bucket else [])], check=True)
        values = {}
        with open(os.path.join(self.dir, "credentials")) as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                values[key] = value
        self.endpoint = values["AWS_ENDPOINT_URL"]
        self.access_key = values["AWS_ACCESS_KEY_ID"]
        self.secret_key = values["AWS_SECRET_ACCESS_KEY"]
        self.region = values["AWS_REGION"]

    def env(self):
        """The AWS_* variables an S3 client needs to reach this gateway as its user."""
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": self.region}

    def stop(self):
        subprocess.run([CEPH_INSTANCE, "stop", self.dir], check=True)

    def stop_gateway(self, kill=False):
        """Stops radosgw alone (SIGKILL with kill=True); the cluster and its objects stay."""
        subprocess.run([CEPH_INSTANCE, "stop-gateway", self.dir, *(["KILL"] if kill else [])],
                       check=True)

    def start_gateway(self):
        """Starts radosgw again on the same port, over the same objects."""
        subprocess.run([CEPH_INSTANCE, "start-gateway", self.dir], check=True)

    def log(self):
        """The gateway's log, one line per request among others."""
        with open(os.path.join(self.dir, "log", "client.rgw.gw.log"), errors="replace") as f:
            return f.read()


_suite_gateway = None
_s3_local = None  # the spools and capture logs of s3:// archives


def suite_gateway():
    """The one gateway of a PITR_TEST_S3 run, started on first use; its credentials go into
    this process's environment, which every pitr command inherits."""
    global _suite_gateway, _s3_local
    if _suite_gateway is None:
        _s3_local = tempfile.mkdtemp(prefix="pitr-test-s3-")
        atexit.register(shutil.rmtree, _s3_local, True)
        _suite_gateway = CephGateway(_s3_local, "ceph", S3_BUCKET)
        atexit.register(_suite_gateway.stop)  # before the rmtree (atexit runs in reverse)
        os.environ.update(_suite_gateway.env())
    return _suite_gateway


def _s3_prefix(archive):
    """The prefix of an archive in the suite's bucket; None for a local one. (Suites that
    start their own gateway pass their own --spool.)"""
    suite = f"s3://{S3_BUCKET}/"
    return archive[len(suite):] if archive.startswith(suite) else None


def local_view(archive):
    """Where the newest part of an archive appears first: a local archive itself, or the
    spool of one in object storage (the same layout)."""
    prefix = _s3_prefix(archive)
    return archive if prefix is None else os.path.join(_s3_local, "spool", prefix)


def _s3_request(path, query="", method="GET", data=None):
    """A signed request to the suite's gateway (the credentials go to curl on stdin, not
    argv); a body comes from a file, as curl -K reads stdin."""
    g = suite_gateway()
    config = f'user = "{g.access_key}:{g.secret_key}"\n'
    body = []
    if data is not None:
        body_file = tempfile.NamedTemporaryFile(dir=_s3_local, delete=False)
        body_file.write(data)
        body_file.close()
        body = ["--data-binary", "@" + body_file.name]
    try:
        out = subprocess.run(
            ["curl", "-sS", "--fail", "-K", "-", "-X", method, "--aws-sigv4",
             f"aws:amz:{g.region}:s3", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", *body,
             f"{g.endpoint}/{S3_BUCKET}/{path}{query}"], input=config.encode(), capture_output=True)
    finally:
        if body:
            os.unlink(body_file.name)
    if out.returncode != 0:
        raise AssertionError(f"{method} /{S3_BUCKET}/{path}{query}: {out.stderr.decode()}")
    return out.stdout


def archive_keys(archive, under=""):
    """The keys of every stored object below `under` (e.g. "gaps/"), relative to the archive's
    root, sorted; the open tail in a spool is not stored yet and not listed."""
    prefix = _s3_prefix(archive)
    if prefix is None:
        root = os.path.join(archive, under)
        found = [os.path.relpath(os.path.join(d, f), archive)
                 for d, _, files in os.walk(root) for f in files]
        return sorted(found)
    keys, token = [], None
    while True:
        # Parameters in sorted order: curl signs the query string exactly as given.
        query = "?" + ("continuation-token=" + urllib.parse.quote(token, safe="") + "&"
                       if token else "")
        query += "list-type=2&prefix=" + urllib.parse.quote(f"{prefix}/{under}", safe="")
        root = ElementTree.fromstring(_s3_request("", query))
        ns = {"s3": root.tag[1:root.tag.index("}")]} if root.tag.startswith("{") else {}
        keys += [k.text[len(prefix) + 1:] for k in root.iterfind(".//s3:Contents/s3:Key", ns)]
        token = root.findtext("s3:NextContinuationToken", None, ns)
        if not token:
            return sorted(keys)


def archive_object(archive, key):
    """The stored bytes of one object, as they are at rest (compressed, perhaps encrypted)."""
    prefix = _s3_prefix(archive)
    if prefix is None:
        with open(os.path.join(archive, key), "rb") as f:
            return f.read()
    return _s3_request(urllib.parse.quote(f"{prefix}/{key}"))


def stored_block_ids(archive):
    """The block ids every pack index lists (docs/archive-format.md, the block store), read at
    rest: a block stored twice appears twice. None for an encrypted archive."""
    if ENCRYPTED:
        return None
    ids = []
    for key in archive_keys(archive, "blocks/index/"):
        if not key.endswith(".idx") or os.path.basename(key).startswith("."):
            continue
        data = archive_object(archive, key)
        if data[:8] != b"PITRPIDX":
            raise AssertionError(f"{key} is not a pack index")
        count = int.from_bytes(data[12:16], "little")
        ids += [data[16 + 48 * i:16 + 48 * i + 32] for i in range(count)]
    return ids


def replace_archive_object(archive, key, data):
    """Overwrites a stored object behind pitr's back (to damage it), or removes it (None)."""
    prefix = _s3_prefix(archive)
    if prefix is None:
        if data is None:
            os.remove(os.path.join(archive, key))
        else:
            with open(os.path.join(archive, key), "wb") as f:
                f.write(data)
        return
    _s3_request(urllib.parse.quote(f"{prefix}/{key}"), method="DELETE" if data is None else "PUT",
                data=data)


def shared_with_postgres(path):
    """A directory the server's OS user can read: group postgres, inherited by new files."""
    os.makedirs(path, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(path, group="postgres")
        os.chmod(path, 0o2750)
    return path


# The commands that read the open tail from a capture's spool (tools/archive_options.cpp).
_SPOOL_READERS = ("capture", "get", "status", "verify", "find", "restore", "wal-fetch", "backup")


def with_spool(args):
    """`args` with the capture's --spool added when they name an s3:// archive without one."""
    args = list(args)
    if args and args[0] in _SPOOL_READERS and "--spool" not in args and "--archive" in args:
        archive = args[args.index("--archive") + 1]
        if _s3_prefix(archive) is not None:
            args += ["--spool", local_view(archive)]
    return args


def pitr(*args, password=None, check=True, timeout=300, **kwargs):
    args = with_spool(args)
    env = dict(os.environ)
    env.pop("PITR_PASSWORD", None)
    if password is not None:
        env["PITR_PASSWORD"] = password
    out = subprocess.run([PITR, *args], capture_output=True, env=env, timeout=timeout, **kwargs)
    if check and out.returncode != 0:
        raise AssertionError(f"pitr {' '.join(args)} exited {out.returncode}:\n"
                             f"{out.stderr.decode(errors='replace')}")
    return out


class Capture:
    """`pitr capture` running in the background."""

    def __init__(self, archive, server, *extra, password=None, log_path=None):
        """`log_path` defaults to a file beside a local archive, or beside the spool of one in
        the suite's bucket (other s3:// archives need one)."""
        env = dict(os.environ)
        env["PITR_PASSWORD"] = server.password if password is None else password
        self.log_path = log_path or local_view(archive) + ".capture.log"
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        self.log = open(self.log_path, "ab")
        self.log_start = self.log.tell()  # this run's output starts here
        self.proc = subprocess.Popen(
            [PITR, *with_spool(["capture", "--archive", archive, "--source", server.uri,
                                "--heartbeat", "1", *extra])],
            stdout=self.log, stderr=self.log, env=env)

    def alive(self):
        return self.proc.poll() is None

    def this_run(self):
        """What this run wrote to the log (earlier runs on the same archive share it)."""
        with open(self.log_path, "rb") as f:
            f.seek(self.log_start)
            return f.read().decode(errors="replace")

    def wait_connected(self, timeout=30):
        """Until this run says it is connected and streaming; fails if it exits instead."""
        try:
            wait_until(lambda: not self.alive() or "connected to" in self.this_run(), timeout,
                       interval=0.02, what="capture to connect")
        except AssertionError as e:
            raise AssertionError(f"{e}; it said:\n{self.this_run()}") from None
        if not self.alive():
            raise AssertionError(f"capture exited with {self.proc.returncode} on start:\n"
                                 f"{self.this_run()}")
        return self

    def stop(self, timeout=60):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self.log.close()
        return code

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


def archived_file(archive, name):
    return pitr("get", "--archive", archive, name).stdout


def in_use_flag_cleared(data):
    """The active binlog's FDE carries the "in use" flag (header flags byte at offset 21)."""
    if len(data) > 21:
        data = bytearray(data)
        data[21] &= 0xFE
    return bytes(data)


class Workload:
    """Writes through one client session in a background thread until stopped, waiting
    `pause` seconds after each transaction (0: as fast as the server takes them)."""

    def __init__(self, server, db="work", seed=1, pause=0.0):
        self.server, self.db, self.pause = server, db, pause
        self.random = random.Random(seed)
        self.stop_event = threading.Event()
        self.error = None
        self.batches = 0
        server.sql(f"CREATE DATABASE IF NOT EXISTS {db};"
                   f"CREATE TABLE IF NOT EXISTS {db}.orders (id INT AUTO_INCREMENT PRIMARY KEY,"
                   f" customer INT, amount DECIMAL(10,2), note VARCHAR(200), doc MEDIUMBLOB);")

    def batch(self):
        r, db = self.random, self.db
        statements = ["BEGIN;"]
        for _ in range(r.randint(1, 20)):
            kind = r.random()
            if kind < 0.6:
                statements.append(
                    f"INSERT INTO {db}.orders (customer, amount, note, doc) VALUES "
                    f"({r.randint(1, 1000)}, {r.randint(1, 99999) / 100}, 'n{r.random()}', "
                    f"RANDOM_BYTES({r.randint(1, 1024)}));")
            elif kind < 0.85:
                statements.append(f"UPDATE {db}.orders SET amount = amount + 1 "
                                  f"WHERE id % 7 = {r.randint(0, 6)} LIMIT 5;")
            else:
                statements.append(f"DELETE FROM {db}.orders WHERE id % 11 = {r.randint(0, 10)} "
                                  f"LIMIT 2;")
        statements.append("COMMIT;")
        self.server.sql("\n".join(statements))
        self.batches += 1

    def _run(self):
        try:
            while not self.stop_event.is_set():
                self.batch()
                if self.pause:
                    self.stop_event.wait(self.pause)
        except Exception as e:  # reported by stop()
            self.error = e

    def __enter__(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join()
        if self.error and not exc[0]:
            raise self.error


class ServerTestCase(unittest.TestCase):
    """Gives each test a temporary directory that is removed afterwards."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pitr-it-")
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            try:
                s.stop()
            except Exception:
                pass
        if os.environ.get("PITR_KEEP_TMP"):
            print(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def postgres(self, name="pg", settings=(), data_checksums=False):
        os.chmod(self.tmp, 0o755)  # the server runs as another OS user
        s = PostgreSQL(self.tmp, name, settings, data_checksums)
        self.servers.append(s)
        return s

    def clickhouse(self, name="ch"):
        os.chmod(self.tmp, 0o755)  # the server runs as another OS user
        s = ClickHouse(self.tmp, name)
        self.servers.append(s)
        return s

    def mariadb(self, server_id=1, extra_args=()):
        s = MariaDB(self.tmp, server_id, extra_args)
        self.servers.append(s)
        return s

    def new_archive(self, name="archive", for_postgres=False):
        """Where a test keeps an archive: a directory in its temporary directory (readable by
        the PostgreSQL server's OS user with for_postgres), or with PITR_TEST_S3 a fresh prefix
        in the suite's bucket."""
        if S3:
            suite_gateway()
            test = self.id().rsplit(".", 1)[-1]
            url = f"s3://{S3_BUCKET}/{test}-{os.path.basename(self.tmp)}-{name}"
            if for_postgres:  # a restored server's wal-fetch reads the open tail there
                os.chmod(_s3_local, 0o755)
                shared_with_postgres(local_view(url))
            return url
        path = os.path.join(self.tmp, name)
        return shared_with_postgres(path) if for_postgres else path

    def ceph(self, bucket=None, name="ceph"):
        """A private S3 gateway (CephGateway), stopped by tearDown."""
        s = CephGateway(self.tmp, name, bucket)
        self.servers.append(s)
        return s

    def assert_archive_matches(self, archive, server, timeout=120):
        """pitr get gives every binlog of the server back byte for byte (the active one but
        for its in-use flag)."""
        names = server.binlogs()
        active = names[-1]

        def caught_up():
            got = archived_file(archive, active) if self._has(archive, active) else b""
            return len(got) == os.path.getsize(server.binlog_path(active))

        wait_until(caught_up, timeout, what=f"capture to reach the end of {active}")
        for name in names:
            with open(server.binlog_path(name), "rb") as f:
                expected = f.read()
            got = archived_file(archive, name)
            if name == active:
                expected, got = in_use_flag_cleared(expected), in_use_flag_cleared(got)
            self.assertEqual(len(got), len(expected), f"{name}: size differs")
            self.assertTrue(got == expected, f"{name}: archived bytes differ from the server's")
        return names

    @staticmethod
    def _has(archive, name):
        return pitr("get", "--archive", archive, name, "-o", os.devnull, check=False).returncode == 0
