"""Shutting down (issue 16): what was sent just before stop() or close() is
written before the close frame, and the close's answer is awaited, at most
the timeout; stats().last_close_answered says whether it came.

The peer is tests/integration/peer.py, as in the C tests of
tests/integration/test_shutdown.c: in raw_listen mode it answers the close,
in raw_no_close_reply mode it never does. Both report each message and the
close the client sent as JSON lines on stdout, which the tests wait on.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Set, Tuple

import pytest

import lifeline
from lifeline import State

from conftest import REPO, Recorder, limit

PEER = os.environ.get("LIFELINE_PEER", str(REPO / "tests" / "integration" / "peer.py"))

# peer.py runs on the websockets library; the venv of scripts/test sees
# Debian's python3-websockets through --system-site-packages.
pytest.importorskip("websockets")

# Sent just before the stop: small orders, then one large enough to take
# several writes of the socket.
ORDERS = [f"order {n}" for n in range(1, 21)] + ["final order " + "x" * 65536]


def shown(text: str) -> str:
    """text, cut short enough for an assertion's diff to stay readable."""
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} chars)"


# What the peer must report, in this order: every order, then one close 1000.
WRITTEN_THEN_CLOSED = [shown(o) for o in ORDERS] + [("close", 1000)]

# close() waits at most 2 s for the close's answer and then says nothing
# (the client is freed: no stats), so a close that took less than that got
# its answer. Not scaled by LIFELINE_TEST_TIME_SCALE: past 2 s it would
# pass without an answer.
ANSWERED = 1.8


class RawPeer:
    """peer.py in one raw mode, its stdout lines collected as JSON facts.

    The peer exits when its stdin closes: close() closes it, then waits."""

    def __init__(self, mode: str) -> None:
        if not os.path.isfile(PEER):
            pytest.skip(f"no peer.py at {PEER} (set LIFELINE_PEER)")
        self.cond = threading.Condition()
        self.facts: List[Dict[str, Any]] = []
        self.stderr: Deque[str] = deque(maxlen=100)
        self.proc = subprocess.Popen(
            [sys.executable, PEER, "--mode", mode, "--port", "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.readers = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._drain_stderr, daemon=True),
        ]
        for t in self.readers:
            t.start()
        listening = self.wait(lambda f: f["event"] == "listening", "the listening line")
        self.port = int(listening["port"])

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                fact = json.loads(line)
            except ValueError:
                continue
            with self.cond:
                self.facts.append(fact)
                self.cond.notify_all()
        with self.cond:  # end of file: wakes a waiter for good
            self.facts.append({"event": "peer exited"})
            self.cond.notify_all()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip())

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def wait(self, pred: Callable[[Dict[str, Any]], bool], what: str,
             timeout: float = 5) -> Dict[str, Any]:
        """The first fact for which pred is true, waiting for it."""
        deadline = time.monotonic() + limit(timeout)
        with self.cond:
            while True:
                for fact in self.facts:
                    if pred(fact):
                        return fact
                left = deadline - time.monotonic()
                if left <= 0 or self.facts[-1:] == [{"event": "peer exited"}]:
                    raise AssertionError(
                        f"peer.py: no {what}; it reported:\n"
                        + "\n".join(f"  {f}" for f in self.facts)
                        + "\nstderr:\n" + "\n".join(self.stderr)
                    )
                self.cond.wait(left)

    def wait_event(self, event: str, timeout: float = 5) -> Dict[str, Any]:
        return self.wait(lambda f: f["event"] == event, f'"{event}"', timeout)

    def frames(self) -> List[Any]:
        """What the client sent, in order: each message's text (shown()),
        then ("close", code) for a close frame."""
        with self.cond:
            out: List[Any] = []
            for f in self.facts:
                if f["event"] == "message":
                    out.append(shown(f.get("text", f.get("hex", ""))))
                elif f["event"] == "close_received":
                    out.append(("close", f["code"]))
            return out

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=limit(5))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for t in self.readers:  # they end at the pipes' end of file
            t.join(limit(5))
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()


@pytest.fixture
def listening_peer():
    """Answers the close at once."""
    p = RawPeer("raw_listen")
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def deaf_peer():
    """Reads everything, never answers the close."""
    p = RawPeer("raw_no_close_reply")
    try:
        yield p
    finally:
        p.close()


def connected_client(clients, url: str, rec: Recorder) -> lifeline.Client:
    c = clients(url, **rec.callbacks())
    c.start()
    rec.wait_state(State.CONNECTED)
    return c


def send_orders(c: lifeline.Client) -> None:
    for order in ORDERS:
        c.send(order)


def assert_closed_and_nothing_dropped(rec: Recorder) -> None:
    # on_dropped comes before on_state(closed), the last event
    rec.wait_state(State.CLOSED)
    assert rec.of("dropped") == []


# ---- a server that answers the close -----------------------------------------


def test_stop_writes_every_message_then_closes_1000_and_the_answer_comes(
        listening_peer, clients):
    rec = Recorder()
    c = connected_client(clients, listening_peer.url, rec)
    send_orders(c)
    t0 = time.monotonic()
    c.stop(timeout_ms=10000)
    took = time.monotonic() - t0
    s = c.stats()
    assert s.state is State.CLOSED
    assert s.last_close_answered is True
    assert (s.messages_sent, s.messages_dropped, s.queued_messages) == (len(ORDERS), 0, 0)
    assert took < limit(5), f"stop waited {took:.3f} s for a server that answered"
    listening_peer.wait_event("close_received")
    assert listening_peer.frames() == WRITTEN_THEN_CLOSED
    assert_closed_and_nothing_dropped(rec)


