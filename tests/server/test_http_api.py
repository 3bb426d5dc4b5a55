"""The HTTP API: health, stats, users, admin broadcast, the admin rule, and
status codes for unknown paths, wrong methods and bad bodies."""

import asyncio
import datetime
import json

import pytest

from llserver import non_loopback_address, recv_json, recv_until, wait_until


def iso(ts):
    assert ts.endswith("Z")
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ")


def test_health_says_online_with_a_count_and_a_timestamp(server):
    status, headers, body = server.http("GET", "/api/v1/websockets/health")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert body["online"] is True
    assert body["draining"] is False  # True during SIGTERM's drain (test_drain.py)
    assert body["active_connections"] == 0
    now = datetime.datetime.utcnow()
    assert abs((iso(body["timestamp"]) - now).total_seconds()) < 60


def test_stats_count_connections_per_store_and_their_average_length(server):
    async def go():
        s = await server.astats()
        for key in ("online", "total_connections", "active_connections", "stores",
                    "average_connection_ms", "messages_in", "messages_out", "uptime_ms"):
            assert key in s
        assert s["total_connections"] == 0 and s["stores"] == {}
        a = await server.connect("A", "a1")
        b = await server.connect("A", "a2")
        c = await server.connect("B", "b1")
        s = await server.astats()
        assert s["active_connections"] == 3
        assert s["stores"] == {"A": 2, "B": 1}
        await c.close()
        await server.await_active(2)
        s = await server.astats()
        assert s["stores"] == {"A": 2}
        assert s["total_connections"] == 3
        assert s["average_connection_ms"] >= 0
        assert s["uptime_ms"] > 0
        await a.close()
        await b.close()
        await server.await_active(0)
        assert (await server.astats())["stores"] == {}
    asyncio.run(go())


def test_users_are_found_with_their_store_and_last_activity(server):
    async def go():
        ws = await server.connect("shop-7", "till-3")
        await ws.send(json.dumps({"type": "echo", "data": 1}))
        await recv_json(ws)
        status, headers, body = await server.ahttp("GET", "/api/v1/users/till-3")
        assert status == 200
        assert headers["content-type"] == "application/json"
        assert body["user"] == "till-3" and body["store"] == "shop-7"
        assert abs((iso(body["last_active_at"]) - datetime.datetime.utcnow()).total_seconds()) < 60
        await ws.close()
    asyncio.run(go())


def test_names_with_a_slash_or_a_plus_are_looked_up_and_broadcast_to(server):
    async def go():
        ws = await server.connect("north/east", "a/b")  # sent as a%2Fb
        plus = await server.connect("north/east", "c+d")
        await recv_until(ws, lambda m: m.get("type") == "user_joined")
        for path, user in (("/api/v1/users/a%2Fb", "a/b"), ("/api/v1/users/a/b", "a/b"),
                           ("/api/v1/users/c%2Bd", "c+d")):
            status, _, body = await server.ahttp("GET", path)
            assert status == 200, path
            assert body["user"] == user and body["store"] == "north/east"
        status, _, body = await server.ahttp("POST", "/api/v1/stores/north%2Feast/broadcast",
                                             {"n": 1})
        assert status == 200 and body == {"delivered": 2}
        got = await recv_until(ws, lambda m: m.get("type") == "broadcast")
        assert got["store"] == "north/east" and got["data"] == {"n": 1}
        # a raw '+' in a path is a space to libwebsockets, as in a query
        assert (await server.ahttp("GET", "/api/v1/users/c+d"))[0] == 404
        await ws.close()
        await plus.close()
    asyncio.run(go())


def test_an_unknown_user_is_404(server):
    status, headers, body = server.http("GET", "/api/v1/users/nobody")
    assert status == 404
    assert headers["content-type"] == "application/json"
    assert "error" in body


def test_admin_broadcast_reaches_every_member_of_the_store(server):
    async def go():
        a1 = await server.connect("A", "a1")
        a2 = await server.connect("A", "a2")
        await recv_until(a1, lambda m: m.get("type") == "user_joined")
        b1 = await server.connect("B", "b1")
        status, _, body = await server.ahttp("POST", "/api/v1/stores/A/broadcast",
                                      {"notice": "closing at 9", "n": [1, 2]})
        assert status == 200 and body == {"delivered": 2}
        want = {"type": "broadcast", "store": "A", "from": "server",
                "data": {"notice": "closing at 9", "n": [1, 2]}}
        assert await recv_json(a1) == want
        assert await recv_json(a2) == want
        await b1.send(json.dumps({"type": "echo", "data": "b"}))
        assert await recv_json(b1) == {"type": "echo", "data": "b"}
        status, _, body = await server.ahttp("POST", "/api/v1/stores/empty/broadcast", "x")
        assert status == 200 and body == {"delivered": 0}
        for ws in (a1, a2, b1):
            await ws.close()
    asyncio.run(go())


