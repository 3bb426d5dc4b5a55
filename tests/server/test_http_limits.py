"""Limits on HTTP requests: one deadline for a whole request, and the
statuses docs/server.md gives for over-long credentials."""

import select
import socket
import time

from llserver import RawWS

DEADLINE_S = 10  # SRV_REQUEST_DEADLINE_MS in src/server/http.c


def read_answer(sock, until):
    """Reads what the server sends until it closes or `until` (monotonic)
    passes; returns (bytes, closed)."""
    buf = b""
    while time.monotonic() < until:
        ready, _, _ = select.select([sock], [], [], until - time.monotonic())
        if not ready:
            break
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return buf, True
        if not chunk:
            return buf, True
        buf += chunk
    return buf, False


def test_a_body_trickled_a_byte_at_a_time_meets_the_request_deadline(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    start = time.monotonic()
    s.sendall(b"POST /api/v1/admin/fault HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
    got, closed = b"", False
    # one byte every 0.5 s: libwebsockets' own timeout (10 s of silence)
    # never fires; the server must end it DEADLINE_S after the connection
    while not closed and time.monotonic() - start < DEADLINE_S + 4:
        try:
            s.sendall(b"{")
        except OSError:
            break
        more, closed = read_answer(s, time.monotonic() + 0.5)
        got += more
    more, closed2 = read_answer(s, time.monotonic() + 2)
    got += more
    elapsed = time.monotonic() - start
    s.close()
    assert got.startswith(b"HTTP/1.1 408 "), got[:80]
    assert b"Connection: close" in got
    assert DEADLINE_S - 1 <= elapsed <= DEADLINE_S + 3, elapsed
    assert server.http("GET", "/api/v1/websockets/health")[0] == 200


def test_a_negative_content_length_on_a_get_closes_the_connection(server):
    # libwebsockets reads "-1" as a body of 2^64 - 1 bytes: kept open, the
    # connection would swallow every later request, and a body trickled
    # into it would never meet the request deadline (it is set for bodies
    # the server reads). Answered with "Connection: close" and closed.
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.sendall(b"GET /api/v1/websockets/health HTTP/1.1\r\nHost: x\r\n"
              b"Content-Length: -1\r\n\r\n")
    got, closed = read_answer(s, time.monotonic() + 5)
    s.close()
    assert got.startswith(b"HTTP/1.1 200 "), got[:80]
    assert b"Connection: close" in got
    assert closed


def test_a_content_length_longer_than_libwebsockets_reads_is_400(server):
    # 31 bytes: libwebsockets would ignore it and read a POST's default body
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.sendall(b"POST /api/v1/admin/fault HTTP/1.1\r\nHost: x\r\nContent-Length: "
              + b"0" * 29 + b"16\r\n\r\n" + b'{"mode": "none"}')
    got, closed = read_answer(s, time.monotonic() + 5)
    s.close()
    assert got.startswith(b"HTTP/1.1 400 "), got[:80]
    assert b"Connection: close" in got
    assert closed
    assert server.http("GET", "/api/v1/websockets/health")[0] == 200


def handshake_status(port, path):
    raw = RawWS(port, handshake=False)
    try:
        return raw.handshake(path)
    finally:
        raw.close()


def test_an_over_long_token_is_401_and_an_over_long_name_400(start_server):
    server = start_server("--auth-secret", "s3cret")
    for n in (2049, 2058, 2100, 3000):
        assert handshake_status(server.port, "/ws?token=" + "a" * n) == 401, n
    server = start_server()
    assert handshake_status(server.port, "/ws?store=s&user=" + "u" * 3000) == 400
    assert handshake_status(server.port, "/ws?store=s&user=u&other=" + "x" * 3000) == 101
    many = "&".join(f"p{i}=1" for i in range(7))
    assert handshake_status(server.port, f"/ws?store=s&user=u&{many}") == 400


def test_a_long_authorization_header_is_judged_whole(start_server):
    server = start_server("--admin-token", "s3cr3t")
    path, body = "/api/v1/admin/fault", {"mode": "none"}
    # docs/server.md: a wrong token is 403, another scheme 401, at any length
    status, _, got = server.http("POST", path, body, headers={"Authorization": "Bearer " + "w" * 600})
    assert status == 403 and got["error"]
    status, _, _ = server.http("POST", path, body, headers={"Authorization": "Basic " + "w" * 600})
    assert status == 401
    long_token = "k" * 1500
    server = start_server("--admin-token", long_token)
    status, _, got = server.http("POST", path, body,
                                 headers={"Authorization": "Bearer " + long_token})
    assert status == 200 and got["mode"] == "none"
