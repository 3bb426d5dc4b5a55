"""Helpers for lifeline-server's integration tests.

`Server` starts the binary on port 0 in a temporary folder and learns the
port from its first stdout line; `RawWS` is a bare WebSocket client over a
socket for what well-behaved libraries will not do (stay silent, send
garbage or invalid UTF-8); `http` is a small JSON HTTP client. Waiting is
done on events or by polling a condition with a deadline, never by sleeping
a fixed time.
"""

import asyncio
import base64
import http.client
import json
import os
import select
import signal
import socket
import ssl
import struct
import subprocess
import time
import urllib.parse
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parents[2]


def _server_bin():
    """LIFELINE_SERVER_BIN (a relative path is taken from the current folder,
    else from the repository), or build/src/server/lifeline-server. Always
    absolute: servers run in their own temporary folders."""
    given = os.environ.get("LIFELINE_SERVER_BIN")
    if not given:
        return str(ROOT / "build/src/server/lifeline-server")
    path = Path(given)
    if not path.is_absolute() and not path.exists() and (ROOT / path).exists():
        path = ROOT / path
    return str(path.resolve())


BIN = _server_bin()

# Fast heartbeats so tests see several pings in a second; the timeout
# leaves room for a busy client loop (tests of eviction shorten it).
FAST = ["--ping-interval-ms", "200", "--ping-timeout-ms", "1000"]
QUICK_EVICTION = ["--ping-interval-ms", "200", "--ping-timeout-ms", "400"]


def server_env(**extra):
    """The environment for a server, plus extra: under ASan, ignore
    libwebsockets' own leak on a failed start (see lsan.supp); never the
    NOTIFY_SOCKET of a systemd that runs the tests."""
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    env.update(extra)
    supp = f"suppressions={Path(__file__).resolve().parent / 'lsan.supp'}"
    env["LSAN_OPTIONS"] = ":".join(filter(None, [env.get("LSAN_OPTIONS"), supp]))
    return env