def test_unknown_paths_are_404_and_wrong_methods_405(server):
    for path in ("/status/nope.js", "/api/v1/nothing", "/api/v1/users/", "/api/v1/users/a/b"):
        status, headers, body = server.http("GET", path)
        assert status == 404, path
        assert headers["content-type"] == "application/json" and "error" in body
    status, headers, body = server.http("POST", "/api/v1/websockets/health", {})
    assert status == 405 and headers["allow"] == "GET" and "error" in body
    status, headers, _ = server.http("GET", "/api/v1/stores/A/broadcast")
    assert status == 405 and headers["allow"] == "POST"
    status, headers, _ = server.http("DELETE", "/api/v1/admin/fault")
    assert status == 405 and headers["allow"] == "GET, POST"


def test_malformed_json_bodies_are_400_with_an_error(server):
    for path in ("/api/v1/stores/A/broadcast", "/api/v1/admin/fault"):
        status, headers, body = server.http("POST", path, raw_body=b"{oops")
        assert status == 400, path
        assert headers["content-type"] == "application/json" and body["error"]
    status, _, body = server.http("POST", "/api/v1/admin/fault", {"mode": "meltdown"})
    assert status == 400 and "meltdown" in body["error"]
    status, _, body = server.http("POST", "/api/v1/admin/fault", raw_body=b"")
    assert status == 400


def test_text_after_the_json_body_is_malformed_and_400(server):
    for path, body in (("/api/v1/stores/A/broadcast", b'{"a":1}garbage'),
                       ("/api/v1/admin/fault", b'{"mode":"none"}garbage'),
                       ("/api/v1/admin/fault", b'{"mode":"none"} {}'),
                       ("/api/v1/admin/fault", b'{"mode":"none"}\0')):
        status, _, got = server.http("POST", path, raw_body=body)
        assert status == 400, (path, body)
        assert got["error"]
    # whitespace after the value is fine
    status, _, got = server.http("POST", "/api/v1/admin/fault", raw_body=b'{"mode":"none"}\r\n')
    assert status == 200 and got["mode"] == "none"


def test_bodies_over_the_limit_are_413(start_server):
    server = start_server("--max-message-bytes", "1024")
    status, _, body = server.http("POST", "/api/v1/stores/A/broadcast",
                                  {"big": "x" * 2000})
    assert status == 413 and body["error"]
    # and the server still answers
    assert server.http("GET", "/api/v1/websockets/health")[0] == 200


def test_a_plain_get_of_the_websocket_endpoint_is_426(server):
    status, headers, _ = server.http("GET", "/ws?store=a&user=b")
    assert status == 426 and headers["upgrade"] == "websocket"


def test_admin_routes_need_the_bearer_token_when_one_is_set(start_server):
    server = start_server("--admin-token", "s3cr3t")
    path, body = "/api/v1/admin/fault", {"mode": "none"}
    status, headers, got = server.http("POST", path, body)
    assert status == 401 and got["error"]
    assert headers["www-authenticate"] == 'Bearer realm="lifeline-admin"'
    status, headers, _ = server.http("GET", path)  # a GET, answered on a kept connection
    assert status == 401 and headers["www-authenticate"] == 'Bearer realm="lifeline-admin"'
    status, headers, _ = server.http("POST", path, body,
                                     headers={"Authorization": "Bearer wrong"})
    assert status == 403 and "www-authenticate" not in headers
    status, headers, _ = server.http("POST", path, body,
                                     headers={"Authorization": "Basic czNjcjN0"})
    assert status == 401 and headers["www-authenticate"] == 'Bearer realm="lifeline-admin"'
    status, _, got = server.http("POST", path, body, headers={"Authorization": "Bearer s3cr3t"})
    assert status == 200 and got["mode"] == "none"
    status, _, _ = server.http("POST", "/api/v1/stores/A/broadcast", {},
                               headers={"Authorization": "Bearer s3cr3t"})
    assert status == 200
    # the public routes need nothing
    assert server.http("GET", "/api/v1/websockets/stats")[0] == 200


def test_without_a_token_admin_routes_answer_loopback_only(start_server):
    addr = non_loopback_address()
    if addr is None:
        pytest.skip("this host has no non-loopback address")
    server = start_server("--host", "0.0.0.0")
    assert server.http("POST", "/api/v1/admin/fault", {"mode": "none"})[0] == 200
    import http.client
    conn = http.client.HTTPConnection(addr, server.port, timeout=5)
    conn.request("POST", "/api/v1/admin/fault", body=b'{"mode":"none"}',
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 403
    assert json.loads(resp.read())["error"]
    conn.request("GET", "/api/v1/websockets/health")
    resp = conn.getresponse()
    assert resp.status == 200
    resp.read()
    conn.close()


def test_keep_alive_connections_serve_many_requests(server):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    for _ in range(20):
        conn.request("GET", "/api/v1/websockets/health")
        resp = conn.getresponse()
        assert resp.status == 200
        assert json.loads(resp.read())["online"] is True
    conn.close()