def test_close_writes_every_message_then_closes_1000(listening_peer, clients):
    rec = Recorder()
    c = connected_client(clients, listening_peer.url, rec)
    send_orders(c)
    t0 = time.monotonic()
    c.close()
    took = time.monotonic() - t0
    assert took < ANSWERED, f"close waited {took:.3f} s for a server that answered"
    listening_peer.wait_event("close_received")
    assert listening_peer.frames() == WRITTEN_THEN_CLOSED
    # close() has returned: every callback there will be has been made
    assert rec.states()[-1] is State.CLOSED
    assert rec.of("dropped") == []


# ---- a server that never answers the close ------------------------------------


@pytest.mark.parametrize("timeout_ms", [1000, 2500])
def test_stop_waits_its_timeout_for_an_answer_that_never_comes(deaf_peer, clients, timeout_ms):
    rec = Recorder()
    c = connected_client(clients, deaf_peer.url, rec)
    send_orders(c)
    t0 = time.monotonic()
    c.stop(timeout_ms=timeout_ms)  # no TIMEOUT error: the client did close
    took = time.monotonic() - t0
    bound = timeout_ms / 1000
    assert 0.8 * bound <= took < bound + limit(5), f"stop({timeout_ms}) took {took:.3f} s"
    s = c.stats()
    assert s.state is State.CLOSED
    assert s.last_close_answered is False
    assert (s.messages_sent, s.messages_dropped) == (len(ORDERS), 0)
    deaf_peer.wait_event("eof")  # the client gave up and ended the connection
    assert deaf_peer.frames() == WRITTEN_THEN_CLOSED
    assert_closed_and_nothing_dropped(rec)


def test_close_waits_at_most_2_s_for_an_answer_that_never_comes(deaf_peer, clients):
    rec = Recorder()
    c = connected_client(clients, deaf_peer.url, rec)
    send_orders(c)
    t0 = time.monotonic()
    c.close()
    took = time.monotonic() - t0
    assert 0.8 * 2 <= took < 2 + limit(5), f"close took {took:.3f} s"
    deaf_peer.wait_event("eof")
    assert deaf_peer.frames() == WRITTEN_THEN_CLOSED
    assert rec.states()[-1] is State.CLOSED
    assert rec.of("dropped") == []


def test_last_close_answered_is_false_for_a_stop_with_no_connection(clients):
    c = clients("ws://127.0.0.1:9/ws")  # nothing listens
    c.start()
    c.stop()
    assert c.stats().last_close_answered is False


# ---- asyncio ----------------------------------------------------------------
# The binding has no awaitable stop(): `async with` and aclose() are its
# asyncio forms of the end, close() run off the event loop.


async def wait_connected(stream: lifeline.EventStream) -> None:
    while True:
        ev = await stream.get(limit(5))
        if isinstance(ev, lifeline.StateEvent) and ev.new is State.CONNECTED:
            return


async def send_then_close_async(peer: RawPeer, how: str) -> Tuple[float, List[Any], bool]:
    """Sends ORDERS with send_async(), then closes the client with `how`
    ("async with" or "aclose"). Returns how long the close took, the events
    that came after connected, and whether the close was still under way
    when the event loop learnt that the peer had the close frame."""
    c = lifeline.Client(peer.url)
    stream = c.events()  # before start: it sees every event
    t: Dict[str, float] = {}

    async def send_orders_async() -> None:
        await wait_connected(stream)
        for order in ORDERS:
            await c.send_async(order)
        t["close"] = time.monotonic()

    async def session() -> None:
        if how == "async with":
            async with c:
                await send_orders_async()
        else:
            c.start()
            await send_orders_async()
            await c.aclose()
        t["closed"] = time.monotonic()

    loop = asyncio.get_running_loop()
    saw_close = loop.run_in_executor(None, peer.wait_event, "close_received", 10)
    task = asyncio.ensure_future(session())
    either: Set["asyncio.Future[Any]"] = {saw_close, task}
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    closing_when_seen = saw_close.done() and not task.done()
    await task  # its error first, if it failed
    await saw_close
    rest = [e async for e in stream]  # ends: the client is closed
    return t["closed"] - t["close"], rest, closing_when_seen


def assert_closed_event_and_nothing_dropped(events: List[Any]) -> None:
    states = [e for e in events if isinstance(e, lifeline.StateEvent)]
    assert states and states[-1].new is State.CLOSED
    assert [e for e in events if isinstance(e, lifeline.DroppedEvent)] == []


@pytest.mark.parametrize("how", ["async with", "aclose"])
def test_async_close_writes_every_message_then_closes_1000(listening_peer, how):
    took, rest, _ = asyncio.run(send_then_close_async(listening_peer, how))
    assert took < ANSWERED, f"{how} waited {took:.3f} s for a server that answered"
    assert listening_peer.frames() == WRITTEN_THEN_CLOSED
    assert_closed_event_and_nothing_dropped(rest)


@pytest.mark.parametrize("how", ["async with", "aclose"])
def test_async_close_waits_at_most_2_s_off_the_event_loop(deaf_peer, how):
    took, rest, closing_when_seen = asyncio.run(send_then_close_async(deaf_peer, how))
    assert 0.8 * 2 <= took < 2 + limit(5), f"{how} took {took:.3f} s"
    assert closing_when_seen, "the event loop did not run while the close waited"
    deaf_peer.wait_event("eof")
    assert deaf_peer.frames() == WRITTEN_THEN_CLOSED
    assert_closed_event_and_nothing_dropped(rest)
