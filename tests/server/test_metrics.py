"""GET /metrics over a real socket, read by prometheus_client's parser:
connections per store (and the bound on stores named), messages, bytes and
broadcast copies counted as they are received and written, closes by
reason, and the admin rule."""

import asyncio
import http.client
import json
import re
import socket
import time

import pytest

from llserver import ROOT, RawWS, non_loopback_address, recv_until

ECHO = json.dumps({"type": "echo", "data": "hello"})
BROADCAST = json.dumps({"type": "broadcast", "data": {"n": 1}})


def project_version():
    """project(version:) in meson.build: the version the server reports."""
    text = (ROOT / "meson.build").read_text()
    return re.search(r"project\([^)]*?version:\s*'([^']+)'", text, re.S).group(1)


def size(message):
    return len(message.encode()) if isinstance(message, str) else len(message)


async def connect_store(server, store, users):
    """Connects users to store in order; each reads the user_joined notices
    of those after it, so that every notice is written before the test
    counts."""
    conns = [await server.connect(store, u) for u in users]
    for i, ws in enumerate(conns):
        for later in users[i + 1:]:
            await recv_until(ws, lambda m, u=later: m.get("type") == "user_joined"
                             and m.get("user") == u)
    return conns


def test_metrics_count_connections_messages_bytes_and_deliveries(start_server):
    server = start_server("--max-message-bytes", "65536", fast=False)  # no pings: no ping timeouts

    async def go():
        a1, a2, a3 = await connect_store(server, "north", ["a1", "a2", "a3"])
        b1, b2 = await connect_store(server, "south", ["b1", "b2"])
        (c1,) = await connect_store(server, "east", ["c1"])
        m0 = await asyncio.to_thread(server.metrics)
        assert m0.value("lifeline_server_connections_open") == 6
        assert m0.value("lifeline_server_connections_accepted_total") == 6
        assert m0.value("lifeline_server_stores") == 3
        assert m0.samples("lifeline_server_store_connections") == {
            frozenset({("store", "north")}): 3, frozenset({("store", "south")}): 2,
            frozenset({("store", "east")}): 1}
        assert m0.value("lifeline_server_store_connections_other") == 0
        assert m0.samples("lifeline_server_build_info") == {
            frozenset({("version", project_version())}): 1}
        assert m0.value("lifeline_server_fault_mode", mode="none") == 1

        received = sent = 0
        await a1.send(ECHO)  # an echo back to a1
        echo = await a1.recv()
        assert json.loads(echo) == {"type": "echo", "data": "hello"}
        received += size(ECHO)
        sent += size(echo)
        await a1.send(BROADCAST)  # to a2 and a3
        for ws in (a2, a3):
            copy = await ws.recv()
            assert json.loads(copy) == {"type": "broadcast", "store": "north", "from": "a1",
                                        "data": {"n": 1}}
            sent += size(copy)
        received += size(BROADCAST)
        await b1.send(bytes(1000))  # a binary echo
        assert await b1.recv() == bytes(1000)
        received += 1000
        sent += 1000
        status, _, body = await server.ahttp("POST", "/api/v1/stores/south/broadcast", {"x": 1})
        assert status == 200 and body == {"delivered": 2}
        for ws in (b1, b2):
            note = await ws.recv()
            assert json.loads(note)["from"] == "server"
            sent += size(note)

        m1 = await asyncio.to_thread(server.metrics)

        def delta(name):
            return m1.value(name) - m0.value(name)
        assert delta("lifeline_server_messages_received_total") == 3
        assert delta("lifeline_server_received_bytes_total") == received
        assert delta("lifeline_server_messages_sent_total") == 6
        assert delta("lifeline_server_sent_bytes_total") == sent
        assert delta("lifeline_server_deliveries_total") == 4  # 2 copies of each broadcast

        # a client's close is counted by reason, and its store is gone
        await c1.close()
        await server.await_active(5)
        m2 = await asyncio.to_thread(server.metrics)
        assert m2.value("lifeline_server_connections_closed_total", reason="client_close") == 1
        assert m2.value("lifeline_server_stores") == 2
        assert frozenset({("store", "east")}) not in m2.samples(
            "lifeline_server_store_connections")

        # a slow reader: it never reads while big broadcasts come to its store
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", server.port))
        raw = RawWS.__new__(RawWS)
        raw.sock, raw.buf = slow, b""
        assert raw.handshake("/ws?store=north&user=sloth") == 101
        payload = "p" * 60000
        for _ in range(300):  # until the server gives up on it
            await a1.send(json.dumps({"type": "broadcast", "data": payload}))
            await recv_until(a2, lambda m: m.get("type") == "broadcast")
            await recv_until(a3, lambda m: m.get("type") == "broadcast")
            if " slow_reader " in server.log():
                break
        # counted when it ends: it cannot even take the close frame, so 1 s later
        await server.await_active(5, timeout=10)
        m3 = await asyncio.to_thread(server.metrics)
        assert m3.value("lifeline_server_connections_closed_total", reason="slow_reader") == 1
        slow.close()
        for ws in (a1, a2, a3, b1, b2):
            await ws.close()
        await server.await_active(0)
        m4 = await asyncio.to_thread(server.metrics)
        assert m4.value("lifeline_server_connections_open") == 0
        assert m4.value("lifeline_server_connections_accepted_total") == 7
        assert m4.value("lifeline_server_connections_closed_total", reason="client_close") == 6
        assert m4.value("lifeline_server_connections_closed_total", reason="slow_reader") == 1
        assert m4.value("lifeline_server_stores") == 0

    asyncio.run(go())


