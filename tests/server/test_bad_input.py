"""Bad input and rough peers: oversize messages (1009), invalid UTF-8
(1007), garbage bytes, truncated handshakes, abrupt disconnects, and a slow
reader; the server survives them all and its counts come back."""

import asyncio
import json
import os
import re
import socket

import websockets

from llserver import OP_BINARY, OP_CONT, OP_TEXT, RawWS, closed_code, recv_json, recv_until


def test_a_message_over_the_limit_is_closed_with_1009(start_server):
    server = start_server("--max-message-bytes", "1024")

    async def go():
        ws = await server.connect("s", "big")
        await ws.send("x" * 1024)  # exactly the limit is fine
        assert await asyncio.wait_for(ws.recv(), 5) == "x" * 1024
        await ws.send("x" * 1025)
        assert await closed_code(ws) == 1009
        ws = await server.connect("s", "big")
        await ws.send(b"\0" * 5000)
        assert await closed_code(ws) == 1009
        # many small fragments adding up past the limit
        ws = await server.connect("s", "big")
        await ws.send(iter(["y" * 300] * 5))
        assert await closed_code(ws) == 1009
        await server.await_active(0)
    asyncio.run(go())


def test_a_large_message_under_the_default_limit_round_trips(server):
    async def go():
        ws = await server.connect("s", "large")
        data = "z" * (1024 * 1024 - 100)
        await ws.send(data)
        assert await asyncio.wait_for(ws.recv(), 10) == data
        await ws.close()
    asyncio.run(go())


def test_invalid_utf8_text_is_closed_with_1007(server):
    raw = RawWS(server.port, "/ws?store=s&user=bad")
    raw.send_frame(OP_TEXT, b"ok \xff\xfe not utf-8")
    assert raw.close_code() == 1007
    raw.close()
    # split inside a character across fragments is still invalid if unfinished
    raw = RawWS(server.port, "/ws?store=s&user=bad")
    raw.send_frame(OP_TEXT, b"caf\xc3", fin=False)
    raw.send_frame(OP_CONT, b"")
    assert raw.close_code() == 1007
    raw.close()
    # while a character split across fragments is fine
    raw = RawWS(server.port, "/ws?store=s&user=good")
    raw.send_frame(OP_TEXT, b"caf\xc3", fin=False)
    raw.send_frame(OP_CONT, b"\xa9")
    assert raw.recv_until({OP_TEXT})[1] == "café".encode()
    raw.close()
    server.wait_active(0)


def test_garbage_bytes_are_survived(server):
    for junk in (os.urandom(4096), b"\r\n\r\n\r\n", b"GET\x00\xff / HTTP/9.9\r\n\r\n",
                 b"\x16\x03\x01\x02\x00"):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        try:
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):  # until the server hangs up
                pass
        except OSError:  # it may reset the connection first
            pass
        s.close()
    # garbage after a good handshake: a frame with a reserved opcode, and
    # an unmasked frame
    for frame in (b"\x83\x80\x00\x00\x00\x00", b"\x81\x05hello"):
        raw = RawWS(server.port, "/ws?store=s&user=junk")
        raw.sock.sendall(frame)
        raw.wait_eof()
        raw.close()
    server.wait_active(0)
    assert server.http("GET", "/api/v1/websockets/health")[0] == 200


def test_truncated_handshakes_are_survived(server):
    async def go():
        halves = []
        for cut in (5, 20, 60):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            head = b"GET /ws?store=s&user=half HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            s.sendall(head[:cut])
            halves.append(s)
        # a half-sent handshake does not block anyone else
        ws = await server.connect("s", "whole")
        await ws.send("hi")
        assert await asyncio.wait_for(ws.recv(), 5) == "hi"
        for s in halves:
            s.close()
        await ws.close()
        await server.await_active(0)
    asyncio.run(go())


def test_abrupt_disconnects_are_noticed_and_announced(server):
    async def go():
        watcher = await server.connect("s", "watcher")
        for i in range(5):
            raw = RawWS(server.port, f"/ws?store=s&user=ghost{i}")
            await recv_until(watcher, lambda m: m.get("type") == "user_joined")
            if i % 2:
                raw.send_frame(OP_BINARY, b"x" * 100, fin=False)  # half a message
                raw.sock.sendall(b"\x80\xff")  # and half a frame header
            raw.close()
            assert await recv_until(watcher, lambda m: m.get("type") == "user_left") == {
                "type": "user_left", "store": "s", "user": f"ghost{i}"}
        await server.await_active(1)
        await watcher.close()
        await server.await_active(0)
    asyncio.run(go())


def test_a_slow_reader_is_closed_and_the_rest_carry_on(start_server):
    server = start_server("--max-message-bytes", "65536")
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", server.port))
    raw = RawWS.__new__(RawWS)
    raw.sock, raw.buf = slow, b""
    assert raw.handshake("/ws?store=s&user=sloth") == 101  # and never reads again

    async def go():
        fast = await server.connect("s", "fast")
        other = await server.connect("s", "other")
        payload = "p" * 60000
        for _ in range(300):
            await fast.send(json.dumps({"type": "broadcast", "data": payload}))
            await recv_json(other)
        # the server gave up on the slow reader, not on the others
        await server.await_active(2, timeout=10)
        assert (await server.astats())["stores"] == {"s": 2}
        await fast.send(json.dumps({"type": "echo", "data": 1}))
        echo = await recv_until(fast, lambda m: m.get("type") == "echo")
        assert echo == {"type": "echo", "data": 1}
        await fast.close()
        await other.close()
    asyncio.run(go())
    slow.close()
    # and its connection_closed line says why
    assert re.search(r"connection_closed id=1 user=sloth store=s peer=\S+ code=1008 "
                     r'reason=slow_reader detail="slow reader" duration_ms=\d+\n',
                     server.log()), server.log()
