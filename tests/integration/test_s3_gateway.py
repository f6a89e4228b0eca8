"""The S3 test server (scripts/ceph-instance: Ceph's RADOS Gateway on loopback) behaves as AWS
S3 does where pitr's S3 backend depends on it: SigV4, conditional create, ranged GET,
ListObjectsV2, Content-MD5, multipart rules, key encoding. Only curl talks to it, signing with
its built-in SigV4 (`--aws-sigv4`), as libcurl does inside pitr.

The facts these tests pin down, for Ceph 16.2 (Debian 12) with curl 7.88:
- curl does not send x-amz-content-sha256; without it every request is refused (403
  SignatureDoesNotMatch). The body's SHA-256 or UNSIGNED-PAYLOAD are accepted; a wrong
  SHA-256 is 400 XAmzContentSHA256Mismatch.
- curl signs the query string as given: parameters must be sorted, each with '='.
- Keys in the path are percent-encoded except unreserved characters and '/', hex upper-case;
  anything else (lower-case hex, a raw '+', raw UTF-8, '%7E' for '~', '%2F') is 403. In the
  query string '/' is encoded too (prefix=a%2Fb).
- PUT with If-None-Match: * is refused with 412 when the key exists, atomically; but
  CompleteMultipartUpload ignores If-None-Match and overwrites.
- A body without Content-Length (Transfer-Encoding: chunked) is 411 MissingContentLength.
"""
import base64
import concurrent.futures
import hashlib
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from harness import CEPH_INSTANCE, CephGateway, ServerTestCase, fixtures_required

NS = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}
UNSIGNED = "UNSIGNED-PAYLOAD"


def missing_gateway():
    for tool in ("radosgw", "ceph-mon", "ceph-osd", "curl"):
        if shutil.which(tool) is None:
            return (f"{tool} not found: the S3 gateway tests need the Debian packages "
                    "scripts/install-deps installs")
    return None


def needs_gateway(cls):
    why = missing_gateway()
    if why is None or fixtures_required():
        return cls
    return unittest.skip(why)(cls)


def key_path(key):
    """A key as it goes into the URL path: UTF-8, percent-encoded with upper-case hex, '/' kept."""
    return urllib.parse.quote(key, safe="/-_.~")


def query_value(value):
    """A value as it goes into the query string: as key_path, but '/' encoded too."""
    return urllib.parse.quote(value, safe="-_.~")


class Client:
    """Signed S3 requests through the curl command line."""

    def __init__(self, gateway, scratch):
        self.gateway, self.scratch = gateway, scratch
        self.count = 0

    def request(self, method, path, body=None, headers=(), sha256=UNSIGNED, secret=None,
                access_key=None, region=None, query=""):
        """(status, headers, body) of one request; path is already encoded, query is sent as
        given. sha256: the x-amz-content-sha256 value, "body" for the body's hash, None to
        leave the header out."""
        self.count += 1
        out = os.path.join(self.scratch, f"out.{self.count}")
        head = os.path.join(self.scratch, f"head.{self.count}")
        g = self.gateway
        # curl -X HEAD would wait for a body; -I does not.
        verb = ["-I"] if method == "HEAD" else ["-X", method]
        argv = ["curl", "-sS", "--max-time", "60", "-o", out, "-D", head, "-w", "%{http_code}",
                *verb, "--aws-sigv4", f"aws:amz:{region or g.region}:s3",
                "--user", f"{access_key or g.access_key}:{secret or g.secret_key}"]
        if sha256 == "body":
            sha256 = hashlib.sha256(body or b"").hexdigest()
        if sha256 is not None:
            argv += ["-H", f"x-amz-content-sha256: {sha256}"]
        for h in headers:
            argv += ["-H", h]
        if body is not None:
            data = os.path.join(self.scratch, f"body.{self.count}")
            with open(data, "wb") as f:
                f.write(body)
            argv += ["-H", "Content-Type: application/octet-stream", "--data-binary", f"@{data}"]
        url = g.endpoint + path + (f"?{query}" if query else "")
        status = subprocess.run(argv + [url], capture_output=True, text=True, check=True).stdout
        with open(head, errors="replace") as f:
            lines = f.read().splitlines()
        got = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                got[name.strip().lower()] = value.strip()
        with open(out, "rb") as f:
            data = f.read()
        return int(status), got, data

    def put(self, bucket, key, body, headers=(), sha256="body"):
        return self.request("PUT", f"/{bucket}/{key_path(key)}", body, headers, sha256)

    def get(self, bucket, key, headers=()):
        return self.request("GET", f"/{bucket}/{key_path(key)}", headers=headers)


