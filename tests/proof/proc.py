"""Processes of the delivery proofs: lifeline-server with its journal, and
the till (tests/proof/till.c), each read line by line on a thread so that a
test waits for what they say, never for a fixed time.

Binaries: LIFELINE_SERVER_BIN (default build/src/server/lifeline-server)
and LIFELINE_TILL_BIN (default build/tests/lifeline-till), relative to the
repository's root."""

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def binary(var, default):
    path = Path(os.environ.get(var, default))
    if not path.is_absolute():
        path = ROOT / path
    if not os.access(path, os.X_OK):
        raise AssertionError(f"{path} is not an executable: build first (ninja -C build), "
                             f"or set {var}")
    return str(path)


SERVER = binary("LIFELINE_SERVER_BIN", "build/src/server/lifeline-server")
TILL = binary("LIFELINE_TILL_BIN", "build/tests/lifeline-till")


class Lines:
    """A process whose stdout is read into a list of lines, on a thread."""

    def __init__(self, argv, prefix=(), stderr=None):
        self.argv = list(prefix) + list(argv)
        self.lines = []
        self.cv = threading.Condition()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=stderr or subprocess.DEVNULL,
                                     text=True, bufsize=1)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cv:
                self.lines.append(line.rstrip("\n"))
                self.cv.notify_all()
        with self.cv:
            self.eof = True
            self.cv.notify_all()

    eof = False

    def wait_for(self, pred, timeout):
        """Wait until pred(lines) is true; returns it, or raises on timeout
        or when the process has ended without it."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                got = pred(self.lines)
                if got:
                    return got
                if self.eof:
                    raise AssertionError(f"{self.argv[0]} ended (rc {self.proc.wait()}) "
                                         f"before it said what was awaited; last lines: "
                                         f"{self.lines[-5:]}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.argv[0]}: not said within {timeout} s; "
                                         f"last lines: {self.lines[-5:]}")
                self.cv.wait(left)

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=30)
        self.reader.join(timeout=30)
        return rc

    def wait(self, timeout):
        rc = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=30)
        return rc


def last_number(lines, word):
    """The last k of a line "<word> k", or 0."""
    for line in reversed(lines):
        if line.startswith(word + " "):
            return int(line.split()[1])
    return 0


class Server:
    """lifeline-server with --journal, on a fixed port once started (a
    restart takes the same port and database)."""

    def __init__(self, folder, prefix=(), host="127.0.0.1", extra=()):
        self.folder = Path(folder)
        self.db = self.folder / "server.db"
        self.prefix = list(prefix)
        self.host = host
        self.extra = list(extra)
        self.port = 0
        self.proc = None
        self.log = open(self.folder / "server.log", "a")

    def start(self):
        argv = [SERVER, "--host", self.host, "--port", str(self.port), "--db", str(self.db),
                "--journal", "--ping-interval-ms", "1000", "--ping-timeout-ms", "500",
                *self.extra]
        self.proc = Lines(argv, self.prefix, stderr=self.log)
        first = self.proc.wait_for(lambda ls: ls[0] if ls else None, 30)
        port = json.loads(first)["port"]
        assert not self.port or port == self.port
        self.port = port
        return self

    def url(self, store="proof", user="till-1"):
        return f"ws://{self.host}:{self.port}/ws?store={store}&user={user}"

    def kill(self, sig=signal.SIGKILL):
        return self.proc.kill(sig)

    def stop(self):
        if self.proc:
            self.proc.kill(signal.SIGTERM)
        self.log.close()

    def journal(self):
        """[(session, seq, payload)] as committed, in insertion order."""
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT session, seq, payload FROM journal ORDER BY rowid").fetchall()
        finally:
            con.close()
        return [(s if isinstance(s, str) else bytes(s).hex(), q,
                 p.decode() if isinstance(p, bytes) else p) for s, q, p in rows]


def assert_each_once_in_order(journal, count):
    """One session; its payloads are n=1..n=count, each once, in order, with
    seq = k."""
    sessions = {s for s, _, _ in journal}
    assert len(sessions) == 1, f"{len(sessions)} sessions in the journal: {sessions}"
    got = [(q, p) for _, q, p in journal]
    want = [(k, f"n={k}") for k in range(1, count + 1)]
    if got != want:
        seen = {}
        for q, p in got:
            seen[p] = seen.get(p, 0) + 1
        doubled = sorted(p for p, n in seen.items() if n > 1)
        lost = [p for _, p in want if p not in seen]
        raise AssertionError(f"journal: {len(got)} rows for {count} numbers; lost {lost[:10]} "
                             f"({len(lost)}), doubled {doubled[:10]} ({len(doubled)}); first "
                             f"rows out of place: {[g for g, w in zip(got, want) if g != w][:5]}")
