"""Every fault mode of POST /api/v1/admin/fault, and that the HTTP API keeps
answering through all of them."""

import asyncio
import base64
import json
import os
import socket
import time

import pytest
import websockets

from llserver import OP_CLOSE, OP_PING, OP_PONG, RawWS, closed_code, recv_json, wait_until


def handshake_status(server, path="/ws?store=s&user=new"):
    raw = RawWS(server.port, handshake=False)
    try:
        return raw.handshake(path), raw.headers.decode()
    finally:
        raw.close()


def nothing_arrives(raw, seconds):
    """True when no byte arrives for that long (a deadline, not a sync)."""
    raw.sock.settimeout(seconds)
    try:
        data = raw.sock.recv(1)
    except socket.timeout:
        return True
    return False if data else "eof"


def test_the_mode_in_force_can_be_read(server):
    assert server.http("GET", "/api/v1/admin/fault")[2] == {"mode": "none", "remaining_ms": None}
    server.fault("refuse", duration_ms=60000)
    body = server.http("GET", "/api/v1/admin/fault")[2]
    assert body["mode"] == "refuse" and 0 < body["remaining_ms"] <= 60000
    assert server.stats()["fault"] == "refuse"


def test_refuse_answers_new_upgrades_503_with_retry_after(server):
    async def go():
        ws = await server.connect("s", "old")
        await server.afault("refuse", retry_after_s=7)
        status, head = handshake_status(server)
        assert status == 503
        assert "retry-after: 7" in head.lower()
        with pytest.raises(websockets.exceptions.InvalidStatusCode) as e:
            await server.connect("s", "new")
        assert e.value.status_code == 503
        # the open connection and the API are unaffected
        await ws.send(json.dumps({"type": "echo", "data": 1}))
        assert await recv_json(ws) == {"type": "echo", "data": 1}
        assert (await server.ahttp("GET", "/api/v1/websockets/health"))[0] == 200
        await server.afault("none")
        ws2 = await server.connect("s", "new")
        await ws2.close()
        await ws.close()
    asyncio.run(go())


def test_refuse_derives_retry_after_from_the_duration_and_ends_by_itself(server):
    server.fault("refuse", duration_ms=1500)
    status, head = handshake_status(server)
    assert status == 503 and "retry-after: 2" in head.lower()
    wait_until(lambda: handshake_status(server)[0] == 101, timeout=5, what="refuse to expire")
    assert server.http("GET", "/api/v1/admin/fault")[2]["mode"] == "none"


def test_reject_401_answers_new_upgrades_401(server):
    server.fault("reject_401")
    status, head = handshake_status(server)
    assert status == 401
    assert 'www-authenticate: bearer realm="lifeline", error="invalid_token"' in head.lower()
    server.fault("none")
    assert handshake_status(server)[0] == 101


def test_accept_then_close_upgrades_then_closes_at_once(server):
    async def go():
        await server.afault("accept_then_close")
        ws = await server.connect("s", "doomed")  # the upgrade succeeds
        assert await closed_code(ws) == 1001
        await server.await_active(0)
        await server.afault("none")
        ws = await server.connect("s", "fine")
        await ws.send("hi")
        assert await asyncio.wait_for(ws.recv(), 5) == "hi"
        await ws.close()
    asyncio.run(go())


def test_close_all_closes_every_connection_with_1001_then_serves(server):
    async def go():
        conns = [await server.connect(f"s{i % 2}", f"u{i}") for i in range(4)]
        body = await server.afault("close_all")
        assert body["closed"] == 4 and body["mode"] == "none"
        for ws in conns:
            assert await closed_code(ws) == 1001
        await server.await_active(0)
        ws = await server.connect("s", "again")
        await ws.send("hi")
        assert await asyncio.wait_for(ws.recv(), 5) == "hi"
        await ws.close()
    asyncio.run(go())


def test_blackhole_stops_reads_writes_and_pongs_until_it_ends(server):
    raw = RawWS(server.port, "/ws?store=s&user=held")
    assert raw.status == 101
    # answer the server's pings until blackhole starts
    server.fault("blackhole")
    raw.send_frame(1, json.dumps({"type": "echo", "data": "late"}))
    raw.send_frame(OP_PING, b"are you there")
    # no echo, no pong, and no server pings either, for well over a ping
    # interval (200 ms)
    raw.sock.settimeout(1.0)
    frames = []
    try:
        while True:
            frames.append(raw.recv_frame(timeout=1.0))
    except socket.timeout:
        pass
    assert all(op != OP_PONG and op != 1 for op, _ in frames), frames
    # and it is not evicted, while the API keeps answering
    assert server.stats()["active_connections"] == 1
    server.fault("none")
    # the held bytes are read now: the echo and the pong arrive
    op, payload = raw.recv_until({1}, timeout=5)
    assert json.loads(payload) == {"type": "echo", "data": "late"}
    raw.close()


