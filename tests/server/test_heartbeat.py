"""Server pings: their cadence, a client that answers stays, a silent one
(a raw socket that completed the handshake) is evicted, and pongs count as
activity."""

import asyncio
import json
import socket
import time

from llserver import OP_CLOSE, OP_PING, OP_PONG, QUICK_EVICTION, RawWS, recv_json


def test_the_server_pings_every_interval(server):
    raw = RawWS(server.port, "/ws?store=s&user=raw")
    assert raw.status == 101
    t0 = time.monotonic()
    for _ in range(3):
        op, payload = raw.recv_until({OP_PING}, timeout=5)
        raw.send_frame(OP_PONG, payload)
    elapsed = time.monotonic() - t0
    # three pings at a 200 ms cadence
    assert 0.4 <= elapsed < 2.0, elapsed
    raw.close()


def test_a_client_that_answers_pings_stays_connected(server):
    async def go():
        ws = await server.connect("s", "alive")
        # several ping intervals (200 ms) go by; the library answers pings
        # on its own
        before = time.monotonic()
        while time.monotonic() - before < 1.5:
            await ws.send(json.dumps({"type": "ping", "ts": 1}))
            assert await recv_json(ws) == {"type": "pong", "ts": 1}
            await asyncio.sleep(0.1)  # pacing the load, not synchronising
        assert (await server.astats())["active_connections"] == 1
        await ws.close()
    asyncio.run(go())


def test_a_silent_client_is_evicted_after_the_ping_timeout(start_server):
    server = start_server(*QUICK_EVICTION)
    raw = RawWS(server.port, "/ws?store=s&user=silent")
    assert raw.status == 101
    server.wait_active(1)
    t0 = time.monotonic()
    # it never answers: the server closes after interval + timeout (600 ms)
    op, payload = raw.recv_until({OP_CLOSE}, timeout=5)
    assert int.from_bytes(payload[:2], "big") == 1001
    assert b"ping timeout" in payload
    server.wait_active(0, timeout=3)
    assert time.monotonic() - t0 < 3
    raw.close()


def test_an_evicted_client_is_announced_as_left(start_server):
    server = start_server(*QUICK_EVICTION)

    async def go():
        watcher = await server.connect("s", "watcher")
        raw = RawWS(server.port, "/ws?store=s&user=silent")
        assert await recv_json(watcher) == {"type": "user_joined", "store": "s", "user": "silent"}
        assert await recv_json(watcher) == {"type": "user_left", "store": "s", "user": "silent"}
        raw.close()
        await watcher.close()
    asyncio.run(go())


def test_pongs_update_last_active_at(server):
    raw = RawWS(server.port, "/ws?store=s&user=ponger")
    first = server.http("GET", "/api/v1/users/ponger")[2]["last_active_at"]
    # answer pings until the recorded activity moves
    def moved():
        op, payload = raw.recv_until({OP_PING}, timeout=5)
        raw.send_frame(OP_PONG, payload)
        return server.http("GET", "/api/v1/users/ponger")[2]["last_active_at"] > first
    deadline = time.monotonic() + 5
    while not moved():
        assert time.monotonic() < deadline
    raw.close()
