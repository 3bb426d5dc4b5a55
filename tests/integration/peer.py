#!/usr/bin/python3
"""An independent WebSocket peer for lifeline's integration tests.

Built on the `websockets` library (10.4 on Debian 12, legacy asyncio API), so
the client is tested against code that lifeline's authors did not write.

    peer.py --mode MODE [--host 127.0.0.1] [--port 0]
            [--tls-cert CERT --tls-key KEY] [--oversize-bytes N] [--quiet]

The first line on stdout is {"event":"listening","port":N}. Then one JSON
line per fact the tests wait on: "request" (path), "open", "closed" (code), "fail" (the code the peer closed with on an error),
"app_ping" (ts), "pong" (ok). The peer exits when its stdin closes, so it
never outlives the test that started it. A line "read" on its stdin lets
raw_no_read start reading.

Modes:
  echo          echo every message, text or binary
  accept_close  complete the handshake, then close at once with 1000
  silent        complete the handshake, then never answer a ping
  reject_401    refuse every upgrade with HTTP 401
  oversize      send one text message of --oversize-bytes, then echo
  headers       send the request headers as {"type":"headers",...}, then echo
  app_ping      answer {"type":"ping","ts":N} with {"type":"pong","ts":N},
                echo everything else
  ping_client   send a ping frame, report its pong, then echo

  no_subprotocol
                echo, selecting no subprotocol (a server that does not speak
                lifeline.v1)
  v1_fault      speak lifeline.v1 (docs/protocol.md) as a server up to the
                welcome (new session, epoch 1, accepting what the hello
                holds), then break it as --v1-fault says: "gap" (data 2
                first), "ack_unsent" (ack 99), "garbage" (a text that is no
                unit), "second_welcome", "hello" (a hello to the client),
                "data_first" (data 1 instead of the welcome); reports the
                hello ("hello": its fields) and the close the client sends
                ("closed": code, reason)

Raw modes, on plain sockets rather than the websockets library, for what no
well-behaved server does. Each reports the request ("request": path and
headers), then what the client sends: "message" (text, or hex for binary),
"close_received" (the close code and reason the client sent, or code null
for an empty close) or "eof" (the connection ended without a close frame).
Pings are answered. The peer echoes a close it did not start, and ends the
connection after a close either way.
  raw_status    answer the upgrade with --status-line (and any --header)
  raw_redirect  answer the upgrade with 302 and Location: --location
  reject_403_body
                answer the upgrade with 403 and an HTML body that says why
                (a control byte, a secret, 400 bytes of filler), headers and
                body in one write
  raw_masked    send a text message in a masked frame
  raw_bad_utf8  send "before", then a text message in two fragments whose
                second holds bytes that are not UTF-8 (with --then-bad-frame,
                a frame with a reserved bit right after, in the same write)
  raw_bad_frame send "hello", then a frame with a reserved bit set, in one
                write
  raw_bad_close send a close frame with the payload --close-payload (hex)
  raw_listen    send nothing: report what comes, answer the close
  raw_no_close_reply
                send nothing: report what comes, never answer the close,
                and keep reading until the client ends the connection
  raw_no_read   complete the handshake, then read nothing (the socket's
                buffers fill, the client's writes stall) until a line "read"
                comes on stdin; then report "reading" and what comes as
                raw_no_close_reply does, except that a text "message" is
                reported by its place on the connection from 0, its length
                and its first 32 characters ("n", "len", "head"), and that
                nothing at all is written after the handshake, not even a
                pong: data reaching a socket the client has closed makes
                its kernel reset the connection and discard what it still
                held for the peer
"""
import argparse
import asyncio
import base64
import hashlib
import http
import json
import os
import ssl
import struct
import sys

from websockets.legacy.server import WebSocketServerProtocol, serve

RAW_MODES = ("raw_status", "raw_redirect", "reject_403_body", "raw_masked", "raw_bad_utf8",
             "raw_bad_frame", "raw_bad_close", "raw_listen",
             "raw_no_close_reply", "raw_no_read")
MODES = ("echo", "accept_close", "silent", "reject_401", "oversize", "no_subprotocol", "v1_fault",
         "headers", "app_ping", "ping_client") + RAW_MODES


QUIET = False
RESUME_READING = None  # an asyncio.Event: "read" came on stdin


def report(**fact):
    if QUIET and fact.get("event") != "listening":
        return
    print(json.dumps(fact, separators=(",", ":")), flush=True)


class Protocol(WebSocketServerProtocol):
    """Reports each upgrade request; refuses it in reject_401 mode."""

    mode = "echo"

    def fail_connection(self, code=1006, reason=""):
        # the peer ends the connection itself: say why (1002, 1007, 1009...)
        if code != 1006:
            report(event="fail", code=code, reason=reason)
        return super().fail_connection(code, reason)

    async def process_request(self, path, request_headers):
        report(event="request", path=path)
        if self.mode == "reject_401":
            return (http.HTTPStatus.UNAUTHORIZED, [], b"")
        return None


