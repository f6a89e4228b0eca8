"""MariaDB physical backups (pitr backup --method physical): mariabackup's stream kept in the
block store, rebuilt and prepared into an empty data directory, and rolled forward with the
archived binlog to a GTID or to the end, on real MariaDB servers."""
import datetime
import json
import os
import signal
import subprocess
import time
import unittest

from harness import (PITR, Capture, ServerTestCase, archive_keys, archive_object, pitr,
                     replace_archive_object, stored_block_ids, wait_until)

TABLES = ["shop.orders", "shop.notes", "shop.logbook"]


def moment_of(server, tables):
    return (checksums(server.sql, tables), server.sql("SELECT @@gtid_binlog_pos").strip())


def recorded_pid(path):
    """The pid a program wrote to `path`; None until it has."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        text = f.read().strip()
    return int(text) if text else None


def ended(pid):
    """Whether the process has ended: gone, or a zombie (whoever adopted an orphan, such as a
    sandbox's init, may be slow to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def process_state(pid):
    """What a process that did not end is doing: its state, parent and signal masks."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return "".join(line for line in f if line.split(":")[0] in
                           ("Name", "State", "PPid", "Uid", "SigPnd", "ShdPnd", "SigBlk",
                            "SigIgn", "SigCgt"))
    except FileNotFoundError:
        return f"process {pid} is gone"


def tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except FileNotFoundError:
        return f"no {path}"


def checksums(sql, tables):
    out = sql("CHECKSUM TABLE " + ", ".join(tables) + " EXTENDED;")
    return dict(line.split("\t") for line in out.splitlines())


class RestoredServer:
    """A server pitr left running on a restored data directory (--start), reached with the
    source's own pitr account."""

    def __init__(self, datadir, port, password):
        self.datadir, self.port, self.password = datadir, port, password

    def sql(self, statements):
        out = subprocess.run(["mariadb", "-h127.0.0.1", f"-P{self.port}", "-upitr",
                              f"-p{self.password}", "--batch", "--skip-column-names"],
                             input=statements, capture_output=True, text=True)
        if out.returncode != 0:
            raise AssertionError(f"SQL on the restored server failed: {out.stderr}")
        return out.stdout

    def stop(self):
        pid_file = os.path.join(self.datadir, "pitr-restore.pid")
        if os.path.exists(pid_file):
            with open(pid_file) as f:
                pid = int(f.read().strip())
            try:
                os.kill(pid, signal.SIGTERM)
                wait_until(lambda: ended(pid), 120,
                           what="the restored server to stop")
            except ProcessLookupError:
                pass


class MariadbPhysicalTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        os.chmod(self.tmp, 0o755)  # restored servers run as the mysql OS user

    def restored(self, datadir, port, password):
        server = RestoredServer(datadir, port, password)
        self.servers.append(server)
        return server

    def test_backup_restores_and_rolls_forward_to_a_gtid_and_to_the_end(self):
        source = self.mariadb()
        archive = self.new_archive()
        source.sql("""CREATE DATABASE shop;
            CREATE TABLE shop.orders (id INT PRIMARY KEY, amount DECIMAL(9,2), note VARCHAR(200))
              ENGINE=InnoDB;
            CREATE TABLE shop.logbook (id INT PRIMARY KEY, line TEXT) ENGINE=Aria;
            USE shop;
            INSERT INTO shop.orders SELECT seq, seq / 3, REPEAT('o', seq % 150) FROM seq_1_to_20000;
            INSERT INTO shop.logbook SELECT seq, CONCAT('line ', seq) FROM seq_1_to_2000;""")
        capture = Capture(archive, source)
        out = pitr("backup", "--archive", archive, "--source", source.uri, "--method", "physical",
                   "--json", password=source.password)
        backup = json.loads(out.stdout)
        self.assertEqual((backup["method"], backup["type"]), ("physical", "full"))
        self.assertGreater(backup["bytes_read"], 10 << 20)  # the whole data directory streamed

        # After the backup: DML on both engines, a new table, ALTER and DROP.
        source.sql("""USE shop;
            UPDATE shop.orders SET amount = amount + 1 WHERE id % 7 = 0;
            DELETE FROM shop.orders WHERE id > 19000;
            INSERT INTO shop.logbook VALUES (5000, 'after the backup');
            CREATE TABLE shop.notes (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(50));
            INSERT INTO shop.notes (body) SELECT CONCAT('n', seq) FROM seq_1_to_300;
            ALTER TABLE shop.orders ADD COLUMN flag TINYINT NOT NULL DEFAULT 1;""")
        moment_gtid = source.sql("SELECT @@gtid_binlog_pos").strip()
        at_moment = checksums(source.sql, TABLES)
        source.sql("""USE shop;
            DROP TABLE shop.notes;
            UPDATE shop.orders SET note = 'later' WHERE id < 100;
            DELETE FROM shop.logbook WHERE id < 10;
            CREATE TABLE shop.notes (id INT PRIMARY KEY, body VARCHAR(50));
            INSERT INTO shop.notes VALUES (1, 'recreated');""")
        at_end = checksums(source.sql, TABLES)
        end_gtid = source.sql("SELECT @@gtid_binlog_pos").strip()
        self.assert_archive_matches(archive, source)
        self.assertEqual(capture.stop(), 0)

        status = json.loads(pitr("status", "--archive", archive, "--json").stdout)
        [listed] = status["backups"]
        self.assertEqual((listed["id"], listed["method"]), (backup["id"], "physical"))
        self.assertIn(b"archive OK", pitr("verify", "--archive", archive).stdout)

        # To the GTID, left running: the source's tables and GTID position at that moment.
        port = self.free_port()
        datadir = os.path.join(self.tmp, "restored-gtid")
        out = pitr("restore", "--archive", archive, "--datadir", datadir, "--to-gtid",
                   moment_gtid.split(",")[0], "--start", "--port", str(port))
        restored = self.restored(datadir, port, source.password)
        self.assertIn(b"rebuild the data directory of physical base backup", out.stderr)
        self.assertEqual(checksums(restored.sql, TABLES), at_moment)
        self.assertEqual(restored.sql("SELECT @@gtid_binlog_pos").strip(), moment_gtid)
        self.assertEqual(restored.sql("SELECT COUNT(*) FROM mysql.global_priv "
                                      "WHERE User LIKE 'pitr_restore%'").strip(), "0")
        restored.stop()

        # To the end, shut down by pitr: a server started on it by hand holds the end state.
        datadir = os.path.join(self.tmp, "restored-end")
        pitr("restore", "--archive", archive, "--datadir", datadir)
        self.assertFalse(os.path.exists(os.path.join(datadir, "xtrabackup_checkpoints")))
        self.assertFalse(os.path.exists(os.path.join(datadir, "pitr-restore.pid")))
        port = self.free_port()
        proc = subprocess.Popen(["mariadbd", "--no-defaults", f"--datadir={datadir}",
                                 f"--port={port}", "--bind-address=127.0.0.1",
                                 f"--socket={datadir}/hand.sock", "--user=mysql",
                                 "--innodb-log-file-size=512M", "--log-bin=binlog",
                                 f"--pid-file={datadir}/pitr-restore.pid",
                                 f"--log-error={datadir}/hand.err"])
        by_hand = self.restored(datadir, port, source.password)
        wait_until(lambda: subprocess.run(
            ["mariadb", "-h127.0.0.1", f"-P{port}", "-upitr", f"-p{source.password}", "-e",
             "SELECT 1"], capture_output=True).returncode == 0, 120, what="the restored server")
        self.assertEqual(checksums(by_hand.sql, TABLES), at_end)
        self.assertEqual(by_hand.sql("SELECT @@gtid_binlog_pos").strip(), end_gtid)
        proc.terminate()
        self.assertEqual(proc.wait(timeout=120), 0)

    def start_by_hand(self, datadir, password):
        """A server started by hand on a restored data directory, as a DBA would; stopped with
        stop_by_hand()."""
        port = self.free_port()
        proc = subprocess.Popen(["mariadbd", "--no-defaults", f"--datadir={datadir}",
                                 f"--port={port}", "--bind-address=127.0.0.1",
                                 f"--socket={datadir}/hand.sock", "--user=mysql",
                                 "--log-bin=binlog", f"--pid-file={datadir}/hand.pid",
                                 f"--log-error={datadir}/hand.err"])
        server = RestoredServer(datadir, port, password)
        server.proc = proc
        self.servers.append(server)
        try:
            wait_until(lambda: subprocess.run(
                ["mariadb", "-h127.0.0.1", f"-P{port}", "-upitr", f"-p{password}", "-e",
                 "SELECT 1"], capture_output=True).returncode == 0 or proc.poll() is not None,
                120, what="the restored server")
        finally:
            if proc.poll() is not None:
                with open(f"{datadir}/hand.err") as f:
                    raise AssertionError(f"the restored server stopped:\n{f.read()[-3000:]}")
        return server

    def stop_by_hand(self, server):
        server.proc.terminate()
        self.assertEqual(server.proc.wait(timeout=120), 0)

    def test_incremental_and_differential_backups_restore_on_their_own(self):
        source = self.mariadb()
        archive = self.new_archive()
        source.sql("""CREATE DATABASE shop; USE shop;
            CREATE TABLE orders (id INT PRIMARY KEY, amount DECIMAL(9,2), note VARCHAR(200));
            CREATE TABLE logbook (id INT PRIMARY KEY, line TEXT) ENGINE=Aria;
            CREATE TABLE doomed (id INT PRIMARY KEY) ENGINE=InnoDB;
            INSERT INTO orders SELECT seq, seq / 3, REPEAT('o', seq % 150) FROM seq_1_to_60000;
            INSERT INTO logbook SELECT seq, CONCAT('line ', seq) FROM seq_1_to_2000;
            INSERT INTO doomed SELECT seq FROM seq_1_to_100;""")
        capture = Capture(archive, source)

        # Pages are flushed and the checkpoint follows at once, as on a server that has been
        # running a while: an incremental takes the pages changed since the parent's redo log
        # began, which right after a bulk load is everything the load wrote.
        source.sql("SET GLOBAL innodb_max_dirty_pages_pct = 0")

        def backup(kind):
            wait_until(lambda: int(source.sql(
                "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                "WHERE VARIABLE_NAME = 'INNODB_CHECKPOINT_AGE'")) < 4096, 60,
                what="the checkpoint to catch up")
            out = pitr("backup", "--archive", archive, "--source", source.uri, "--method",
                       "physical", "--type", kind, "--json", password=source.password)
            return json.loads(out.stdout)

        def moment(tables):
            return (checksums(source.sql, tables), source.sql("SELECT @@gtid_binlog_pos").strip())

        full = backup("full")
        # Between full and incr: DML on both engines, a new schema, DROP and ALTER, in a
        # binlog file of their own.
        source.sql("""FLUSH BINARY LOGS; USE shop;
            UPDATE orders SET amount = amount + 1 WHERE id % 20 = 0;
            INSERT INTO logbook VALUES (5000, 'incr 1');
            CREATE DATABASE books; CREATE TABLE books.titles (id INT PRIMARY KEY, t VARCHAR(30));
            INSERT INTO books.titles SELECT seq, CONCAT('t', seq) FROM seq_1_to_500;
            DROP TABLE doomed;
            ALTER TABLE orders ADD COLUMN flag TINYINT NOT NULL DEFAULT 1;
            FLUSH BINARY LOGS;""")
        tables = ["shop.orders", "shop.logbook", "books.titles"]
        states = {}
        incr1 = backup("incr")
        states[incr1["id"]] = moment(tables)
        source.sql("""USE shop; DELETE FROM orders WHERE id > 59000;
            UPDATE books.titles SET t = 'second' WHERE id < 50;
            TRUNCATE TABLE logbook; INSERT INTO logbook VALUES (1, 'after truncate');""")
        incr2 = backup("incr")
        states[incr2["id"]] = moment(tables)
        source.sql("""USE shop; UPDATE orders SET note = 'diff' WHERE id < 1000;
            OPTIMIZE TABLE books.titles;""")
        diff = backup("diff")
        states[diff["id"]] = moment(tables)
        source.sql("INSERT INTO shop.logbook VALUES (2, 'after every backup');")
        at_time = moment(tables)
        # Binlog times have one-second resolution: the next write lands in a later second.
        time.sleep(1.1)
        to_time = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        time.sleep(1.1)
        source.sql("UPDATE shop.orders SET note = 'after the moment' WHERE id < 10;")
        at_end = moment(tables)
        self.assert_archive_matches(archive, source)
        self.assertEqual(capture.stop(), 0)

        self.assertEqual((incr1["type"], incr1["parent"]), ("incr", full["id"]))
        self.assertEqual((incr2["type"], incr2["parent"]), ("incr", incr1["id"]))
        self.assertEqual((diff["type"], diff["parent"]), ("diff", full["id"]))
        # An incremental streams the changed pages, not the data directory.
        self.assertLess(incr1["bytes_read"], full["bytes_read"] / 2)
        self.assertLess(incr2["bytes_stored"], full["bytes_stored"] / 2)

        def binlog_file(b):
            return json.loads(pitr("get", "--archive", archive, "--backup", b["id"],
                                   "manifest.json").stdout)["binlog_file"]
        full_file = binlog_file(full)
        self.assertNotEqual(full_file, binlog_file(incr1))
        # Expiring the full breaks nothing: every later backup is complete on its own.
        out = pitr("expire", "--archive", archive, "--keep", "3").stdout.decode()
        self.assertIn(f"expire {full['id']}", out)
        # The blocks only the full used (pages changed since, the dropped table) are gone.
        self.assertRegex(out, r"[1-9]\d* no longer needed \([\d.]+ MiB\).*; deleted")
        # The binlog file the full started in is needed by no kept backup: it went too.
        # The file before the oldest kept backup's stays: its last transaction is there.
        self.assertRegex(out, r"[1-9]\d* binlog files? .* removed; kept from \S+ on")
        self.assertEqual([k for k in archive_keys(archive, "binlog/") if f"/{full_file}/" in k],
                         [])
        self.assertIn(b"archive OK", pitr("verify", "--archive", archive).stdout)

        for b in (incr1, incr2, diff):
            expected, gtid = states[b["id"]]
            datadir = os.path.join(self.tmp, "restored-" + b["id"])
            pitr("restore", "--archive", archive, "--datadir", datadir, "--backup", b["id"],
                 "--to-gtid", gtid)
            server = self.start_by_hand(datadir, source.password)
            self.assertEqual(checksums(server.sql, tables), expected, b["type"])
            self.stop_by_hand(server)

        # A time after the last backup: the newest physical one plus the binlog up to it.
        datadir = os.path.join(self.tmp, "restored-time")
        out = pitr("restore", "--archive", archive, "--datadir", datadir, "--to-time", to_time)
        self.assertIn(diff["id"].encode(), out.stderr)
        server = self.start_by_hand(datadir, source.password)
        self.assertEqual(moment_of(server, tables), at_time)
        self.stop_by_hand(server)

        # Everything archived: the end state.
        datadir = os.path.join(self.tmp, "restored-end")
        out = pitr("restore", "--archive", archive, "--datadir", datadir)
        self.assertIn(diff["id"].encode(), out.stderr)
        server = self.start_by_hand(datadir, source.password)
        self.assertEqual(moment_of(server, tables), at_end)
        self.stop_by_hand(server)

    def test_a_killed_backup_run_again_uploads_only_what_is_missing(self):
        source = self.mariadb()
        archive = self.new_archive()
        source.sql("""CREATE DATABASE shop; USE shop;
            CREATE TABLE orders (id INT PRIMARY KEY, note VARCHAR(200));
            INSERT INTO orders SELECT seq, MD5(seq) FROM seq_1_to_200000;""")
        capture = Capture(archive, source)

        def packs():
            return [k for k in archive_keys(archive, "blocks/packs/") if k.endswith(".pack")]

        def pack_bytes():
            return sum(len(archive_object(archive, k)) for k in packs())

        # zstd level 19 and small packs: the first run is killed after its first packs.
        env = dict(os.environ, PITR_PASSWORD=source.password)
        first = subprocess.Popen([PITR, "backup", "--archive", archive, "--source", source.uri,
                                  "--method", "physical", "--compression-level", "19",
                                  "--pack-size", "1M"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        wait_until(lambda: len(packs()) >= 2, timeout=120, what="the first packs of the backup")
        first.kill()
        first.wait()
        self.assertEqual(first.returncode, -signal.SIGKILL, "the backup ended before the kill")
        kept = pack_bytes()
        again = json.loads(pitr("backup", "--archive", archive, "--source", source.uri,
                                "--method", "physical", "--json",
                                password=source.password).stdout)
        self.assertEqual(again["type"], "full")  # the killed run left no backup to compare with
        # Every block the killed run stored is used again, not uploaded again.
        self.assertLessEqual(again["bytes_stored"], pack_bytes() - kept)
        ids = stored_block_ids(archive)
        self.assertTrue(ids)
        self.assertEqual(len(ids), len(set(ids)), "a block was stored twice")
        expected = checksums(source.sql, ["shop.orders"])
        self.assert_archive_matches(archive, source)
        self.assertEqual(capture.stop(), 0)
        self.assertIn(b"archive OK", pitr("verify", "--archive", archive).stdout)
        datadir = os.path.join(self.tmp, "restored")
        pitr("restore", "--archive", archive, "--datadir", datadir)
        server = self.start_by_hand(datadir, source.password)
        self.assertEqual(checksums(server.sql, ["shop.orders"]), expected)
        self.stop_by_hand(server)

    def test_a_damaged_block_is_named_by_verify_and_refused_by_restore(self):
        source = self.mariadb()
        archive = self.new_archive()
        source.sql("CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY);")
        capture = Capture(archive, source)
        backup = json.loads(pitr("backup", "--archive", archive, "--source", source.uri,
                                 "--method", "physical", "--json",
                                 password=source.password).stdout)["id"]
        self.assert_archive_matches(archive, source)
        self.assertEqual(capture.stop(), 0)
        pack = [k for k in archive_keys(archive, "blocks/") if k.endswith(".pack")][0]
        data = bytearray(archive_object(archive, pack))
        data[len(data) // 2] ^= 0xFF
        replace_archive_object(archive, pack, bytes(data))
        out = pitr("verify", "--archive", archive, check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn(f"backup {backup}".encode(), out.stdout)
        datadir = os.path.join(self.tmp, "restored")
        out = pitr("restore", "--archive", archive, "--datadir", datadir, check=False)
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn(b"file ", out.stderr)
        self.assertEqual(os.listdir(datadir), [])  # nothing half-restored is left

    def test_missing_mariabackup_and_logical_only_options_are_clear_errors(self):
        source = self.mariadb()
        archive = self.new_archive()
        out = pitr("backup", "--archive", archive, "--source", source.uri, "--method",
                   "physical", "--mariabackup", "/nonexistent/mariabackup",
                   password=source.password, check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"cannot run /nonexistent/mariabackup", out.stderr)
        # mariabackup gets the password in a 0600 option file, never in argv or its environment.
        spy = os.path.join(self.tmp, "spy-mariabackup")
        seen = os.path.join(self.tmp, "seen")
        with open(spy, "w") as f:
            f.write(f"#!/bin/sh\n{{ env; echo \"$@\"; }} > {seen}\nexit 1\n")
        os.chmod(spy, 0o755)
        out = pitr("backup", "--archive", archive, "--source", source.uri, "--method",
                   "physical", "--mariabackup", spy, password=source.password, check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"mariabackup failed (exit status 1)", out.stderr)
        with open(seen) as f:
            self.assertNotIn(source.password, f.read())
        out = pitr("backup", "--archive", archive, "--source", source.uri, "--method",
                   "physical", password="wrong", check=False)
        self.assertEqual(out.returncode, 1)
        self.assertEqual(archive_keys(archive, "backups/"), [])  # nothing left behind

    def test_a_backup_taken_without_capture_restores_on_its_own(self):
        source = self.mariadb()
        archive = self.new_archive()
        source.sql("""CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY);
            USE shop; INSERT INTO t SELECT seq FROM seq_1_to_1234;""")
        pitr("backup", "--archive", archive, "--source", source.uri, "--method", "physical",
             password=source.password)
        pitr("backup", "--archive", archive, "--source", source.uri, password=source.password)
        expected = checksums(source.sql, ["shop.t"])
        datadir = os.path.join(self.tmp, "restored")
        out = pitr("restore", "--archive", archive, "--datadir", datadir)
        self.assertIn(b"the backup alone", out.stderr)
        server = self.start_by_hand(datadir, source.password)
        self.assertEqual(checksums(server.sql, ["shop.t"]), expected)
        self.stop_by_hand(server)
        script = os.path.join(self.tmp, "restore.sql")
        pitr("restore", "--archive", archive, "--sql-out", script)
        with open(script) as f:
            self.assertIn("CREATE TABLE", f.read())
        # A later moment needs the binlog, and the message says what is missing.
        out = pitr("restore", "--archive", archive, "--datadir", os.path.join(self.tmp, "later"),
                   "--to-time", "2099-01-01T00:00:00Z", check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"none of its binlog (is `pitr capture` running?)", out.stderr)

    def stand_in(self, name, pid_file, when):
        """A mariabackup that, given `when` among its arguments, records its pid and sleeps
        (until a signal ends it), and otherwise runs the real one."""
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(f"#!/bin/sh\ncase \"$*\" in *{when}*) echo $$ > {pid_file}; exec sleep 300;; "
                    f"esac\nexec mariabackup \"$@\"\n")
        os.chmod(path, 0o755)
        return path

    @staticmethod
    def stand_in_pid(pid_file):
        """Waits for the stand-in to record its pid; returns it, removing the record."""
        wait_until(lambda: recorded_pid(pid_file), 120, what="the stand-in mariabackup to start")
        pid = recorded_pid(pid_file)
        os.unlink(pid_file)
        return pid

    def interrupt(self, argv, pid_file, sig, env):
        """Runs pitr until its stand-in mariabackup sleeps, then sends `sig` to pitr; returns
        the finished process, its stderr and the stand-in's pid."""
        proc = subprocess.Popen([PITR, *argv], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        child = self.stand_in_pid(pid_file)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        return proc, err.decode(), child

    def test_interrupted_backup_and_restore_leave_nothing_behind(self):
        source = self.mariadb()
        archive = self.new_archive()
        source.sql("""CREATE DATABASE shop; USE shop; CREATE TABLE t (id INT PRIMARY KEY);
            INSERT INTO t SELECT seq FROM seq_1_to_1000;""")
        capture = Capture(archive, source)
        full = json.loads(pitr("backup", "--archive", archive, "--source", source.uri, "--method",
                               "physical", "--json", password=source.password).stdout)
        source.sql("INSERT INTO shop.t VALUES (5000)")
        gtid = source.sql("SELECT @@gtid_binlog_pos").strip()
        self.assert_archive_matches(archive, source)
        self.assertEqual(capture.stop(), 0)
        tmp = os.path.join(self.tmp, "pitr-tmp")
        os.makedirs(tmp)
        env = dict(os.environ, PITR_PASSWORD=source.password, TMPDIR=tmp)
        pid_file = os.path.join(self.tmp, "stand-in.pid")
        gone = ended

        # SIGTERM while mariabackup streams: it is stopped, its option file (the password)
        # removed, and no backup listed.
        backup = ["backup", "--archive", archive, "--source", source.uri, "--method", "physical",
                  "--mariabackup", self.stand_in("sleepy-backup", pid_file, "--backup")]
        proc, err, child = self.interrupt(backup, pid_file, signal.SIGTERM, env)
        self.assertEqual(proc.returncode, 128 + signal.SIGTERM, err)
        self.assertIn("interrupted by SIGTERM; stopped cleanly", err)
        wait_until(lambda: gone(child), 30, what="the stand-in mariabackup to end")
        self.assertEqual(os.listdir(tmp), [])
        status = json.loads(pitr("status", "--archive", archive, "--json").stdout)
        self.assertEqual([b["id"] for b in status["backups"]], [full["id"]])

        # kill -9: pitr cannot clean up, but mariabackup does not outlive it.
        proc = subprocess.Popen([PITR, *backup], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        child = self.stand_in_pid(pid_file)
        proc.kill()
        proc.wait()
        wait_until(lambda: gone(child), 30, what="mariabackup to end with pitr")

        # SIGINT during --prepare: the directory is emptied again.
        datadir = os.path.join(self.tmp, "restored")
        restore = ["restore", "--archive", archive, "--datadir", datadir, "--backup", full["id"],
                   "--mariabackup", self.stand_in("sleepy-prepare", pid_file, "--prepare")]
        proc, err, child = self.interrupt(restore, pid_file, signal.SIGINT, env)
        self.assertEqual(proc.returncode, 128 + signal.SIGINT, err)
        self.assertIn("interrupted by SIGINT", err)
        wait_until(lambda: gone(child), 30, what="the stand-in mariabackup to end")
        self.assertEqual(os.listdir(datadir), [])

        # kill -9 while the private server starts (pitr stopped first, so that it is caught
        # there): the server, switched to the mysql user, still gets its parent-death signal
        # (SIGKILL: mariadbd can hang on a SIGTERM while it starts) and ends.
        killed_dir = os.path.join(self.tmp, "restored-killed")
        proc = subprocess.Popen([PITR, "restore", "--archive", archive, "--datadir", killed_dir,
                                 "--to-gtid", gtid], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        server_pid = os.path.join(killed_dir, "pitr-restore.pid")
        wait_until(lambda: recorded_pid(server_pid), 120, interval=0.01,
                   what="the private server to start")
        proc.send_signal(signal.SIGSTOP)
        server = recorded_pid(server_pid)
        self.assertFalse(gone(server), "the private server ended before the kill")
        proc.kill()
        proc.wait()
        try:
            wait_until(lambda: gone(server), 120, what="the private server to end with pitr")
        except AssertionError as e:
            raise AssertionError(f"{e}\n{process_state(server)}\n"
                                 f"{tail(os.path.join(killed_dir, 'pitr-restore.err'))}") from e

        # A roll-forward that fails (its port is taken) empties the directory too.
        import socket
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            out = pitr("restore", "--archive", archive, "--datadir", datadir, "--to-gtid", gtid,
                       "--port", str(taken.getsockname()[1]), check=False)
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn(b"is empty again", out.stderr)
        self.assertEqual(os.listdir(datadir), [])
        # And with nothing in the way the same restore holds the row.
        pitr("restore", "--archive", archive, "--datadir", datadir, "--to-gtid", gtid)
        server = self.start_by_hand(datadir, source.password)
        self.assertEqual(server.sql("SELECT MAX(id) FROM shop.t").strip(), "5000")
        self.stop_by_hand(server)

    @staticmethod
    def free_port():
        from harness import free_port
        return free_port()


if __name__ == "__main__":
    unittest.main()
