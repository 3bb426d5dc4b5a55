#!/usr/bin/python3
"""An independent WebSocket peer for lifeline's integration tests.

Built on the `websockets` library (10.4 on Debian 12, legacy asyncio API), so
the client is tested against code that lifeline's authors did not write.

    peer.py --mode MODE [--host 127.0.0.1] [--port 0]
            [--tls-cert CERT --tls-key KEY] [--oversize-bytes N] [--quiet]

The first line on stdout is {"event":"listening","port":N}. Then one JSON
line per fact the tests wait on: "request" (path), "open", "closed" (code), "fail" (the code the peer closed with on an error),
"app_ping" (ts), "pong" (ok). The peer exits when its stdin closes, so it
never outlives the test that started it.

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
"""
import argparse
import asyncio
import http
import json
import ssl
import sys

from websockets.legacy.server import WebSocketServerProtocol, serve

MODES = ("echo", "accept_close", "silent", "reject_401", "oversize",
         "headers", "app_ping", "ping_client")


QUIET = False


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


async def handle(ws, args):
    report(event="open", path=ws.path)
    try:
        if args.mode == "accept_close":
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
    # Exit when the test that started us goes away (its end of stdin closes).
    def stdin_readable():
        if not sys.stdin.buffer.raw.read(4096):
            loop.remove_reader(sys.stdin.fileno())
            done.set_result(None)
    loop.add_reader(sys.stdin.fileno(), stdin_readable)

    async with serve(lambda ws: handle(ws, args), args.host, args.port,
                     create_protocol=klass, ssl=context,
                     subprotocols=["lifeline.v1"], ping_interval=None,
                     max_size=None, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        report(event="listening", port=port)
        await done


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