class SilentProtocol(Protocol):
    """Never answers a ping: a server that hangs after the handshake."""

    async def pong(self, data=b""):
        return None


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def v1_fault(ws, fault):
    # the hello first: "h SESSION EPOCH RECEIVED HELD"
    parts = (await ws.recv()).split(" ")
    report(event="hello", session=parts[1], epoch=parts[2], received=parts[3],
           held=parts[4])
    welcome = "w 0000000000000001 %d n 1 0" % (int(parts[4]) - 1)
    bad = {"gap": "3 three", "ack_unsent": "a99", "garbage": "hello there",
           "second_welcome": welcome, "hello": "h " + "0" * 32 + " " + "0" * 16 + " 0 1"}
    if fault == "data_first":
        await ws.send("1 one")
    else:
        await ws.send(welcome)
        await ws.send("1 one")  # one good message first: delivered once
        await ws.send(bad[fault])
    async for _ in ws:
        pass


async def handle(ws, args):
    report(event="open", path=ws.path, subprotocol=ws.subprotocol)
    try:
        if args.mode == "v1_fault":
            await v1_fault(ws, args.v1_fault)
        elif args.mode == "accept_close":
            await ws.close(1000, "accept then close")
        elif args.mode == "silent":
            async for _ in ws:
                pass
        elif args.mode == "oversize":
            await ws.send("x" * args.oversize_bytes)
            await echo(ws)
        elif args.mode == "headers":
            await ws.send(json.dumps({
                "type": "headers",
                "path": ws.path,
                "subprotocol": ws.subprotocol,
                "headers": [[k, v] for k, v in ws.request_headers.raw_items()],
            }))
            await echo(ws)
        elif args.mode == "app_ping":
            async for message in ws:
                if isinstance(message, str):
                    try:
                        doc = json.loads(message)
                    except ValueError:
                        doc = None
                    if isinstance(doc, dict) and doc.get("type") == "ping":
                        report(event="app_ping", ts=doc.get("ts"))
                        await ws.send(json.dumps({"type": "pong", "ts": doc.get("ts")}))
                        continue
                await ws.send(message)
        elif args.mode == "ping_client":
            waiter = await ws.ping(b"lifeline-peer")
            try:
                await asyncio.wait_for(waiter, 5)
                report(event="pong", ok=True)
            except asyncio.TimeoutError:
                report(event="pong", ok=False)
            await echo(ws)
        else:
            await echo(ws)
    except Exception:  # a lost connection ends the handler like a close
        pass
    await ws.wait_closed()
    report(event="closed", code=ws.close_code, reason=ws.close_reason)


# ---- raw modes ---------------------------------------------------------------

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(opcode, payload, fin=True, rsv=0, mask=None):
    """One server frame (unmasked unless mask, a 4-byte key, is given)."""
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


async def read_frame(reader):
    """A client frame: (fin, opcode, payload), or None at the end."""
    try:
        b0, b1 = await reader.readexactly(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", await reader.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", await reader.readexactly(8))[0]
        key = await reader.readexactly(4) if b1 & 0x80 else b"\0\0\0\0"
        data = await reader.readexactly(n)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    return bool(b0 & 0x80), b0 & 0x0F, unmask(data, key)


def unmask(data, key):
    """data XOR the 4-byte key repeated (as big integers: megabytes of
    frames are unmasked in milliseconds, not seconds)."""
    n = len(data)
    if not n:
        return data
    pad = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(pad, "big")).to_bytes(n, "big")


def close_fields(payload):
    if len(payload) < 2:
        return {"code": None, "reason": payload.hex()}
    return {"code": struct.unpack("!H", payload[:2])[0],
            "reason": payload[2:].decode("utf-8", "replace")}