def error_code(body):
    return ET.fromstring(body).findtext("Code") if body else None


@needs_gateway
class GatewayBehavesAsS3(unittest.TestCase):
    """One gateway for all tests of this class (each test uses keys or buckets of its own)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pitr-it-s3-")
        cls.gateway = CephGateway(cls.tmp, bucket="pitr-test")
        cls.bucket = "pitr-test"

    @classmethod
    def tearDownClass(cls):
        cls.gateway.stop()
        if os.environ.get("PITR_KEEP_TMP"):
            print(f"kept {cls.tmp}")
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.scratch = tempfile.mkdtemp(dir=self.tmp)
        self.s3 = Client(self.gateway, self.scratch)

    def list_keys(self, bucket, query):
        status, _, body = self.s3.request("GET", f"/{bucket}", query=query)
        self.assertEqual(status, 200, body)
        root = ET.fromstring(body)
        keys = [c.findtext("s3:Key", namespaces=NS) for c in root.findall("s3:Contents", NS)]
        return keys, root

    def test_credentials_file(self):
        with open(os.path.join(self.gateway.dir, "credentials")) as f:
            lines = f.read().splitlines()
        self.assertEqual([line.split("=")[0] for line in lines],
                         ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL",
                          "AWS_REGION"])
        self.assertEqual(os.stat(os.path.join(self.gateway.dir, "credentials")).st_mode & 0o777,
                         0o600)
        self.assertEqual(self.gateway.env()["AWS_ENDPOINT_URL"],
                         f"http://127.0.0.1:{self.gateway.port}")
        self.assertEqual(self.gateway.env()["AWS_REGION"], "us-east-1")

    def test_create_bucket(self):
        status, _, body = self.s3.request("PUT", "/made-by-test")
        self.assertEqual(status, 200, body)
        status, _, _ = self.s3.request("HEAD", "/made-by-test")
        self.assertEqual(status, 200)
        status, _, body = self.s3.request("GET", "/")
        names = [b.findtext("s3:Name", namespaces=NS)
                 for b in ET.fromstring(body).iterfind("s3:Buckets/s3:Bucket", NS)]
        self.assertIn("made-by-test", names)
        self.assertIn(self.bucket, names)  # made by scripts/ceph-instance
        # As on AWS: us-east-1 is no location constraint (a bucket there has none).
        status, _, body = self.s3.request(
            "PUT", "/made-by-test-2",
            b"<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint>"
            b"</CreateBucketConfiguration>")
        self.assertEqual((status, error_code(body)), (400, "InvalidLocationConstraint"))

    def test_put_then_get_is_byte_identical(self):
        data = bytes(range(256)) * 64 + os.urandom(1 << 20)
        status, headers, body = self.s3.put(self.bucket, "objects/binary", data)
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["etag"], f'"{hashlib.md5(data).hexdigest()}"')
        status, headers, got = self.s3.get(self.bucket, "objects/binary")
        self.assertEqual(status, 200)
        self.assertEqual(int(headers["content-length"]), len(data))
        self.assertTrue(got == data, "the object read back differs from the one written")
        status, headers, _ = self.s3.request("HEAD", f"/{self.bucket}/objects/binary")
        self.assertEqual((status, int(headers["content-length"])), (200, len(data)))
        status, _, body = self.s3.get(self.bucket, "objects/absent")
        self.assertEqual((status, error_code(body)), (404, "NoSuchKey"))

    def test_payload_hash_header_is_required(self):
        # curl signs the request but does not add x-amz-content-sha256 itself.
        status, _, body = self.s3.put(self.bucket, "hash/none", b"abc", sha256=None)
        self.assertEqual((status, error_code(body)), (403, "SignatureDoesNotMatch"))
        status, _, body = self.s3.request("GET", f"/{self.bucket}", sha256=None,
                                          query="list-type=2")
        self.assertEqual((status, error_code(body)), (403, "SignatureDoesNotMatch"))
        status, _, body = self.s3.put(self.bucket, "hash/unsigned", b"abc", sha256=UNSIGNED)
        self.assertEqual(status, 200, body)
        status, _, body = self.s3.put(self.bucket, "hash/wrong", b"abc",
                                      sha256=hashlib.sha256(b"abd").hexdigest())
        self.assertEqual((status, error_code(body)), (400, "XAmzContentSHA256Mismatch"))
        status, _, body = self.s3.get(self.bucket, "hash/wrong")
        self.assertEqual(status, 404, "a refused PUT must not store anything")

    def test_ranged_get(self):
        data = os.urandom(100000)
        self.assertEqual(self.s3.put(self.bucket, "range/object", data)[0], 200)
        status, headers, got = self.s3.get(self.bucket, "range/object",
                                           ["Range: bytes=1000-1999"])
        self.assertEqual(status, 206)
        self.assertEqual(headers["content-range"], f"bytes 1000-1999/{len(data)}")
        self.assertEqual(got, data[1000:2000])
        status, _, got = self.s3.get(self.bucket, "range/object", ["Range: bytes=99990-"])
        self.assertEqual((status, got), (206, data[99990:]))
        status, _, got = self.s3.get(self.bucket, "range/object", ["Range: bytes=-7"])
        self.assertEqual((status, got), (206, data[-7:]))
        status, _, got = self.s3.get(self.bucket, "range/object", ["Range: bytes=99999-200000"])
        self.assertEqual((status, got), (206, data[99999:]))
        status, _, body = self.s3.get(self.bucket, "range/object", ["Range: bytes=100000-"])
        self.assertEqual((status, error_code(body)), (416, "InvalidRange"))

    def test_put_if_none_match_refuses_an_existing_key(self):
        status, _, body = self.s3.put(self.bucket, "cond/lease", b"first", ["If-None-Match: *"])
        self.assertEqual(status, 200, body)
        status, _, body = self.s3.put(self.bucket, "cond/lease", b"second", ["If-None-Match: *"])
        self.assertEqual((status, error_code(body)), (412, "PreconditionFailed"))
        self.assertEqual(self.s3.get(self.bucket, "cond/lease")[2], b"first")
        # An empty object is a key like any other.
        self.assertEqual(self.s3.put(self.bucket, "cond/empty", b"", ["If-None-Match: *"])[0], 200)
        self.assertEqual(self.s3.put(self.bucket, "cond/empty", b"", ["If-None-Match: *"])[0], 412)
        # Without the condition the same PUT overwrites.
        self.assertEqual(self.s3.put(self.bucket, "cond/lease", b"third")[0], 200)
        self.assertEqual(self.s3.get(self.bucket, "cond/lease")[2], b"third")

    def test_put_if_none_match_is_atomic(self):
        """Twelve writers race to create one key: exactly one wins, and its bytes are stored."""
        def attempt(i):
            client = Client(self.gateway, tempfile.mkdtemp(dir=self.scratch))
            return i, client.put(self.bucket, "cond/race", f"writer {i}".encode(),
                                 ["If-None-Match: *"])[0]

        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            results = list(pool.map(attempt, range(12)))
        winners = [i for i, status in results if status == 200]
        self.assertEqual(len(winners), 1, results)
        self.assertEqual(sorted(status for _, status in results), [200] + [412] * 11)
        self.assertEqual(self.s3.get(self.bucket, "cond/race")[2], f"writer {winners[0]}".encode())

    def multipart(self, key, parts, headers=()):
        """Uploads parts (bytes each) and completes; the completion's (status, body)."""
        path = f"/{self.bucket}/{key_path(key)}"
        status, _, body = self.s3.request("POST", path, query="uploads=")
        self.assertEqual(status, 200, body)
        upload = ET.fromstring(body).findtext("s3:UploadId", namespaces=NS)
        done = ""
        for n, part in enumerate(parts, 1):
            status, h, body = self.s3.request(
                "PUT", path, part, sha256="body",
                query=f"partNumber={n}&uploadId={query_value(upload)}")
            self.assertEqual(status, 200, body)
            done += f"<Part><PartNumber>{n}</PartNumber><ETag>{h['etag']}</ETag></Part>"
        status, _, body = self.s3.request(
            "POST", path, f"<CompleteMultipartUpload>{done}</CompleteMultipartUpload>".encode(),
            headers, query=f"uploadId={query_value(upload)}")
        return status, body

    def test_multipart_upload(self):
        parts = [os.urandom(5 << 20), os.urandom(1000)]
        status, body = self.multipart("multi/big", parts)
        self.assertEqual(status, 200, body)
        status, headers, got = self.s3.get(self.bucket, "multi/big")
        self.assertEqual(status, 200)
        self.assertTrue(got == b"".join(parts))
        md5s = b"".join(hashlib.md5(p).digest() for p in parts)
        self.assertEqual(headers["etag"], f'"{hashlib.md5(md5s).hexdigest()}-2"')
        # As on AWS, every part but the last has at least 5 MiB.
        status, body = self.multipart("multi/small", [b"x" * 1000, b"y" * 1000])
        self.assertEqual((status, error_code(body)), (400, "EntityTooSmall"))

    def test_complete_multipart_ignores_if_none_match(self):
        """A fact of Ceph 16 (AWS honours the header since 2024): CompleteMultipartUpload with
        If-None-Match: * replaces an existing object. "Only if absent" for a multipart object
        cannot rely on the gateway."""
        self.assertEqual(self.s3.put(self.bucket, "multi/existing", b"old")[0], 200)
        status, body = self.multipart("multi/existing", [b"new"], ["If-None-Match: *"])
        self.assertEqual(status, 200, body)
        self.assertEqual(self.s3.get(self.bucket, "multi/existing")[2], b"new")

    def test_wrong_secret_key_is_refused(self):
        status, _, body = self.s3.request("GET", f"/{self.bucket}", query="list-type=2",
                                          secret=self.gateway.secret_key[:-1] + "x")
        self.assertEqual((status, error_code(body)), (403, "SignatureDoesNotMatch"))
        status, _, body = self.s3.put(self.bucket, "auth/x", b"x")
        self.assertEqual(status, 200, body)
        status, _, body = self.s3.request("PUT", f"/{self.bucket}/auth/y", b"y", sha256="body",
                                          secret="wrong" + self.gateway.secret_key)
        self.assertEqual((status, error_code(body)), (403, "SignatureDoesNotMatch"))
        status, _, body = self.s3.request("GET", f"/{self.bucket}/auth/x",
                                          access_key="AKIANOSUCHKEY0000000")
        self.assertEqual((status, error_code(body)), (403, "InvalidAccessKeyId"))
        self.assertEqual(self.s3.get(self.bucket, "auth/y")[0], 404)

    def test_list_objects_v2(self):
        keys = [f"list/{i:03d}" for i in range(7)] + ["list/sub/a", "listing-other"]
        for k in keys:
            self.assertEqual(self.s3.put(self.bucket, k, k.encode())[0], 200)
        got, root = self.list_keys(self.bucket, "list-type=2&prefix=list%2F")
        self.assertEqual(got, sorted(keys[:-1]))
        self.assertEqual(root.findtext("s3:KeyCount", namespaces=NS), "8")
        sizes = [c.findtext("s3:Size", namespaces=NS) for c in root.findall("s3:Contents", NS)]
        self.assertEqual(sizes, [str(len(k)) for k in sorted(keys[:-1])])
        # Pages of three, with continuation tokens.
        pages, token = [], None
        while True:
            query = "list-type=2&max-keys=3&prefix=list%2F"
            if token:
                query = (f"continuation-token={query_value(token)}&"
                         + query)
            page, root = self.list_keys(self.bucket, query)
            pages.append(page)
            if root.findtext("s3:IsTruncated", namespaces=NS) != "true":
                break
            token = root.findtext("s3:NextContinuationToken", namespaces=NS)
        self.assertEqual([len(p) for p in pages], [3, 3, 2])
        self.assertEqual(sum(pages, []), sorted(keys[:-1]))
        # Delimiter: common prefixes.
        got, root = self.list_keys(self.bucket, "delimiter=%2F&list-type=2&prefix=list%2F")
        self.assertEqual(got, keys[:7])
        self.assertEqual([p.findtext("s3:Prefix", namespaces=NS)
                          for p in root.findall("s3:CommonPrefixes", NS)], ["list/sub/"])
        # curl signs the query as given: unsorted parameters do not verify.
        status, _, body = self.s3.request("GET", f"/{self.bucket}", query="prefix=list&list-type=2")
        self.assertEqual((status, error_code(body)), (403, "SignatureDoesNotMatch"))
        status, _, body = self.s3.request("GET", f"/{self.bucket}", query="list-type=2")
        self.assertEqual(status, 200)
        # A sub-resource without '=' does not verify either; with it, it does.
        status, _, body = self.s3.request("GET", f"/{self.bucket}", query="location")
        self.assertEqual((status, error_code(body)), (403, "SignatureDoesNotMatch"))
        status, _, body = self.s3.request("GET", f"/{self.bucket}", query="location=")
        self.assertEqual(status, 200, body)

    def test_delete(self):
        self.assertEqual(self.s3.put(self.bucket, "del/x", b"x")[0], 200)
        self.assertEqual(self.s3.request("DELETE", f"/{self.bucket}/del/x")[0], 204)
        self.assertEqual(self.s3.get(self.bucket, "del/x")[0], 404)
        # As on AWS, deleting what is not there succeeds.
        self.assertEqual(self.s3.request("DELETE", f"/{self.bucket}/del/x")[0], 204)

    def test_content_md5(self):
        data = b"checked on arrival"
        good = base64.b64encode(hashlib.md5(data).digest()).decode()
        bad = base64.b64encode(hashlib.md5(data + b"!").digest()).decode()
        self.assertEqual(self.s3.put(self.bucket, "md5/good", data, [f"Content-MD5: {good}"])[0],
                         200)
        status, _, body = self.s3.put(self.bucket, "md5/bad", data, [f"Content-MD5: {bad}"],
                                      sha256=UNSIGNED)
        self.assertEqual((status, error_code(body)), (400, "BadDigest"))
        self.assertEqual(self.s3.get(self.bucket, "md5/bad")[0], 404)

    def test_key_encoding(self):
        key = "enc/a b+c/ü~é.txt"
        status, _, body = self.s3.put(self.bucket, key, b"spaces, plus, UTF-8")
        self.assertEqual(status, 200, body)
        self.assertEqual(self.s3.get(self.bucket, key)[2], b"spaces, plus, UTF-8")
        got, _ = self.list_keys(self.bucket, "list-type=2&prefix=enc%2F")
        self.assertEqual(got, [key])
        got, _ = self.list_keys(self.bucket, f"list-type=2&prefix={query_value('enc/a b+')}")
        self.assertEqual(got, [key])
        # In the query string '/' is encoded as well.
        status, _, body = self.s3.request("GET", f"/{self.bucket}", query="list-type=2&prefix=enc/")
        self.assertEqual((status, error_code(body)), (403, "SignatureDoesNotMatch"))
        # Every other spelling of the same key fails the signature check.
        refused = {
            "lower-case hex": "/enc/a%20b%2bc/%c3%bc~%c3%a9.txt",
            "a raw '+'": "/enc/a%20b+c/%C3%BC~%C3%A9.txt",
            "raw UTF-8": "/enc/a%20b%2Bc/ü~é.txt",
            "'~' encoded": "/enc/a%20b%2Bc/%C3%BC%7E%C3%A9.txt",
            "'/' encoded": "/enc%2Fa%20b%2Bc%2F%C3%BC~%C3%A9.txt",
        }
        for what, path in refused.items():
            status, _, body = self.s3.request("GET", f"/{self.bucket}{path}")
            self.assertEqual((status, error_code(body)), (403, "SignatureDoesNotMatch"), what)

    def test_body_needs_a_length(self):
        # Streaming a body of unknown length (chunked transfer encoding) is refused, as on
        # AWS: an upload states its size (or uses multipart).
        data = os.path.join(self.scratch, "streamed")
        with open(data, "wb") as f:
            f.write(b"streamed body")
        out = subprocess.run(
            ["curl", "-sS", "-w", "%{http_code}", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user",
             f"{self.gateway.access_key}:{self.gateway.secret_key}",
             "-H", f"x-amz-content-sha256: {UNSIGNED}", "-H", "Transfer-Encoding: chunked",
             "-T", data, f"{self.gateway.endpoint}/{self.bucket}/stream/x"],
            capture_output=True, check=True)
        self.assertTrue(out.stdout.endswith(b"411"), out.stdout)
        self.assertIn(b"MissingContentLength", out.stdout)

    def test_unknown_bucket(self):
        status, _, body = self.s3.request("GET", "/no-such-bucket", query="list-type=2")
        self.assertEqual((status, error_code(body)), (404, "NoSuchBucket"))
        status, _, body = self.s3.put("no-such-bucket", "k", b"x", ["If-None-Match: *"])
        self.assertEqual((status, error_code(body)), (404, "NoSuchBucket"))