def test_blackhole_pongs_nothing_to_client_pings(server):
    raw = RawWS(server.port, "/ws?store=s&user=pinger")
    raw.send_frame(OP_PING, b"before")
    assert raw.recv_until({OP_PONG})[1] == b"before"
    server.fault("blackhole")
    raw.send_frame(OP_PING, b"during")
    got = []
    deadline = time.monotonic() + 0.8
    while time.monotonic() < deadline:
        try:
            got.append(raw.recv_frame(timeout=deadline - time.monotonic()))
        except socket.timeout:
            break
    assert (OP_PONG, b"during") not in got
    server.fault("none")
    assert raw.recv_until({OP_PONG})[1] == b"during"
    raw.close()


def test_blackhole_leaves_new_handshakes_unanswered_but_serves_the_api(server):
    server.fault("blackhole")
    raw = RawWS(server.port, handshake=False)
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sock.sendall((f"GET /ws?store=s&user=late HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
    assert nothing_arrives(raw, 0.8) is True  # accepted, never answered
    status, _, body = server.http("GET", "/api/v1/websockets/health")
    assert status == 200 and body["online"] is True
    assert server.http("POST", "/api/v1/stores/s/broadcast", {"x": 1})[0] == 200
    server.fault("none")
    raw.wait_eof()  # its client gave up long ago: the held handshake is dropped
    raw.close()
    assert handshake_status(server)[0] == 101


def test_blackhole_notices_peers_that_hang_up(server):
    raw = RawWS(server.port, "/ws?store=s&user=leaver")
    server.wait_active(1)
    server.fault("blackhole")
    raw.close()  # no close frame: just gone
    server.wait_active(0)
    server.fault("none")


def test_blackhole_with_a_duration_ends_by_itself(server):
    async def go():
        ws = await server.connect("s", "patient")
        await server.afault("blackhole", duration_ms=500)
        t0 = time.monotonic()
        await ws.send(json.dumps({"type": "echo", "data": "held"}))
        assert await recv_json(ws, timeout=5) == {"type": "echo", "data": "held"}
        assert time.monotonic() - t0 >= 0.4
        assert (await server.ahttp("GET", "/api/v1/admin/fault"))[2]["mode"] == "none"
        await ws.close()
    asyncio.run(go())


def slow_heartbeat(start_server):
    # a delay near the test's ping timeout would get the clients evicted
    return start_server("--ping-interval-ms", "5000", "--ping-timeout-ms", "5000", fast=False)


def test_delay_pongs_holds_app_replies_back(start_server):
    server = slow_heartbeat(start_server)

    async def go():
        ws = await server.connect("s", "slow")
        await server.afault("delay_pongs", delay_ms=300)
        for _ in range(3):
            t0 = time.monotonic()
            await ws.send(json.dumps({"type": "ping", "ts": 1}))
            assert await recv_json(ws) == {"type": "pong", "ts": 1}
            assert 0.29 <= time.monotonic() - t0 < 2.0
            t0 = time.monotonic()
            await ws.send(json.dumps({"type": "echo", "data": 2}))
            assert await recv_json(ws) == {"type": "echo", "data": 2}
            assert time.monotonic() - t0 >= 0.29
        await server.afault("none")
        t0 = time.monotonic()
        await ws.send(json.dumps({"type": "ping", "ts": 3}))
        assert await recv_json(ws) == {"type": "pong", "ts": 3}
        assert time.monotonic() - t0 < 0.25
        await ws.close()
    asyncio.run(go())


def test_delay_pongs_holds_websocket_pongs_back(start_server):
    server = slow_heartbeat(start_server)

    async def go():
        ws = await server.connect("s", "slow")
        await server.afault("delay_pongs", delay_ms=300)
        for _ in range(3):
            t0 = time.monotonic()
            waiter = await ws.ping(b"x")
            await asyncio.wait_for(waiter, 5)
            assert 0.29 <= time.monotonic() - t0 < 2.0
        await server.afault("none")
        t0 = time.monotonic()
        await asyncio.wait_for(await ws.ping(b"y"), 5)
        assert time.monotonic() - t0 < 0.25
        await ws.close()
    asyncio.run(go())


def test_the_api_answers_in_every_mode(server):
    modes = [("blackhole", {}), ("refuse", {}), ("reject_401", {}), ("accept_then_close", {}),
             ("delay_pongs", {"delay_ms": 200}), ("close_all", {}), ("none", {})]
    for mode, extra in modes:
        server.fault(mode, **extra)
        assert server.http("GET", "/api/v1/websockets/health")[0] == 200, mode
        assert server.http("GET", "/api/v1/websockets/stats")[0] == 200, mode
