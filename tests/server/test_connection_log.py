"""The log's lines per WebSocket connection: connection_opened (id, user,
store, peer) and connection_closed (the same, and code, reason, detail,
duration_ms), at info, in JSON and text, for every way a connection ends;
upgrade_refused at info and http_request at debug."""

import asyncio
import re
import signal
import struct

import pytest

from llserver import (OP_CLOSE, OP_TEXT, QUICK_EVICTION, RawWS, closed_code, wait_until)


def lines(server, event):
    return [e for e in server.log_events() if e["event"] == event]


def closed_line(server, user, timeout=5.0):
    """The connection_closed line of user's connection, once it is written."""
    return wait_until(lambda: [e for e in lines(server, "connection_closed")
                               if e.get("user") == user], timeout=timeout,
                      what=f"{user}'s connection_closed")[0]


def opened_line(server, user):
    return next(e for e in lines(server, "connection_opened") if e.get("user") == user)


def peer_of(sock):
    host, port = sock.getsockname()[:2]
    return f"{host}:{port}"


def test_a_client_close_is_logged_with_who_where_and_its_code(start_server):
    server = start_server("--json")

    async def go():
        ws = await server.connect("shop 7", "till-3")
        peer = "%s:%d" % ws.local_address[:2]
        await ws.close(4000, "done for today")
        return peer
    peer = asyncio.run(go())
    closed = closed_line(server, "till-3")
    opened = opened_line(server, "till-3")
    assert opened["level"] == "info"
    who = {"id": 1, "user": "till-3", "store": "shop 7", "peer": peer}
    assert {k: opened[k] for k in who} == who
    assert set(opened) == {"ts", "level", "event"} | set(who)
    assert closed["level"] == "info"
    assert {k: closed[k] for k in who} == who
    assert closed["code"] == 4000 and closed["reason"] == "client_close"
    assert "detail" not in closed  # the client's reason text is not logged
    assert isinstance(closed["duration_ms"], int) and closed["duration_ms"] >= 0


def test_ids_count_connections_from_1(start_server):
    server = start_server("--json")

    async def go():
        for user in ("a", "b", "c"):
            ws = await server.connect("s", user)
            await ws.close()
    asyncio.run(go())
    closed_line(server, "c")
    assert [opened_line(server, u)["id"] for u in "abc"] == [1, 2, 3]
    assert [closed_line(server, u)["id"] for u in "abc"] == [1, 2, 3]


def test_the_text_form_reads_as_words(start_server):
    server = start_server()

    async def go():
        ws = await server.connect("shop-7", "till-3")
        peer = "%s:%d" % ws.local_address[:2]
        await ws.close()
        return peer
    peer = asyncio.run(go())
    wait_until(lambda: "connection_closed" in server.log(), what="connection_closed")
    log = server.log()
    assert re.search(r"Z info  connection_opened id=1 user=till-3 store=shop-7 "
                     rf"peer={re.escape(peer)}\n", log), log
    assert re.search(r"Z info  connection_closed id=1 user=till-3 store=shop-7 "
                     rf"peer={re.escape(peer)} code=1000 reason=client_close "
                     r"duration_ms=\d+\n", log), log


def test_a_ping_timeout_is_logged(start_server):
    server = start_server("--json", *QUICK_EVICTION)
    raw = RawWS(server.port, "/ws?store=s&user=silent")
    raw.recv_until({OP_CLOSE}, timeout=5)  # never answered a ping
    raw.close()
    closed = closed_line(server, "silent")
    assert (closed["code"], closed["reason"], closed["detail"]) == \
        (1001, "ping_timeout", "ping timeout")
    assert closed["duration_ms"] >= 400


def test_an_oversize_message_is_logged(start_server):
    server = start_server("--json", "--max-message-bytes", "1024")
    raw = RawWS(server.port, "/ws?store=s&user=big")
    raw.send_frame(OP_TEXT, "x" * 2000)
    assert raw.close_code() == 1009
    raw.close()
    closed = closed_line(server, "big")
    assert (closed["code"], closed["reason"], closed["detail"]) == \
        (1009, "oversize", "message too big")


@pytest.mark.parametrize("send, code, detail", [
    (lambda raw: raw.send_frame(OP_TEXT, "hi", mask=False), 1002, "unmasked frame"),
    (lambda raw: raw.send_frame(OP_TEXT, b"\xff\xfe"), 1007, "invalid UTF-8"),
    (lambda raw: raw.send_frame(OP_CLOSE, struct.pack("!H", 5000)), 1002, "invalid close frame"),
])
def test_a_protocol_error_is_logged(start_server, send, code, detail):
    server = start_server("--json")
    raw = RawWS(server.port, "/ws?store=s&user=broken")
    send(raw)
    assert raw.close_code() == code
    raw.close()
    closed = closed_line(server, "broken")
    assert (closed["code"], closed["reason"], closed["detail"]) == (code, "protocol_error", detail)


def test_a_hang_up_is_logged_as_1006(start_server):
    server = start_server("--json")
    raw = RawWS(server.port, "/ws?store=s&user=gone")
    server.wait_active(1)
    raw.close()  # no close frame
    closed = closed_line(server, "gone")
    assert (closed["code"], closed["reason"]) == (1006, "hangup")
    assert "detail" not in closed


