"""Churn: 500 connections opened, used and closed concurrently, some of
them abruptly; the counts return to the baseline."""

import asyncio
import json

import websockets

from llserver import RawWS


def test_500_concurrent_connections_open_echo_and_close(start_server):
    # default heartbeats: one client loop juggling 500 connections on a busy
    # machine may answer a ping late, and this test is about the counts
    server = start_server(fast=False)

    async def one(i):
        ws = await websockets.connect(server.ws_url(f"store{i % 10}", f"user{i}"),
                                      ping_interval=None, close_timeout=5)
        await ws.send(json.dumps({"type": "echo", "data": i}))
        while True:  # join notices from the rest of the store may come first
            msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if msg["type"] == "echo":
                assert msg["data"] == i
                break
        return ws

    async def go():
        baseline = await server.astats()
        conns = await asyncio.gather(*(one(i) for i in range(500)))
        stats = await server.astats()
        assert stats["active_connections"] == 500
        assert sum(stats["stores"].values()) == 500
        # half close politely, half just vanish
        polite = [ws.close() for ws in conns[::2]]
        for ws in conns[1::2]:
            ws.transport.abort()
        await asyncio.gather(*polite)
        await asyncio.sleep(0)  # let the aborted transports actually close
        return baseline

    baseline = asyncio.run(go())
    server.wait_active(baseline["active_connections"], timeout=15)
    stats = server.stats()
    assert stats["total_connections"] == baseline["total_connections"] + 500
    assert stats["stores"] == {}


def test_repeated_churn_leaves_the_counts_at_the_baseline(server):
    for round_ in range(5):
        raws = [RawWS(server.port, f"/ws?store=c&user=r{round_}-{i}") for i in range(40)]
        assert all(r.status == 101 for r in raws)
        for r in raws:
            r.close()
        server.wait_active(0)
    assert server.stats()["total_connections"] == 200
