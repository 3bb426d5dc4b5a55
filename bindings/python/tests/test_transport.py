"""What the client puts on the wire, seen by an independent WebSocket server
(the websockets library): upgrade headers, subprotocol, origin."""
from __future__ import annotations

import asyncio
import threading

import pytest

import lifeline
from lifeline import State

from conftest import FAST, Recorder, limit

websockets = pytest.importorskip("websockets")


class Peer:
    """A websockets echo server on its own thread and event loop."""

    def __init__(self) -> None:
        self.requests: list = []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(limit(5))

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def process_request(path, headers):
            self.requests.append((path, headers))
            return None

        async def handler(ws, path=None):
            async for message in ws:
                await ws.send(message)

        async def start():
            self.server = await websockets.serve(
                handler, "127.0.0.1", 0, process_request=process_request,
                subprotocols=["pos.v2", "pos.v1"])
            self.port = self.server.sockets[0].getsockname()[1]

        self.loop.run_until_complete(start())
        self.ready.set()
        self.loop.run_forever()

    def close(self) -> None:
        async def stop():
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(limit(5))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(limit(5))
        self.loop.close()


@pytest.fixture
def peer():
    p = Peer()
    try:
        yield p
    finally:
        p.close()


def test_headers_subprotocol_and_origin_reach_the_server(peer, clients):
    rec = Recorder()
    c = clients(f"ws://127.0.0.1:{peer.port}/ws?till=3", **rec.callbacks(), **FAST,
                headers={"Authorization": "Bearer s3cret", "X-Till": "3"},
                subprotocol="pos.v1", origin="https://pos.example.com")
    c.start()
    rec.wait_state(State.CONNECTED)
    path, headers = peer.requests[0]
    assert path == "/ws?till=3"
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["X-Till"] == "3"
    assert headers["Origin"] == "https://pos.example.com"
    assert "pos.v1" in headers["Sec-WebSocket-Protocol"]
    c.send("plain\x00text \u2713")  # not JSON: echoed as is, NUL included
    c.send(b"")
    assert rec.wait_messages(2) == ["plain\x00text \u2713", b""]


def test_header_lines_in_list_form(peer, clients):
    rec = Recorder()
    c = clients(f"ws://127.0.0.1:{peer.port}/", **rec.callbacks(), **FAST,
                headers=["X-One: 1", "X-Two: two words"])
    c.start()
    rec.wait_state(State.CONNECTED)
    _, headers = peer.requests[0]
    assert (headers["X-One"], headers["X-Two"]) == ("1", "two words")
