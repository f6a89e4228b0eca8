"""An HTTP proxy in front of an S3 gateway that injects the faults object storage has: 503
SlowDown, 429, an answer lost after the request took effect, a body cut mid-transfer, an
answer that stalls (held back for `stall_seconds`, then dropped). Faults
follow the request count, so a run is repeatable. The Host header passes unchanged, so SigV4
signatures stay valid. Every answer closes its connection (no keep-alive to model).
"""
import http.client
import socket
import socketserver
import struct
import threading
import time

SLOW_DOWN = (b"<?xml version=\"1.0\"?><Error><Code>SlowDown</Code>"
             b"<Message>injected</Message></Error>")


class FaultPlan:
    """Which fault the n-th request gets (n from 1); None: passed through untouched."""

    def __init__(self, slow_down=9, too_many=17, lost_answer=13, cut_body=3, stall=200,
                 stall_seconds=4):
        self.every = {"cut_body": cut_body, "stall": stall, "slow_down": slow_down,
                      "too_many": too_many, "lost_answer": lost_answer}
        self.stall_seconds = stall_seconds
        self.count = self.gets = 0
        self.injected = {kind: 0 for kind in self.every}
        self.lock = threading.Lock()

    def next(self, method):
        with self.lock:
            self.count += 1
            self.gets += method == "GET"
            for kind, every in self.every.items():
                # Reads are few: cuts count reads only, and come first.
                n = self.gets if kind == "cut_body" else self.count
                if kind == "cut_body" and method != "GET":
                    continue
                if every and n % every == 0:
                    self.injected[kind] += 1
                    return kind
        return None


class FaultProxy:
    def __init__(self, upstream_port, plan=None):
        self.upstream_port = upstream_port
        self.plan = plan or FaultPlan()
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                proxy._serve(self.rfile, self.connection)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _serve(self, rfile, connection):
        line = rfile.readline().decode("latin-1").rstrip("\r\n")
        if not line:
            return
        method, target, _ = line.split(" ", 2)
        headers = []
        while True:
            h = rfile.readline().decode("latin-1").rstrip("\r\n")
            if not h:
                break
            name, _, value = h.partition(":")
            headers.append((name, value.strip()))
        length = int(next((v for n, v in headers if n.lower() == "content-length"), "0"))
        if any(n.lower() == "expect" for n, _ in headers):
            connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = rfile.read(length) if length else b""
        fault = self.plan.next(method)
        if fault in ("slow_down", "too_many"):
            status = b"503 Slow Down" if fault == "slow_down" else b"429 Too Many Requests"
            connection.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/xml\r\n"
                               b"Content-Length: " + str(len(SLOW_DOWN)).encode() +
                               b"\r\nConnection: close\r\n\r\n" + SLOW_DOWN)
            return
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        upstream.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            if name.lower() not in ("expect", "connection"):
                upstream.putheader(name, value)
        try:
            upstream.endheaders(body)
            response = upstream.getresponse()
            data = response.read()
        finally:
            upstream.close()
        if fault == "lost_answer":  # the gateway did it; the client never hears
            self._reset(connection)
            return
        if fault == "stall":  # the gateway did it; the answer hangs, then the link dies
            time.sleep(self.plan.stall_seconds)
            self._reset(connection)
            return
        head = [f"HTTP/1.1 {response.status} {response.reason}"]
        for name, value in response.getheaders():
            if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                head.append(f"{name}: {value}")
        declared = response.getheader("Content-Length") if method == "HEAD" else str(len(data))
        if declared is not None:
            head.append(f"Content-Length: {declared}")
        head.append("Connection: close")
        connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if fault == "cut_body" and len(data) > 1:
            connection.sendall(data[:len(data) // 2])
            self._reset(connection)
            return
        if method != "HEAD":
            connection.sendall(data)

    @staticmethod
    def _reset(connection):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