@pytest.mark.parametrize("sig, code, detail", [
    (signal.SIGINT, 1001, "server shutting down"),
    (signal.SIGTERM, 1012, "service restart"),  # the drain (--drain-window-ms 0 here)
])
def test_a_shutdown_is_logged_for_every_connection(start_server, sig, code, detail):
    server = start_server("--json")

    async def go():
        conns = [await server.connect("s", f"u{i}") for i in range(2)]
        await asyncio.to_thread(server.proc.send_signal, sig)
        assert await asyncio.gather(*(closed_code(ws) for ws in conns)) == [code, code]
    asyncio.run(go())
    assert server.stop() == 0
    for user in ("u0", "u1"):
        closed = closed_line(server, user, timeout=0)
        assert (closed["code"], closed["reason"], closed["detail"]) == \
            (code, "server_shutdown", detail)


def test_fault_modes_are_logged_as_such(server):
    # the default fixture's server: its log is text
    raw = RawWS(server.port, "/ws?store=s&user=victim")
    server.wait_active(1)
    server.fault("close_all")
    assert raw.close_code() == 1001
    raw.close()
    server.fault("accept_then_close")
    late = RawWS(server.port, "/ws?store=s2&user=late")
    assert late.status == 101 and late.close_code() == 1001
    late.close()
    wait_until(lambda: "user=late" in server.log() and
               server.log().count("connection_closed") == 2, what="two closes")
    log = server.log()
    assert re.search(r"connection_closed id=1 user=victim store=s peer=\S+ code=1001 "
                     r"reason=fault_mode detail=close_all duration_ms=\d+\n", log), log
    # it never joins its store, and its lines still say who it was
    assert re.search(r"connection_opened id=2 user=late store=s2 peer=\S+\n", log), log
    assert re.search(r"connection_closed id=2 user=late store=s2 peer=\S+ code=1001 "
                     r"reason=fault_mode detail=accept_then_close duration_ms=\d+\n", log), log


def test_the_peer_is_the_clients_address_and_port(start_server):
    server = start_server("--json")
    raw = RawWS(server.port, "/ws?store=s&user=raw")
    peer = peer_of(raw.sock)
    server.wait_active(1)
    raw.close()
    assert closed_line(server, "raw")["peer"] == peer
    assert opened_line(server, "raw")["peer"] == peer


def test_connection_lines_are_info_lines(start_server):
    server = start_server("--json", "--log-level", "warn")

    async def go():
        ws = await server.connect("s", "quiet")
        await ws.close()
    asyncio.run(go())
    server.wait_active(0)
    assert server.stop() == 0
    assert not [e for e in server.log_events() if e["event"].startswith("connection_")]


def test_refused_upgrades_open_no_connection(start_server):
    server = start_server("--json")
    raw = RawWS(server.port, handshake=False)
    assert raw.handshake("/ws?store=s") == 400
    raw.close()
    ok = RawWS(server.port, "/ws?store=s&user=after")
    server.wait_active(1)
    ok.close()
    closed_line(server, "after")
    assert [e["id"] for e in lines(server, "connection_opened")] == [1]
    assert [e["id"] for e in lines(server, "connection_closed")] == [1]


def test_a_refused_upgrade_is_an_info_line_saying_why(start_server):
    server = start_server("--json", "--auth-secret", "k")
    raw = RawWS(server.port, handshake=False)
    peer = peer_of(raw.sock)
    assert raw.handshake("/ws?token=abc") == 401
    raw.close()
    line = wait_until(lambda: lines(server, "upgrade_refused"), what="upgrade_refused")[0]
    assert {k: line[k] for k in ("level", "method", "path", "status", "peer", "error")} == {
        "level": "info", "method": "GET", "path": "/ws", "status": 401, "peer": peer,
        "error": "token malformed"}
    assert "abc" not in server.log()  # never the query: it holds tokens


def test_http_requests_are_debug_lines(start_server):
    quiet = start_server("--json")
    assert quiet.http("GET", "/api/v1/websockets/health")[0] == 200
    assert quiet.stop() == 0
    assert not lines(quiet, "http_request")

    server = start_server("--json", "--log-level", "debug", "--admin-token", "t")
    assert server.http("GET", "/api/v1/websockets/health")[0] == 200
    assert server.http("POST", "/api/v1/admin/fault", {"mode": "none"})[0] == 401
    assert server.http("GET", "/api/v1/users/a%20b%3D%C3%A9")[0] == 404
    got = wait_until(lambda: len(lines(server, "http_request")) == 3 and
                     lines(server, "http_request"), what="three http_request lines")
    assert [(e["level"], e["method"], e["path"], e["status"]) for e in got] == [
        ("debug", "GET", "/api/v1/websockets/health", 200),
        ("debug", "POST", "/api/v1/admin/fault", 401),
        ("debug", "GET", "/api/v1/users/a%20b%3D%C3%A9", 404),
    ]
    assert all(re.fullmatch(r"127\.0\.0\.1:\d+", e["peer"]) for e in got)


def test_http_request_lines_in_text(start_server):
    server = start_server("--log-level", "debug")
    assert server.http("GET", "/api/v1/websockets/stats")[0] == 200
    wait_until(lambda: "http_request" in server.log(), what="http_request")
    assert re.search(r"Z debug http_request method=GET path=/api/v1/websockets/stats "
                     r"status=200 peer=127\.0\.0\.1:\d+\n", server.log()), server.log()
