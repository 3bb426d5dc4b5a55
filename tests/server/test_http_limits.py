"""Limits on HTTP requests: one deadline for a whole request, and the
statuses docs/server.md gives for over-long credentials."""

import select
import socket
import time

DEADLINE_S = 10  # LL_REQUEST_DEADLINE_MS in src/server/http.c


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
