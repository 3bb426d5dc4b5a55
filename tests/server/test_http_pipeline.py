"""HTTP/1.1 pipelining: several requests in one TCP segment. libwebsockets
4.1 spins for ever on a pipelined request with a body (see pipelined() in
src/server/http.c); the server answers the requests before it, refuses that
one with 503 and closes, and keeps serving everyone else."""

import http.client
import json
import socket

HEALTH = b"GET /api/v1/websockets/health HTTP/1.1\r\nHost: x\r\n\r\n"
FAULT = b'{"mode":"none"}'


def post(path, body):
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
            .encode() + body)


def exchange(port, data, timeout=5.0):
    """Sends data in one write, reads until the server closes; returns the
    responses as (status, headers, body) in order."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    buf = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except socket.timeout:
        pass  # a keep-alive connection the server left open
    finally:
        s.close()
    out = []
    while buf:
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in lines[1:])}
        n = int(headers["content-length"])
        out.append((int(lines[0].split()[1]), headers, json.loads(rest[:n])))
        buf = rest[n:]
    return out


def health_within(server, seconds):
    status, _, body = server.http("GET", "/api/v1/websockets/health", timeout=seconds)
    return status == 200 and body["online"] is True


def test_a_pipelined_request_with_a_body_is_refused_and_others_are_served(server):
    got = exchange(server.port, HEALTH + post("/api/v1/admin/fault", b"{}"))
    assert [g[0] for g in got] == [200, 503]
    assert got[0][2]["online"] is True
    assert got[1][1]["connection"] == "close" and "pipelined" in got[1][2]["error"]
    assert health_within(server, 3)


def test_pipelined_requests_after_a_post_and_after_a_refused_upgrade(server):
    got = exchange(server.port, post("/api/v1/admin/fault", FAULT) +
                   post("/api/v1/admin/fault", FAULT))
    assert [g[0] for g in got] == [200, 503]
    assert got[0][2]["mode"] == "none"
    upgrade = (b"GET /nope HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    got = exchange(server.port, upgrade + post("/api/v1/stores/s/broadcast", b"{}"))
    assert got[0][0] == 404
    assert [g[0] for g in got[1:]] in ([], [503])  # the refusal may close the connection
    # a GET with a body, pipelined
    got = exchange(server.port, HEALTH + b"GET /api/v1/websockets/stats HTTP/1.1\r\nHost: x\r\n"
                   b"Content-Length: 2\r\n\r\nxx")
    assert [g[0] for g in got] == [200, 503]
    assert health_within(server, 3)


def test_pipelined_requests_without_a_body_are_all_answered(server):
    stats = b"GET /api/v1/websockets/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    got = exchange(server.port, HEALTH * 3 + stats)
    assert [g[0] for g in got] == [200, 200, 200, 200]
    assert got[3][2]["online"] is True


def test_posts_one_after_another_on_a_keep_alive_connection_are_served(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    for i in range(5):
        conn.request("POST", "/api/v1/admin/fault", body=FAULT,
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 200, i
        assert json.loads(resp.read())["mode"] == "none"
        conn.request("GET", "/api/v1/websockets/health")
        resp = conn.getresponse()
        assert resp.status == 200
        resp.read()
    conn.close()


def test_an_answer_before_the_body_is_read_closes_the_connection(start_server):
    server = start_server("--admin-token", "t")
    # 401 before the body: the connection is closed, not kept to discard it
    got = exchange(server.port, post("/api/v1/admin/fault", FAULT) + HEALTH)
    assert [g[0] for g in got] == [401]
    assert got[0][1]["connection"] == "close"
    assert health_within(server, 3)
    # a POST without a Content-Length: 411, closed
    server = start_server()
    got = exchange(server.port, b"POST /api/v1/admin/fault HTTP/1.1\r\nHost: x\r\n\r\n" + FAULT)
    assert [g[0] for g in got] == [411]
    assert got[0][1]["connection"] == "close"
    assert health_within(server, 3)