@needs_gateway
class GatewayLifecycle(ServerTestCase):
    """ServerTestCase.ceph(): started, restarted alone, stopped by tearDown."""

    def client(self, gateway):
        return Client(gateway, tempfile.mkdtemp(dir=self.tmp))

    def status(self, gateway):
        return subprocess.run([CEPH_INSTANCE, "status", gateway.dir], capture_output=True,
                              text=True)

    def test_gateway_restart_keeps_objects(self):
        gateway = self.ceph(bucket="lifecycle")
        s3 = self.client(gateway)
        self.assertEqual(s3.put("lifecycle", "kept", b"survives a gateway restart")[0], 200)
        gateway.stop_gateway(kill=True)
        answer = subprocess.run(["curl", "-s", "-o", "/dev/null", gateway.endpoint + "/"])
        self.assertEqual(answer.returncode, 7, "the gateway still answers after its stop")
        self.assertEqual(self.status(gateway).returncode, 1)
        gateway.start_gateway()
        self.assertEqual(s3.get("lifecycle", "kept")[2], b"survives a gateway restart")
        status = self.status(gateway)
        self.assertEqual(status.returncode, 0, status.stdout)

    def test_two_gateways_side_by_side(self):
        a, b = self.ceph(bucket="one", name="ceph-a"), self.ceph(bucket="two", name="ceph-b")
        self.assertNotEqual(a.port, b.port)
        self.assertNotEqual(a.access_key, b.access_key)
        sa, sb = self.client(a), self.client(b)
        self.assertEqual(sa.put("one", "k", b"a")[0], 200)
        self.assertEqual(sb.put("two", "k", b"b")[0], 200)
        self.assertEqual(sa.get("one", "k")[2], b"a")
        self.assertEqual(sb.get("two", "k")[2], b"b")
        # Each has its own user: a's keys mean nothing to b.
        status, _, body = sb.request("GET", "/two/k", access_key=a.access_key, secret=a.secret_key)
        self.assertEqual((status, error_code(body)), (403, "InvalidAccessKeyId"))
        fsids = []
        for g in (a, b):
            with open(os.path.join(g.dir, "ceph.conf")) as f:
                fsids.append(next(line for line in f if line.startswith("fsid")))
        self.assertNotEqual(fsids[0], fsids[1])
        a.stop()
        self.assertEqual(self.status(a).returncode, 1)
        self.assertEqual(sb.get("two", "k")[2], b"b")


if __name__ == "__main__":
    unittest.main()
