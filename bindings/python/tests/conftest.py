"""Fixtures: lifeline-server on loopback, and a recorder of callbacks.

The server is $LIFELINE_SERVER_BIN (default <repo>/build/src/server/
lifeline-server), started on port 0; its first stdout line tells the port.
Its database lives in a temporary folder removed at teardown, and the process
is killed at teardown, so a test leaves nothing behind.

Tests wait on events (threading.Condition with a deadline); a deadline is a
failure limit, never a way to let something happen.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections import deque
from pathlib import Path
from typing import Any, Callable, Deque, List, Optional

import pytest

import lifeline

REPO = Path(__file__).resolve().parents[3]
SERVER_BIN = os.environ.get(
    "LIFELINE_SERVER_BIN", str(REPO / "build" / "src" / "server" / "lifeline-server")
)

# Failure limits are multiplied by this (slow machines, valgrind).
SCALE = float(os.environ.get("LIFELINE_TEST_TIME_SCALE", "1"))


def limit(seconds: float) -> float:
    return seconds * SCALE


# The short timings of the C integration tests (tests/integration/harness.h).
FAST = dict(
    base_delay_ms=100,
    max_delay_ms=400,
    jitter_ms=20,
    max_attempts=3,
    stable_after_ms=1000,
    down_ping_interval_ms=100,
    connect_timeout_ms=1000,
    ping_interval_ms=300,
    ping_timeout_ms=150,
)


class Server:
    """One lifeline-server process; stop() and start() keep its port."""

    def __init__(self, extra: Optional[List[str]] = None) -> None:
        self.extra = list(extra or [])
        self.dir = tempfile.mkdtemp(prefix="lifeline-py-")
        self.port = 0
        self.proc: Optional[subprocess.Popen[str]] = None
        self.stderr: Deque[str] = deque(maxlen=200)
        self.readers: List[threading.Thread] = []

    def start(self) -> None:
        assert self.proc is None
        deadline = time.monotonic() + limit(10)
        while True:
            if self._spawn():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"lifeline-server did not listen on {self.port}:\n" + "\n".join(self.stderr)
                )
            time.sleep(0.05)  # the port is still held by the last process: retry

    def _spawn(self) -> bool:
        argv = [
            SERVER_BIN,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--db",
            os.path.join(self.dir, "server.db"),
            *self.extra,
        ]
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.dir,
        )
        err = threading.Thread(target=self._drain_stderr, args=(proc,), daemon=True)
        err.start()
        line = proc.stdout.readline() if proc.stdout else ""
        try:
            port = json.loads(line)["port"]
        except (ValueError, KeyError, TypeError):
            proc.kill()
            proc.wait()
            err.join()
            for f in (proc.stdout, proc.stderr):
                if f:
                    f.close()
            return False
        out = threading.Thread(target=self._drain, args=(proc.stdout,), daemon=True)
        out.start()
        self.readers = [err, out]
        self.port = port
        self.proc = proc
        return True

    def _drain_stderr(self, proc: "subprocess.Popen[str]") -> None:
        try:
            for line in proc.stderr:  # type: ignore[union-attr]
                self.stderr.append(line.rstrip())
        except (ValueError, OSError):
            pass

    @staticmethod
    def _drain(f: Any) -> None:
        try:
            for _ in f:
                pass
        except (ValueError, OSError):
            pass

    def stop(self, sig: int = signal.SIGKILL) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=limit(5))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for t in self.readers:  # they end at the pipes' end of file
            t.join(limit(5))
        self.readers = []
        for f in (proc.stdout, proc.stderr):
            if f:
                f.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, store: str = "s1", user: str = "u1") -> str:
        return f"ws://127.0.0.1:{self.port}/ws?store={store}&user={user}"

    def fault(self, mode: str, **extra: Any) -> int:
        body = json.dumps({"mode": mode, **extra}).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1/admin/fault",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=limit(5)) as resp:
            return int(resp.status)


@pytest.fixture
def server():
    if not os.access(SERVER_BIN, os.X_OK):
        pytest.skip(f"no lifeline-server at {SERVER_BIN} (set LIFELINE_SERVER_BIN)")
    s = Server()
    s.start()
    try:
        yield s
    finally:
        s.close()


class Recorder:
    """Every callback of one client, in order, with its time."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.events: List[tuple] = []  # (kind, monotonic time, *args)
        self.threads: set = set()

    def _add(self, kind: str, *args: Any) -> None:
        with self.cond:
            self.threads.add(threading.get_ident())
            self.events.append((kind, time.monotonic(), *args))
            self.cond.notify_all()

    # callbacks
    def on_state(self, old, new, info) -> None:
        self._add("state", old, new, info)

    def on_message(self, data) -> None:
        self._add("message", data)

    def on_pong(self, rtt_ms, grade) -> None:
        self._add("pong", rtt_ms, grade)

    def on_quality(self, grade) -> None:
        self._add("quality", grade)

    def on_retry(self, attempt, delay_ms, probe) -> None:
        self._add("retry", attempt, delay_ms, probe)

    def on_dropped(self, data, reason) -> None:
        self._add("dropped", data, reason)

    def on_notify(self, info) -> None:
        self._add("notify", info)

    def on_acked(self, msg_id) -> None:
        self._add("acked", msg_id)

    def on_resumed(self, recovered, replayed) -> None:
        self._add("resumed", recovered, replayed)

    def callbacks(self) -> dict:
        return dict(
            on_state=self.on_state,
            on_message=self.on_message,
            on_pong=self.on_pong,
            on_quality=self.on_quality,
            on_retry=self.on_retry,
            on_dropped=self.on_dropped,
            on_notify=self.on_notify,
            on_acked=self.on_acked,
            on_resumed=self.on_resumed,
        )

    # waiting
    def wait(self, pred: Callable[[List[tuple]], Any], timeout: float = 5, what: str = "") -> Any:
        deadline = time.monotonic() + limit(timeout)
        with self.cond:
            while True:
                result = pred(self.events)
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"timed out waiting for {what or pred}; events:\n" + self.dump()
                    )
                self.cond.wait(left)

    def of(self, kind: str) -> List[tuple]:
        with self.cond:
            return [e for e in self.events if e[0] == kind]

    def states(self) -> List[lifeline.State]:
        return [e[3] for e in self.of("state")]

    def messages(self) -> List[Any]:
        return [e[2] for e in self.of("message")]

    def wait_state(self, state: lifeline.State, timeout: float = 5, after: int = 0) -> tuple:
        """The first change to state among the events from index after."""

        def find(evs: List[tuple]) -> Any:
            for i, e in enumerate(evs[after:], after):
                if e[0] == "state" and e[3] == state:
                    return (i, e)
            return None

        return self.wait(find, timeout, f"state {state.value}")  # type: ignore[no-any-return]

    def wait_messages(self, n: int, timeout: float = 5) -> List[Any]:
        self.wait(lambda evs: sum(1 for e in evs if e[0] == "message") >= n, timeout, f"{n} messages")
        return self.messages()

    def echoes(self) -> List[Any]:
        """The data of the echo replies received, in order."""
        out = []
        for m in self.messages():
            if isinstance(m, str) and m.startswith("{"):
                msg = json.loads(m)
                if msg.get("type") == "echo":
                    out.append(msg.get("data"))
        return out

    def dump(self) -> str:
        t0 = self.events[0][1] if self.events else 0
        return "\n".join(f"  {e[1] - t0:8.3f} {e[0]} {e[2:]}" for e in self.events)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def clients():
    """Clients made through this fixture are closed at teardown."""
    made: List[lifeline.Client] = []

    def make(url: str, **kw: Any) -> lifeline.Client:
        c = lifeline.Client(url, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def echo(data: Any) -> str:
    """An echo request, in the compact form the server answers with."""
    return json.dumps({"type": "echo", "data": data}, separators=(",", ":"))