def wait_until(predicate, timeout=5.0, interval=0.01, what="condition"):
    """Polls predicate until it returns a truthy value, or fails."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


class Server:
    """One lifeline-server process in a temporary folder."""

    def __init__(self, workdir, args=(), db=None, tls=None, preexec_fn=None):
        self.workdir = Path(workdir)
        self.db = str(db or self.workdir / "lifeline.db")
        self.args = list(args)
        self.tls = tls  # (cert, key) or None
        self.preexec_fn = preexec_fn  # run in the child before exec (resource limits)
        self.proc = None
        self.port = None
        self.stderr_path = self.workdir / f"server-{time.monotonic_ns()}.log"

    # -- life -------------------------------------------------------------
    def start(self, timeout=10.0):
        # SIGTERM drains over --drain-window-ms (10 s by default): the stop at
        # the end of a test closes every connection at once unless the test
        # asks for a window (its own option, later, wins)
        cmd = [BIN, "--port", "0", "--db", self.db, "--drain-window-ms", "0"] + self.args
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr,
                                     cwd=self.workdir, env=server_env(),
                                     preexec_fn=self.preexec_fn)
        line = self._first_line(timeout)
        event = json.loads(line)
        assert event["event"] == "listening", line
        self.port = event["port"]
        assert self.port > 0
        return self

    def _first_line(self, timeout):
        deadline = time.monotonic() + timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("server printed no listening line:\n" + self.log())
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise AssertionError("server exited early:\n" + self.log())
                buf += chunk
        return buf.split(b"\n", 1)[0].decode()

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Signals the server and waits; returns its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("server did not stop in time:\n" + self.log())
        self.proc.stdout.close()
        self._stderr.close()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def log(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_events(self):
        """The log's events, when started with --json."""
        out = []
        for line in self.log().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    # -- addresses --------------------------------------------------------
    def ws_url(self, store=None, user=None, **query):
        q = {}
        if store is not None:
            q["store"] = store
        if user is not None:
            q["user"] = user
        q.update(query)
        scheme = "wss" if self.tls else "ws"
        return f"{scheme}://127.0.0.1:{self.port}/ws?" + urllib.parse.urlencode(q)

    async def connect(self, store, user, **kw):
        kw.setdefault("ping_interval", None)
        kw.setdefault("close_timeout", 2)
        kw.setdefault("max_size", None)
        if self.tls:
            kw.setdefault("ssl", insecure_ssl())
        return await websockets.connect(self.ws_url(store, user), **kw)

    # -- HTTP -------------------------------------------------------------
    def http(self, method, path, body=None, headers=None, raw_body=None, timeout=5.0):
        """Returns (status, headers dict (lower-case names), parsed JSON or None)."""
        if self.tls:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=insecure_ssl())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = raw_body if raw_body is not None else (
                json.dumps(body).encode() if body is not None else None)
            hdrs = dict(headers or {})
            if data is not None:
                hdrs.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            text = resp.read()
            got = {k.lower(): v for k, v in resp.getheaders()}
            parsed = json.loads(text) if text else None
            return resp.status, got, parsed
        finally:
            conn.close()

    def http_text(self, method, path, headers=None, timeout=5.0):
        """Returns (status, headers dict (lower-case names), body as text)."""
        if self.tls:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=insecure_ssl())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, headers=dict(headers or {}))
            resp = conn.getresponse()
            text = resp.read().decode()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text
        finally:
            conn.close()

    def metrics(self, headers=None):
        """GET /metrics, read by prometheus_client's parser: a Metrics."""
        status, got, text = self.http_text("GET", "/metrics", headers)
        assert status == 200, (status, text)
        assert got["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        return Metrics(text)

    def stats(self):
        status, _, body = self.http("GET", "/api/v1/websockets/stats")
        assert status == 200
        return body

    def wait_active(self, n, timeout=5.0):
        return wait_until(lambda: self.stats()["active_connections"] == n, timeout,
                          what=f"{n} active connections")

    def fault(self, mode, **kw):
        status, _, body = self.http("POST", "/api/v1/admin/fault", dict(mode=mode, **kw))
        assert status == 200, body
        return body

    # -- the same from inside an event loop -------------------------------
    # Blocking calls would stop the loop, and with it the client library's
    # answers to the server's pings: async tests use these.
    async def ahttp(self, *args, **kw):
        return await asyncio.to_thread(self.http, *args, **kw)

    async def astats(self):
        return await asyncio.to_thread(self.stats)

    async def afault(self, mode, **kw):
        return await asyncio.to_thread(self.fault, mode, **kw)

    async def await_active(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while (await self.astats())["active_connections"] != n:
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {n} active connections")
            await asyncio.sleep(0.01)  # polling a condition, with a deadline


class Metrics:
    """A /metrics answer as prometheus_client's parser reads it."""

    def __init__(self, text):
        from prometheus_client.parser import text_string_to_metric_families
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}

    def samples(self, name):
        """The samples of a metric, by its full name (counters with _total):
        {frozenset of label items: value}."""
        out = {}
        for family in self.families.values():
            for s in family.samples:
                if s.name == name:
                    out[frozenset(s.labels.items())] = s.value
        return out

    def value(self, name, **labels):
        """One sample's value (a missing sample fails)."""
        samples = self.samples(name)
        key = frozenset(labels.items())
        assert key in samples, f"no {name}{labels} in:\n{self.text}"
        return samples[key]


def non_loopback_address():
    """An address of this host that is not loopback, or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent
            addr = s.getsockname()[0]
    except OSError:
        return None
    return None if addr.startswith("127.") else addr


def insecure_ssl():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def recv_json(ws, timeout=5.0):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def recv_until(ws, predicate, timeout=5.0):
    """Receives messages until one satisfies predicate; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no matching message")
        msg = await asyncio.wait_for(ws.recv(), left)
        try:
            value = json.loads(msg)
        except (TypeError, ValueError):
            value = msg
        if predicate(value):
            return value


async def closed_code(ws, timeout=5.0):
    """Reads until the connection closes; returns the close code received."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except websockets.exceptions.ConnectionClosed as e:
        return e.rcvd.code if e.rcvd else None


# -- a bare WebSocket client ----------------------------------------------

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class RawWS:
    """A WebSocket client that does exactly what the test says and nothing
    else: it never answers pings unless asked to."""

    def __init__(self, port, path="/ws?store=s&user=raw", handshake=True, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.status = None
        if handshake:
            self.handshake(path)

    def handshake(self, path):
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(req.encode())
        head = self._read_until(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])
        self.headers = head
        return self.status

    def _read_until(self, marker):
        while marker not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed before " + repr(marker))
            self.buf += chunk
        head, self.buf = self.buf.split(marker, 1)
        return head

    def _read_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_frame(self, opcode, payload=b"", fin=True, mask=True):
        if isinstance(payload, str):
            payload = payload.encode()
        head = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            head += bytes([mbit | n])
        elif n < 65536:
            head += bytes([mbit | 126]) + struct.pack("!H", n)
        else:
            head += bytes([mbit | 127]) + struct.pack("!Q", n)
        if mask:
            key = os.urandom(4)
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            head += key
        self.sock.sendall(head + payload)

    def recv_frame(self, timeout=5.0):
        """Returns (opcode, payload); raises socket.timeout or ConnectionError."""
        self.sock.settimeout(timeout)
        b0, b1 = self._read_exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read_exact(8))[0]
        return b0 & 0x0F, self._read_exact(n)

    def recv_until(self, opcodes, timeout=5.0):
        """Skips frames until one with an opcode in opcodes arrives."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no such frame")
            op, payload = self.recv_frame(left)
            if op in opcodes:
                return op, payload

    def close_code(self, timeout=5.0):
        """Reads until a close frame; returns its code."""
        op, payload = self.recv_until({OP_CLOSE}, timeout)
        return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None

    def wait_eof(self, timeout=5.0):
        """Reads and drops everything until the server hangs up."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if not self.sock.recv(65536):
                    return True
            except ConnectionResetError:
                return True
        raise AssertionError("server did not hang up")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
