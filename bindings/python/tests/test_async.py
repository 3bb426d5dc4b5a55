"""client.events(): the same events on the caller's asyncio loop."""
from __future__ import annotations

import asyncio
import json
import threading

import pytest

import lifeline
from lifeline import Quality, State

from conftest import FAST, echo, limit


async def next_of(stream, kind, timeout=5):
    """Events until one of kind (the others are returned too)."""
    seen = []
    while True:
        ev = await stream.get(limit(timeout))
        seen.append(ev)
        if isinstance(ev, kind):
            return ev, seen


def test_events_arrive_on_the_callers_loop(server):
    async def main():
        loop_thread = threading.get_ident()
        c = lifeline.Client(server.url(), **FAST)
        stream = c.events()  # before start(): connecting may take no time at all
        with c:
            ev, _ = await next_of(stream, lifeline.StateEvent)
            assert (ev.old, ev.new) == (State.IDLE, State.CONNECTING)
            ev, _ = await next_of(stream, lifeline.StateEvent)
            assert (ev.old, ev.new) == (State.CONNECTING, State.CONNECTED)
            assert ev.info.reason == "connected"
            assert threading.get_ident() == loop_thread
            pong, _ = await next_of(stream, lifeline.PongEvent)
            assert pong.quality is Quality.EXCELLENT and pong.rtt_ms >= 0
            c.send(echo("async"))
            c.send(b"\x01\x02")
            msg, _ = await next_of(stream, lifeline.MessageEvent)
            assert json.loads(msg.data) == {"type": "echo", "data": "async"}
            msg, _ = await next_of(stream, lifeline.MessageEvent)
            assert msg.data == b"\x01\x02"

    asyncio.run(main())


def test_events_cover_retries_quality_and_drops_and_end_at_close(server):
    async def main():
        c = lifeline.Client(server.url(), queue_policy="drop_oldest", queue_max_messages=1,
                            **FAST)
        stream = c.events()  # before start: the first state change is seen
        c.start()
        ev, _ = await next_of(stream, lifeline.StateEvent)
        assert (ev.old, ev.new) == (State.IDLE, State.CONNECTING)
        q, _ = await next_of(stream, lifeline.QualityEvent)
        assert q.quality is Quality.EXCELLENT
        server.stop()
        seen = []
        while not (any(isinstance(e, lifeline.RetryEvent) for e in seen)
                   and any(isinstance(e, lifeline.QualityEvent) for e in seen)):
            seen.append(await stream.get(limit(5)))
        r = next(e for e in seen if isinstance(e, lifeline.RetryEvent))
        assert (r.attempt, r.probe) == (1, False) and r.delay_ms >= FAST["base_delay_ms"]
        q = next(e for e in seen if isinstance(e, lifeline.QualityEvent))
        assert q.quality is Quality.UNKNOWN  # lost with the connection
        c.send("a")
        c.send("b")
        d, _ = await next_of(stream, lifeline.DroppedEvent)
        assert (d.data, d.reason) == ("a", "QUEUE_FULL")
        await asyncio.get_running_loop().run_in_executor(None, c.close)
        rest = [e async for e in stream]  # ends: the client is closed
        assert any(isinstance(e, lifeline.StateEvent) and e.new is State.CLOSED for e in rest)
        assert any(isinstance(e, lifeline.DroppedEvent) and e.reason == "STOPPED" for e in rest)
        assert [e async for e in c.events()] == []  # a closed client's stream is empty

    asyncio.run(main())


def test_two_streams_each_get_every_event_and_a_closed_one_stops(server):
    async def main():
        with lifeline.Client(server.url(), **FAST) as c:
            a, b = c.events(), c.events()
            await next_of(a, lifeline.PongEvent)
            await b.aclose()
            c.send(echo(1))
            m, _ = await next_of(a, lifeline.MessageEvent)
            assert json.loads(m.data)["data"] == 1
            with pytest.raises(StopAsyncIteration):
                await b.__anext__()

    asyncio.run(main())


def test_callbacks_and_events_together(server, recorder):
    async def main():
        with lifeline.Client(server.url(), **recorder.callbacks(), **FAST) as c:
            stream = c.events()
            c.send(echo("both"))
            m, _ = await next_of(stream, lifeline.MessageEvent)
            assert "both" in m.data
        assert recorder.echoes() == ["both"]

    asyncio.run(main())


def test_async_with_starts_and_closes_without_blocking_the_loop(server):
    async def main():
        async with lifeline.Client(server.url(), **FAST) as c:
            stream = c.events()
            c.send(echo("async with"))
            m, _ = await next_of(stream, lifeline.MessageEvent)
            assert "async with" in m.data
        assert c.closed
        assert [e async for e in stream if isinstance(e, lifeline.MessageEvent)] == []

    asyncio.run(main())
