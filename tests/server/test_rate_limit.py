"""--rate-limit over real sockets: one member of a store floods it as fast
as it can (A, a process of its own: flooder.py) while B broadcasts at a
steady rate and C measures how late B's broadcasts reach it. With the limit
on, A's messages over it are dropped, A is told (at most once a second) and,
flooding on, closed with 1008; C gets every one of B's broadcasts, in order.

The latencies are printed (pytest -s), not asserted beyond a loose bound: a
busy 2-CPU machine must not fail the test."""

import asyncio
import json
import re
import sys
import time
from pathlib import Path

import websockets

from llserver import recv_until
from v1client import Conn

FLOODER = Path(__file__).resolve().parent / "flooder.py"
STORE = "shop"
RATE = 200           # messages a second, per connection
BROADCASTS = 100     # from B, one every INTERVAL
INTERVAL = 0.02


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def figures(latencies):
    ms = [x * 1000 for x in latencies]
    return (f"p50 {percentile(ms, 50):.2f} ms, p99 {percentile(ms, 99):.2f} ms, "
            f"max {max(ms):.2f} ms")


class Store:
    """B and C in the store: B broadcasts, C takes the time of each."""

    def __init__(self, server):
        self.server = server
        self.from_a = 0   # A's broadcasts that reached C
        self.b_seen = []  # (tag, seq, latency) of B's broadcasts, as C got them

    async def open(self):
        self.b = await self.server.connect(STORE, "B")
        self.c = await self.server.connect(STORE, "C")
        await recv_until(self.b, lambda m: m.get("type") == "user_joined" and m["user"] == "C")
        self.drain_b = asyncio.create_task(self._drain(self.b))
        self.read_c = asyncio.create_task(self._read_c())

    @staticmethod
    async def _drain(ws):
        try:
            async for _ in ws:
                pass
        except websockets.exceptions.ConnectionClosed:
            pass

    async def _read_c(self):
        async for raw in self.c:
            m = json.loads(raw)
            if m.get("type") != "broadcast":
                continue
            if m["from"] == "A":
                self.from_a += 1
            elif m["from"] == "B":
                d = m["data"]
                self.b_seen.append((d["tag"], d["seq"], time.monotonic() - d["t"]))

    async def broadcasts(self, tag):
        """B sends BROADCASTS numbered broadcasts, one every INTERVAL; returns
        C's latencies once C has them all, after checking their order."""
        for seq in range(BROADCASTS):
            await self.b.send(json.dumps({"type": "broadcast",
                                          "data": {"tag": tag, "seq": seq, "t": time.monotonic()}}))
            await asyncio.sleep(INTERVAL)  # the pace of a steady sender, not a wait for an event
        deadline = time.monotonic() + 30
        while sum(1 for t, _, _ in self.b_seen if t == tag) < BROADCASTS:
            assert not self.read_c.done(), "C's connection ended"
            assert time.monotonic() < deadline, f"C got {len(self.b_seen)} of B's broadcasts"
            await asyncio.sleep(0.01)  # polling a condition, with a deadline
        mine = [(seq, lat) for t, seq, lat in self.b_seen if t == tag]
        assert [seq for seq, _ in mine] == list(range(BROADCASTS)), "C got B's broadcasts out of order"
        return [lat for _, lat in mine]

    async def close(self):
        await self.b.close()
        await self.c.close()
        await asyncio.gather(self.drain_b, self.read_c)


class Flooder:
    """A (flooder.py) in a process of its own; use as `async with`: a test
    that fails leaves no flooder behind."""

    def __init__(self, server, max_s):
        self.args = [str(FLOODER), str(server.port), STORE, "A", str(max_s)]

    async def __aenter__(self):
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable or "/usr/bin/python3", *self.args,
            stdout=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
        return self

    async def line(self, timeout=15):
        """Its next JSON line."""
        raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        assert raw, "the flooder ended early"
        return json.loads(raw)

    async def __aexit__(self, *exc):
        if self.proc.returncode is None and exc[0] is not None:
            self.proc.kill()
        assert await self.proc.wait() == 0 or exc[0] is not None