async def raw_session(reader, writer, args):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        writer.close()
        return
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else ""
    headers = [l.split(":", 1) for l in lines[1:] if ":" in l]
    headers = [[k.strip(), v.strip()] for k, v in headers]
    report(event="request", path=path, headers=headers)
    get = {k.lower(): v for k, v in headers}
    if args.mode == "reject_403_body":
        # a refusal that says why, in HTML, with a control byte and a secret
        # the client must not echo; headers and body in one write, so that
        # the body comes with the headers (the client waits for nothing)
        body = (b"<html><body><h1>403 Forbidden</h1>\n<p>token   expired\x01"
                b" for till 7 (token=s3cr3t)</p>" + b"x" * 400 + b"</body></html>")
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\n"
                     + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        writer.close()
        return
    if args.mode in ("raw_status", "raw_redirect"):
        status = args.status_line or "HTTP/1.1 302 Found"
        extra = list(args.header)
        if args.mode == "raw_redirect":
            extra.append("Location: " + args.location)
        writer.write((status + "\r\n" + "".join(h + "\r\n" for h in extra)
                      + "Content-Length: 0\r\n\r\n").encode("latin-1"))
        await writer.drain()
        writer.close()
        return
    accept = base64.b64encode(hashlib.sha1(
        (get.get("sec-websocket-key", "") + WS_GUID).encode()).digest()).decode()
    answer = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              "Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n")
    offered = get.get("sec-websocket-protocol")
    if offered:
        answer += "Sec-WebSocket-Protocol: " + offered.split(",")[0].strip() + "\r\n"
    writer.write((answer + "\r\n").encode())
    report(event="open", path=path)

    we_closed = False
    if args.mode == "raw_masked":
        out = frame(0x1, b"masked hello", mask=os.urandom(4))
    elif args.mode == "raw_bad_utf8":
        out = (frame(0x1, b"before")
               + frame(0x1, "valid start, ".encode(), fin=False)
               + frame(0x0, b"\xce\xba\xed\xa0\x80 then more", fin=True))
        if args.then_bad_frame:
            out += frame(0x1, b"reserved bit", rsv=4)
    elif args.mode == "raw_bad_frame":
        out = frame(0x1, b"hello") + frame(0x1, b"reserved bit", rsv=4)
    elif args.mode == "raw_bad_close":
        out = frame(0x8, bytes.fromhex(args.close_payload))
        we_closed = True
    else:  # raw_listen, raw_no_close_reply, raw_no_read
        out = b""
    writer.write(out)
    await writer.drain()
    if args.mode == "raw_no_read":
        await RESUME_READING.wait()
        report(event="reading")
    fragments = []
    received = 0
    while True:
        got = await read_frame(reader)
        if got is None:
            report(event="eof")
            break
        fin, opcode, payload = got
        if opcode == 0x9:
            if args.mode != "raw_no_read":
                writer.write(frame(0xA, payload))
            continue
        if opcode == 0xA:
            continue
        if opcode == 0x8:
            report(event="close_received", **close_fields(payload))
            if args.mode in ("raw_no_close_reply", "raw_no_read"):
                continue  # no answer: the client must give up on its own
            if not we_closed:
                writer.write(frame(0x8, payload[:2]))
            break
        fragments.append((opcode, payload))
        if fin:
            data = b"".join(p for _, p in fragments)
            if fragments[0][0] == 0x1 and args.mode == "raw_no_read":
                report(event="message", n=received, len=len(data),
                       head=data[:32].decode("utf-8", "replace"))
            elif fragments[0][0] == 0x1:
                report(event="message", text=data.decode("utf-8", "replace"))
            else:
                report(event="message", hex=data.hex())
            fragments = []
            received += 1
    try:
        await writer.drain()
    except ConnectionError:
        pass
    writer.close()


async def raw_main(args, done):
    server = await asyncio.start_server(lambda r, w: raw_session(r, w, args),
                                        args.host, args.port)
    async with server:
        report(event="listening", port=server.sockets[0].getsockname()[1])
        await done


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=MODES, default="echo")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--oversize-bytes", type=int, default=64 * 1024)
    ap.add_argument("--quiet", action="store_true",
                    help="print the listening line only")
    ap.add_argument("--status-line", help="raw_status: the status line")
    ap.add_argument("--header", action="append", default=[],
                    help="raw_status: a header line to add (repeatable)")
    ap.add_argument("--location", default="ws://127.0.0.1:9/elsewhere",
                    help="raw_redirect: the Location")
    ap.add_argument("--then-bad-frame", action="store_true",
                    help="raw_bad_utf8: a frame with a reserved bit follows")
    ap.add_argument("--v1-fault", default="gap",
                    choices=["gap", "ack_unsent", "garbage", "second_welcome", "hello",
                             "data_first"],
                    help="v1_fault: how the peer breaks lifeline.v1")
    ap.add_argument("--close-payload", default="03e8",
                    help="raw_bad_close: the close frame's payload, in hex")
    args = ap.parse_args()
    global QUIET
    QUIET = args.quiet

    context = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)

    klass = SilentProtocol if args.mode == "silent" else Protocol
    klass = type("PeerProtocol", (klass,), {"mode": args.mode})
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    global RESUME_READING
    RESUME_READING = asyncio.Event()
    commands = bytearray()
    # Exit when the test that started us goes away (its end of stdin closes);
    # until then, its lines are commands ("read").
    def stdin_readable():
        chunk = sys.stdin.buffer.raw.read(4096)
        if not chunk:
            loop.remove_reader(sys.stdin.fileno())
            done.set_result(None)
            return
        commands.extend(chunk)
        while b"\n" in commands:
            line, _, rest = bytes(commands).partition(b"\n")
            commands[:] = rest
            if line.strip() == b"read":
                RESUME_READING.set()
    loop.add_reader(sys.stdin.fileno(), stdin_readable)

    if args.mode in RAW_MODES:
        await raw_main(args, done)
        return

    async with serve(lambda ws: handle(ws, args), args.host, args.port,
                     create_protocol=klass, ssl=context,
                     subprotocols=None if args.mode == "no_subprotocol" else ["lifeline.v1"],
                     ping_interval=None,
                     max_size=None, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        report(event="listening", port=port)
        await done


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