def test_past_the_bound_the_smaller_stores_are_summed(start_server):
    server = start_server("--metrics-max-stores", "3")
    sizes = {"s5": 5, "s4": 4, "s3": 3, "s2": 2, "s1": 1}

    async def go():
        conns = []
        for store, n in sizes.items():
            conns += [await server.connect(store, f"{store}-u{i}") for i in range(n)]
        await server.await_active(15)
        m = await asyncio.to_thread(server.metrics)
        assert m.samples("lifeline_server_store_connections") == {
            frozenset({("store", "s5")}): 5, frozenset({("store", "s4")}): 4,
            frozenset({("store", "s3")}): 3}
        assert m.value("lifeline_server_store_connections_other") == 3  # s2 and s1
        assert m.value("lifeline_server_stores") == 5
        for ws in conns:
            await ws.close()

    asyncio.run(go())


def test_a_store_name_is_escaped_as_a_label_value(start_server):
    server = start_server()
    name = 'say "hi" \\ there'

    async def go():
        ws = await server.connect(name, "u")
        await server.await_active(1)
        status, _, text = await asyncio.to_thread(server.http_text, "GET", "/metrics")
        assert status == 200
        assert 'lifeline_server_store_connections{store="say \\"hi\\" \\\\ there"} 1\n' in text
        m = await asyncio.to_thread(server.metrics)
        assert m.value("lifeline_server_store_connections", store=name) == 1
        await ws.close()

    asyncio.run(go())


def test_with_a_token_metrics_need_it(start_server):
    server = start_server("--admin-token", "scrape-me")
    status, headers, _ = server.http_text("GET", "/metrics")
    assert status == 401 and headers["www-authenticate"] == 'Bearer realm="lifeline-admin"'
    assert headers["content-type"] == "application/json"
    status, _, _ = server.http_text("GET", "/metrics", {"Authorization": "Bearer wrong"})
    assert status == 403
    m = server.metrics({"Authorization": "Bearer scrape-me"})
    assert m.value("lifeline_server_connections_open") == 0


def test_without_a_token_metrics_answer_loopback_only(start_server):
    addr = non_loopback_address()
    if addr is None:
        pytest.skip("this host has no non-loopback address")
    server = start_server("--host", "0.0.0.0")
    assert server.metrics().value("lifeline_server_connections_open") == 0
    conn = http.client.HTTPConnection(addr, server.port, timeout=5)
    try:
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        assert resp.status == 403
        assert json.loads(resp.read())["error"]
    finally:
        conn.close()


def test_the_start_time_is_when_the_server_started(start_server):
    before = time.time()
    server = start_server()
    start = server.metrics().value("lifeline_server_start_time_seconds")
    assert before - 0.01 <= start <= time.time()  # to the millisecond, rounded down