def test_a_flooding_member_is_limited_and_closed_and_the_others_are_not_slowed(start_server):
    server = start_server("--rate-limit", str(RATE), fast=False)  # no pings: A answers none

    async def go():
        store = Store(server)
        await store.open()
        baseline = await store.broadcasts("baseline")

        async with Flooder(server, max_s=30) as a:
            assert (await a.line())["event"] == "open"
            assert (await a.line())["event"] == "first_error"  # A is over the limit now
            flooded = await store.broadcasts("flood")
            done = await a.line(timeout=30)  # A's end: closed by the server
            assert done["event"] == "done"
        await server.await_active(2)
        m = await asyncio.to_thread(server.metrics)
        await store.close()
        await server.await_active(0)  # B's and C's closes are logged by then
        return baseline, flooded, done, store.from_a, m

    baseline, flooded, done, from_a, m = asyncio.run(go())
    print(f"\nno flood:         C's latency {figures(baseline)}")
    print(f"A flooding ({RATE}/s limit): C's latency {figures(flooded)}")
    print(f"A: sent {done['sent']} messages, told {done['errors']} times, closed with "
          f"{done['close_code']} {done['closed_s'] - done['first_error_s']:.2f} s after its first "
          f"error; {from_a} of its broadcasts reached C; "
          f"{int(m.value('lifeline_server_rate_limited_messages_total'))} dropped")

    # A was told, at most once a second, and closed with 1008 (policy violation)
    assert done["errors"] >= 1
    over_s = done["closed_s"] - done["first_error_s"]
    assert done["errors"] <= over_s + 2
    assert done["close_code"] == 1008
    # what A sent within the limit went through; the rest was dropped and counted
    assert 1 <= from_a < done["sent"]
    dropped = m.value("lifeline_server_rate_limited_messages_total")
    assert dropped >= 1
    assert m.value("lifeline_server_connections_closed_total", reason="rate_limited") == 1
    # B and C were never limited, and C's latency stayed sane
    assert max(flooded) < 1.0
    # the log names who was closed, and why
    log = server.log()
    assert re.search(r" rate_limited id=3 user=A store=shop peer=127\.0\.0\.1:\d+ dropped=\d+ "
                     r"over_ms=\d+\n", log), log
    assert re.search(r"connection_closed id=3 user=A store=shop peer=\S+ code=1008 "
                     r'reason=rate_limited detail="rate limited" duration_ms=\d+\n', log), log
    assert not re.search(r"rate_limited id=[12] ", log), log
    for b_or_c in (1, 2):  # B and C closed themselves, at the end
        assert re.search(rf"connection_closed id={b_or_c} .* reason=client_close ", log), log


def test_the_same_flood_without_a_limit_for_comparison(start_server):
    """No limit: A's flood goes to the whole store. Prints C's latency (or
    how C fared); asserts only that nothing was limited."""
    server = start_server(fast=False)

    async def go():
        store = Store(server)
        await store.open()
        async with Flooder(server, max_s=BROADCASTS * INTERVAL + 1) as a:
            assert (await a.line())["event"] == "open"
            try:
                flooded = await store.broadcasts("flood")
                outcome = f"C's latency {figures(flooded)}"
            except (AssertionError, websockets.exceptions.ConnectionClosed) as e:
                # B or C may fall behind for good: that is the point
                outcome = f"B and C did not both keep up: {e}; C got {len(store.b_seen)} of B's"
            done = await a.line(timeout=30)
        m = await asyncio.to_thread(server.metrics)
        for ws in (store.b, store.c):
            await ws.close()
        await asyncio.gather(store.drain_b, store.read_c, return_exceptions=True)
        return outcome, done, store.from_a, m

    outcome, done, from_a, m = asyncio.run(go())
    closed = {dict(k)["reason"]: int(v) for k, v in
              m.samples("lifeline_server_connections_closed_total").items() if v}
    print(f"\nA flooding (no limit): {outcome}; A sent {done['sent']} messages, "
          f"{from_a} of them reached C; closes: {closed or 'none'}")
    assert done["errors"] == 0
    assert m.value("lifeline_server_rate_limited_messages_total") == 0
    assert m.value("lifeline_server_connections_closed_total", reason="rate_limited") == 0


