"""Reliable delivery (lifeline.v1, issue 12): send() returns the id, on_acked
and on_resumed, send_acked() in asyncio, the outbox file across clients,
a server that does not speak lifeline.v1, and the configuration.

The server is the Node reference server, examples/node-reference/server.js
($LIFELINE_NODE, default /usr/bin/node; its `ws` module from $NODE_PATH,
default /usr/share/nodejs): it echoes each message through the session.
The one that does not speak lifeline.v1 is tests/integration/peer.py in
no_subprotocol mode. Tests wait on events, never on sleeps.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
from collections import deque
from pathlib import Path
from typing import Deque, List

import pytest

import lifeline
from lifeline import ErrorCode, State

from conftest import FAST, REPO, Recorder, limit

NODE = os.environ.get("LIFELINE_NODE", "/usr/bin/node")
NODE_PATH = os.environ.get("NODE_PATH", "/usr/share/nodejs")
NODE_SERVER = REPO / "examples" / "node-reference" / "server.js"
DEAD_URL = "ws://127.0.0.1:9/"  # the discard port: nothing listens


class NodeServer:
    """server.js on a free port; killed, its pipes drained and closed, at
    close()."""

    def __init__(self) -> None:
        if not os.access(NODE, os.X_OK) or not NODE_SERVER.is_file():
            pytest.skip(f"needs {NODE} and {NODE_SERVER} (set LIFELINE_NODE)")
        self.stderr: Deque[str] = deque(maxlen=100)
        self.proc = subprocess.Popen(
            [NODE, str(NODE_SERVER), "--port", "0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=dict(os.environ, NODE_PATH=NODE_PATH),
        )
        self.err = threading.Thread(target=self._drain_stderr, daemon=True)
        self.err.start()
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        try:
            first = json.loads(line)
            assert first["event"] == "listening"
            self.port = int(first["port"])
        except (ValueError, KeyError, AssertionError):
            self.close()
            raise RuntimeError(f"server.js did not listen: {line!r}\n" + "\n".join(self.stderr))

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip())

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.err.join(limit(5))
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()


@pytest.fixture
def node():
    s = NodeServer()
    try:
        yield s
    finally:
        s.close()


def reliable(**kw):
    return dict(delivery="reliable", **FAST, **kw)


def wait_acked(rec: Recorder, msg_id: int, timeout: float = 5) -> None:
    rec.wait(lambda evs: any(e[0] == "acked" and e[2] >= msg_id for e in evs),
             timeout, f"on_acked reaching {msg_id}")


# ---- send() returns the id, on_acked, on_resumed -----------------------------


def test_reliable_send_returns_increasing_ids_and_each_echo_arrives_once_in_order(
        node, clients, recorder):
    c = clients(node.url, **recorder.callbacks(), **reliable())
    c.start()
    sent = [f"sale {n}" for n in range(1, 51)]
    ids = [c.send(m) for m in sent]
    assert ids == list(range(1, 51))  # a new session numbers from 1
    wait_acked(recorder, ids[-1])
    recorder.wait_messages(len(sent))
    assert recorder.messages() == sent  # once each, in order
    acked = [e[2] for e in recorder.of("acked")]
    assert acked == sorted(acked) and acked[-1] == ids[-1]  # cumulative, rising
    # the first connection of a new session: not recovered, nothing replayed
    assert [e[2:] for e in recorder.of("resumed")] == [(False, 0)]
    st = c.stats()
    assert st.last_acked_id == ids[-1]
    assert (st.outbox_messages, st.outbox_bytes) == (0, 0)
    assert st.messages_sent == len(sent) and st.resumes_lost == 0
    assert c.send(b"\x00binary") == ids[-1] + 1
    recorder.wait_messages(len(sent) + 1)
    assert recorder.messages()[-1] == b"\x00binary"


def test_best_effort_send_still_returns_none(node, clients, recorder):
    c = clients(node.url, **recorder.callbacks(), **FAST)
    c.start()
    assert c.send("plain") is None
    assert recorder.wait_messages(1) == ["plain"]
    st = c.stats()
    assert (st.last_acked_id, st.outbox_messages) == (0, 0)
    assert recorder.of("acked") == [] and recorder.of("resumed") == []


# ---- asyncio: send_acked() and the events -------------------------------------


def test_send_acked_resolves_with_its_id_and_the_events_say_so(node):
    async def main():
        c = lifeline.Client(node.url, **reliable())
        stream = c.events()  # before start: the resume is seen
        async with c:
            first = await asyncio.wait_for(c.send_acked("one"), limit(5))
            assert first == 1
            ids = await asyncio.wait_for(
                asyncio.gather(*(c.send_acked(f"m{n}") for n in range(2, 12))), limit(5))
            assert ids == list(range(2, 12))
            assert c.stats().last_acked_id >= 11
            seen: List[object] = []

            def echoes() -> List[object]:
                return [e.data for e in seen if isinstance(e, lifeline.MessageEvent)]

            while not (len(echoes()) == 11 and any(
                    isinstance(e, lifeline.AckedEvent) and e.id >= 11 for e in seen)):
                seen.append(await stream.get(limit(5)))
        resumed = [e for e in seen if isinstance(e, lifeline.ResumedEvent)]
        assert resumed == [lifeline.ResumedEvent(recovered=False, replayed=0)]
        assert echoes() == ["one"] + [f"m{n}" for n in range(2, 12)]
        acked = [e.id for e in seen if isinstance(e, lifeline.AckedEvent)]
        assert acked == sorted(acked) and acked[-1] == 11

    asyncio.run(main())


def test_send_acked_fails_with_stopped_when_the_client_stops_first():
    async def main():
        c = lifeline.Client(DEAD_URL, **reliable())
        stream = c.events()
        c.start()
        waiting = asyncio.ensure_future(c.send_acked("never acknowledged"))
        while True:  # the send is in the outbox once the client retries
            ev = await stream.get(limit(5))
            if isinstance(ev, lifeline.RetryEvent):
                break
        assert not waiting.done()
        await c.aclose()
        with pytest.raises(lifeline.LifelineError) as e:
            await asyncio.wait_for(waiting, limit(5))
        assert e.value.code == ErrorCode.STOPPED
        # an outbox in memory reports what it held as dropped at the stop
        rest = [ev async for ev in stream]
        dropped = [ev for ev in rest if isinstance(ev, lifeline.DroppedEvent)]
        assert [(d.data, d.reason) for d in dropped] == [("never acknowledged", "STOPPED")]

    asyncio.run(main())


def test_send_acked_needs_reliable_delivery(node):
    async def main():
        async with lifeline.Client(node.url, **FAST) as c:
            with pytest.raises(lifeline.LifelineError) as e:
                await c.send_acked("x")
            assert e.value.code == ErrorCode.STATE

    asyncio.run(main())


def test_a_message_dropped_as_the_oldest_fails_its_wait_and_the_rest_arrive(node):
    # drop-oldest with room for two: before the start, a third send pushes
    # the first out (on_dropped_id: QUEUE_FULL); the other two are
    # acknowledged and echoed, and the server is never left waiting
    async def main():
        c = lifeline.Client(node.url, queue_policy="drop_oldest", queue_max_messages=2,
                            **reliable())
        stream = c.events()
        waits = [asyncio.ensure_future(c.send_acked(t)) for t in ("m1", "m2", "m3")]
        await asyncio.sleep(0)  # let each send run and register its wait
        c.start()
        with pytest.raises(lifeline.LifelineError) as e:
            await asyncio.wait_for(waits[0], limit(5))
        assert e.value.code == ErrorCode.QUEUE_FULL
        assert await asyncio.wait_for(waits[1], limit(5)) == 2
        assert await asyncio.wait_for(waits[2], limit(5)) == 3
        echoes, ids = [], []
        async for ev in stream:
            if isinstance(ev, lifeline.MessageEvent):
                echoes.append(ev.data)
            elif isinstance(ev, lifeline.DroppedIdEvent):
                ids.append((ev.id, ev.reason))
            if len(echoes) == 2:
                break
        assert echoes == ["m2", "m3"]
        assert ids == [(1, "QUEUE_FULL")]
        c.close()

    asyncio.run(asyncio.wait_for(main(), limit(20)))


def test_send_acked_after_the_client_is_closed_raises_stopped(node):
    async def main():
        c = lifeline.Client(node.url, **reliable())
        c.close()
        with pytest.raises(lifeline.LifelineError) as e:
            await c.send_acked("late")
        assert e.value.code == ErrorCode.STOPPED

    asyncio.run(main())


# ---- the outbox file -------------------------------------------------------------


def test_an_outbox_file_carries_what_a_closed_client_held_to_the_next(node, tmp_path):
    outbox = tmp_path / "till.outbox"
    offline = Recorder()
    c = lifeline.Client(DEAD_URL, outbox_path=outbox, **offline.callbacks(), **reliable())
    try:
        c.start()
        ids = [c.send(f"offline {n}") for n in range(1, 4)]
        assert ids == [1, 2, 3]
        st = c.stats()
        assert st.outbox_messages == 3 and st.outbox_bytes == sum(len(f"offline {n}") for n in (1, 2, 3))
        offline.wait(lambda evs: any(e[0] == "retry" for e in evs), 5, "a retry")
    finally:
        c.close()
    # kept in the file, not dropped
    assert offline.of("dropped") == [] and offline.of("acked") == []
    assert outbox.exists()
    lifeline.outbox_check(outbox)  # a valid outbox

    online = Recorder()
    c2 = lifeline.Client(node.url, outbox_path=str(outbox), **online.callbacks(), **reliable())
    try:
        assert c2.stats().outbox_messages == 3  # read from the file before start
        c2.start()
        assert c2.send("online 4") == 4  # the session's numbering goes on
        wait_acked(online, 4)
        expected = ["offline 1", "offline 2", "offline 3", "online 4"]
        assert online.wait_messages(4) == expected
        st = c2.stats()
        assert (st.outbox_messages, st.last_acked_id) == (0, 4)
    finally:
        c2.close()
    assert online.messages() == expected  # nothing twice


def test_a_damaged_outbox_file_is_refused_saying_why(tmp_path):
    bad = tmp_path / "bad.outbox"
    bad.write_bytes(b"not an outbox " * 100)
    with pytest.raises(lifeline.LifelineError) as e:
        lifeline.outbox_check(bad)
    assert e.value.code == ErrorCode.OUTBOX_CORRUPT and str(bad) in e.value.detail
    with pytest.raises(lifeline.LifelineError) as e:
        lifeline.Client(DEAD_URL, outbox_path=bad, **reliable())
    assert e.value.code == ErrorCode.OUTBOX_CORRUPT and str(bad) in e.value.detail
    with pytest.raises(lifeline.LifelineError) as e:
        lifeline.outbox_check(tmp_path)  # a folder
    assert e.value.code == ErrorCode.OUTBOX_OPEN and str(tmp_path) in e.value.detail
    assert lifeline.outbox_check(tmp_path / "none.outbox") is None  # would be created
    assert not (tmp_path / "none.outbox").exists()


# ---- a server that does not speak lifeline.v1 ---------------------------------------


def test_a_server_without_lifeline_v1_is_a_permanent_not_lifeline():
    from test_shutdown import RawPeer  # peer.py, as the shutdown tests start it

    peer = RawPeer("no_subprotocol")
    try:
        async def main():
            c = lifeline.Client(peer.url, **reliable())
            stream = c.events()
            try:
                c.start()
                waiting = asyncio.ensure_future(c.send_acked("for a lifeline.v1 server"))
                while True:
                    ev = await stream.get(limit(5))
                    if isinstance(ev, lifeline.StateEvent) and ev.new is State.ERROR:
                        break
                assert ev.info.error == "NOT_LIFELINE"
                assert ev.info.error_code == ErrorCode.NOT_LIFELINE
                with pytest.raises(lifeline.LifelineError) as e:
                    await asyncio.wait_for(waiting, limit(5))
                assert e.value.code == ErrorCode.NOT_LIFELINE
                assert c.state is State.ERROR
                assert c.stats().last_error == "NOT_LIFELINE"
            finally:
                await c.aclose()

        asyncio.run(main())
    finally:
        peer.close()


# ---- configuration -------------------------------------------------------------------


def test_delivery_defaults_come_from_the_library():
    d = lifeline.default_options()
    assert d["delivery"] is lifeline.Delivery.BEST_EFFORT
    assert d["outbox_path"] is None
    assert d["outbox_durability"] is lifeline.Durability.NORMAL
    assert (d["ack_every"], d["ack_delay_ms"]) == (32, 20)


def test_delivery_options_are_taken_by_name_or_member(tmp_path):
    for delivery in ("reliable", lifeline.Delivery.RELIABLE):
        for durability in ("full", lifeline.Durability.FULL, 1):
            lifeline.Client(DEAD_URL, delivery=delivery, outbox_durability=durability,
                            outbox_path=tmp_path / "o.outbox", ack_every=1,
                            ack_delay_ms=0).close()


@pytest.mark.parametrize(
    "options,option",
    [
        (dict(delivery="reliable", subprotocol="chat"), "subprotocol"),
        (dict(delivery="reliable", app_ping=True), "app_ping"),
        (dict(delivery="reliable", queue_policy="off"), "queue_policy"),
        (dict(delivery="reliable", ack_every=0), "ack_every"),
        (dict(ack_every=0), "ack_every"),
        (dict(outbox_durability=7), "outbox_durability"),
        (dict(outbox_durability="power-proof"), "outbox_durability"),
        (dict(delivery="exactly_once"), "delivery"),
    ],
)
def test_a_bad_delivery_option_is_refused_naming_it(options, option):
    with pytest.raises(lifeline.ConfigError) as e:
        lifeline.Client(DEAD_URL, **options)
    assert e.value.option == option
    assert e.value.code == ErrorCode.CONFIG_DELIVERY
    assert str(e.value).startswith(option + ":")


def test_a_negative_ack_delay_is_refused_naming_it():
    with pytest.raises(lifeline.ConfigError) as e:
        lifeline.Client(DEAD_URL, delivery="reliable", ack_delay_ms=-1)
    assert (e.value.option, e.value.code) == ("ack_delay_ms", ErrorCode.CONFIG_NEGATIVE)


def test_outbox_path_takes_str_and_path_like(tmp_path):
    for p in (str(tmp_path / "a.outbox"), tmp_path / "b.outbox"):
        lifeline.Client(DEAD_URL, delivery="reliable", outbox_path=p).close()
        assert Path(p).exists()
    with pytest.raises(TypeError):
        lifeline.Client(DEAD_URL, delivery="reliable", outbox_path=42)
