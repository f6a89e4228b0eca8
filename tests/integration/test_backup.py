"""pitr backup under a live workload: the backup plus the binlog from its coordinates on
reproduce the source exactly (checked on a second real MariaDB)."""
import hashlib
import json
import os
import subprocess
import time
import unittest

from harness import (ENCRYPTED, INSTANCE, Capture, ServerTestCase, Workload, archive_keys,
                     archive_object, pitr, replace_archive_object, wait_until)


def by_hand(archive, backup, path):
    """A backup file's SQL as README.txt says to get it: `zstd -dc` of the stored object, or
    in an encrypted archive `pitr get --backup`."""
    if ENCRYPTED:
        return pitr("get", "--archive", archive, "--backup", backup.split("/")[-1], path).stdout
    return subprocess.run(["zstd", "-dc"], input=archive_object(archive, f"{backup}/{path}"),
                          check=True, capture_output=True).stdout


def checksums(server, tables):
    out = server.sql("CHECKSUM TABLE " + ", ".join(tables) + " EXTENDED;")
    return dict(line.split("\t") for line in out.splitlines())


class BackupTest(ServerTestCase):
    def test_backup_plus_binlog_reproduces_the_source(self):
        source = self.mariadb()
        archive = self.new_archive()
        source.sql("""CREATE DATABASE shop;
            CREATE TABLE shop.docs (id BIGINT PRIMARY KEY, body LONGBLOB, title VARCHAR(50),
              price DECIMAL(9,2), seen DATETIME(6), flags BIT(5), kind ENUM('a','b'),
              attrs JSON, note TEXT);
            CREATE TABLE shop.`odd name` (k VARCHAR(20) PRIMARY KEY, v INT);
            CREATE VIEW shop.cheap AS SELECT id, price FROM shop.docs WHERE price < 10;
            CREATE PROCEDURE shop.touch() UPDATE shop.docs SET price = price + 0;
            USE shop;
            INSERT INTO docs SELECT seq, RANDOM_BYTES(200), CONCAT('t\\'"\\\\', seq), seq / 7,
                NOW(6), b'10101', 'a', JSON_OBJECT('n', seq), REPEAT('x', seq % 50)
              FROM seq_1_to_3000;
            INSERT INTO `odd name` VALUES ('it''s', 1), ('back\\\\slash', 2), ('nul\\0', 3);
            ANALYZE TABLE docs;""")
        capture = Capture(archive, source)
        with Workload(source):
            time.sleep(1)
            out = pitr("backup", "--archive", archive, "--source", source.uri, "--jobs", "3",
                       "--chunk-size", "64K", password=source.password)
            time.sleep(1)
        self.assertIn(b"consistent at binlog.", out.stdout)
        names = self.assert_archive_matches(archive, source)
        self.assertEqual(capture.stop(), 0)

        [manifest_key] = [k for k in archive_keys(archive, "backups/")
                          if k.endswith("/manifest.json")]
        backup = manifest_key[:-len("/manifest.json")]
        backup_id = backup.split("/")[-1]
        manifest = json.loads(pitr("get", "--archive", archive, "--backup", backup_id,
                                   "manifest.json").stdout)
        if not ENCRYPTED:  # the stored object is that JSON as it is
            self.assertEqual(json.loads(archive_object(archive, manifest_key)), manifest)
        self.assertLess(manifest["lock_ms"], 5000)
        self.assertEqual(manifest["source"], "mariadb-1-0")
        self.assertEqual(sorted(manifest["databases"]), ["shop", "test", "work"])
        docs_chunks = [f for f in manifest["files"] if f["table"] == "docs"]
        self.assertGreater(len(docs_chunks), 3, "a large table is cut into key ranges")
        self.assertEqual(sum(f["rows"] for f in docs_chunks), 3000)
        for f in manifest["files"]:
            self.assertEqual(hashlib.sha256(by_hand(archive, backup, f["path"])).hexdigest(),
                             f["sha256"], f["path"])
            # `pitr get --backup` gives the same bytes, by the manifest's name or without .zst.
            got = pitr("get", "--archive", archive, "--backup", backup_id,
                       f["path"].removesuffix(".zst")).stdout
            self.assertEqual(hashlib.sha256(got).hexdigest(), f["sha256"], f["path"])
        missing = pitr("get", "--archive", archive, "--backup", backup_id, "data/nothing.sql",
                       check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertIn(b"has no file data/nothing.sql", missing.stderr)

        # Load the backup into an empty server by hand, as README.txt says, then apply the
        # archived binlog from the backup's coordinates with the standard tool.
        target = self.mariadb(server_id=2)
        kinds = sorted(manifest["files"], key=lambda f: f["kind"] != "schema")
        for f in kinds:
            subprocess.run([INSTANCE, "sql", target.dir], input=by_hand(archive, backup, f["path"]),
                           check=True)
        files = []
        for name in names[names.index(manifest["binlog_file"]):]:
            path = os.path.join(self.tmp, name)
            pitr("get", "--archive", archive, name, "-o", path)
            files.append(path)
        binlog = subprocess.run(["mariadb-binlog", f"--start-position={manifest['binlog_position']}",
                                 *files], check=True, capture_output=True).stdout
        subprocess.run([INSTANCE, "sql", target.dir], input=binlog, check=True)

        status = json.loads(pitr("status", "--archive", archive, "--json").stdout)
        self.assertEqual([b["id"] for b in status["backups"]], [backup_id])
        listed = status["backups"][0]
        self.assertEqual((listed["type"], listed["method"]), ("full", "logical"))
        self.assertEqual(listed["bytes"], sum(f["bytes"] for f in manifest["files"]))
        self.assertIn(b"1 base backups", pitr("verify", "--archive", archive).stdout)
        damaged = f"{backup}/{docs_chunks[0]['path']}"
        data = bytearray(archive_object(archive, damaged))
        data[30] ^= 0xFF
        replace_archive_object(archive, damaged, bytes(data))
        verify = pitr("verify", "--archive", archive, check=False)
        self.assertEqual(verify.returncode, 1)
        self.assertIn(docs_chunks[0]["path"].encode(), verify.stdout)
        damaged_get = pitr("get", "--archive", archive, "--backup", backup_id,
                           docs_chunks[0]["path"], "-o", os.path.join(self.tmp, "damaged.sql"),
                           check=False)
        self.assertEqual(damaged_get.returncode, 1)
        self.assertIn(docs_chunks[0]["path"].encode(), damaged_get.stderr)

        tables = ["shop.docs", "shop.`odd name`", "work.orders"]
        self.assertEqual(checksums(target, tables), checksums(source, tables))
        self.assertEqual(target.sql("SELECT COUNT(*) FROM shop.cheap"),
                         source.sql("SELECT COUNT(*) FROM shop.cheap"))
        self.assertIn("touch", target.sql("SHOW PROCEDURE STATUS WHERE Db = 'shop'"))

    def test_wrong_password(self):
        source = self.mariadb()
        archive = self.new_archive()
        out = pitr("backup", "--archive", archive, "--source", source.uri, password="nope",
                   check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"Access denied", out.stderr)
        self.assertEqual(archive_keys(archive, "backups/"), [])


if __name__ == "__main__":
    unittest.main()