def test_a_lifeline_v1_sender_over_the_limit_is_read_more_slowly_and_loses_nothing(start_server):
    """lifeline.v1 numbers every unit: one dropped would be a gap. So over
    the limit the server reads the connection more slowly instead."""
    rate, n = 20, 60
    server = start_server("--rate-limit", str(rate))

    async def go():
        c = await Conn.open(server, STORE, "till")  # its hello is the first unit
        t0 = time.monotonic()
        for i in range(n):
            await c.send(json.dumps({"type": "echo", "data": i}))
        echoes = []
        while len(echoes) < n:
            _, payload = await c.recv_data(timeout=10)
            echoes.append(json.loads(payload)["data"])
        elapsed = time.monotonic() - t0
        await c.wait_acked(n, timeout=10)
        m = await asyncio.to_thread(server.metrics)
        await c.close()
        return elapsed, echoes, m

    elapsed, echoes, m = asyncio.run(go())
    pauses = int(m.value("lifeline_server_rate_limit_pauses_total"))
    print(f"\nlifeline.v1 at {rate}/s: {n} units echoed in {elapsed:.2f} s, {pauses} pauses")
    assert echoes == list(range(n))  # every unit handled, once, in order: none dropped
    assert m.value("lifeline_server_v1_messages_acknowledged_total") == n
    # read no faster than the limit: the burst (20, the hello among them),
    # then 20 a second, so the 61st unit no sooner than 2.05 s in
    assert elapsed >= (n + 1 - rate) / rate - 0.1
    assert pauses >= 1
    assert m.value("lifeline_server_rate_limited_messages_total") == 0
    assert m.value("lifeline_server_connections_closed_total", reason="rate_limited") == 0


def test_a_lifeline_v1_byte_debt_holds_the_connection_without_a_ping_timeout(start_server):
    """A unit larger than the byte bucket leaves a debt of seconds: the next
    unit waits for it, and the connection, not read meanwhile (its pongs
    unread), is not closed for a ping timeout (interval 200 ms, timeout 1 s)."""
    server = start_server("--rate-limit", "1000:1000")  # 1000 bytes a second

    async def go():
        c = await Conn.open(server, STORE, "till")
        big = json.dumps({"type": "echo", "data": "x" * 5000})
        t0 = time.monotonic()
        await c.send(big)
        await c.send(json.dumps({"type": "echo", "data": "after"}))
        first = await c.recv_data(timeout=10)
        second = await c.recv_data(timeout=15)
        elapsed = time.monotonic() - t0
        m = await asyncio.to_thread(server.metrics)
        await c.close()
        return first, second, elapsed, m

    first, second, elapsed, m = asyncio.run(go())
    print(f"\nlifeline.v1 at 1000 B/s: the unit after a {5000 + 30} B one read {elapsed:.2f} s later")
    assert json.loads(first[1])["data"] == "x" * 5000
    assert json.loads(second[1]) == {"type": "echo", "data": "after"}
    # the bucket (1000 B, less the hello) owed about 4 s for the big unit
    assert elapsed >= 3.9
    closed = {dict(k)["reason"]: v for k, v in
              m.samples("lifeline_server_connections_closed_total").items() if v}
    assert closed == {}, closed  # no ping timeout: still open
    assert m.value("lifeline_server_connections_open") == 1
