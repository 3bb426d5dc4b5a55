"""The message protocol on /ws: every message type, the not-JSON and error
rules, store isolation in both directions, and join/leave notices."""

import asyncio
import json

from llserver import recv_json, recv_until


def run(coro):
    return asyncio.run(coro)


def test_echo_returns_the_data_to_the_sender(server):
    async def go():
        ws = await server.connect("s1", "alice")
        data = {"n": 1, "list": [1, "two", None], "nested": {"x": True}}
        await ws.send(json.dumps({"type": "echo", "data": data}))
        assert await recv_json(ws) == {"type": "echo", "data": data}
        await ws.close()
    run(go())


def test_ping_gets_pong_with_the_same_ts(server):
    async def go():
        ws = await server.connect("s1", "alice")
        await ws.send(json.dumps({"type": "ping", "ts": 1700000000123}))
        assert await recv_json(ws) == {"type": "pong", "ts": 1700000000123}
        await ws.close()
    run(go())


def test_text_that_is_not_json_comes_back_unchanged(server):
    async def go():
        ws = await server.connect("s1", "alice")
        for text in ["hello", "{not json", "", "caf\u00e9 \U0001F355"]:
            await ws.send(text)
            assert await asyncio.wait_for(ws.recv(), 5) == text
        await ws.close()
    run(go())


def test_binary_comes_back_unchanged(server):
    async def go():
        ws = await server.connect("s1", "alice")
        blob = bytes(range(256)) * 10
        await ws.send(blob)
        assert await asyncio.wait_for(ws.recv(), 5) == blob
        await ws.close()
    run(go())


def test_json_that_is_not_a_valid_message_gets_an_error_and_the_connection_stays(server):
    async def go():
        ws = await server.connect("s1", "alice")
        cases = {
            "[1,2,3]": "a JSON message must be an object",
            "42": "a JSON message must be an object",
            "{}": 'the message needs a string "type"',
            '{"type":7}': 'the message needs a string "type"',
            '{"type":"launch"}': 'unknown type "launch"',
        }
        for text, error in cases.items():
            await ws.send(text)
            assert await recv_json(ws) == {"type": "error", "error": error}
        await ws.send(json.dumps({"type": "echo", "data": "still here"}))
        assert await recv_json(ws) == {"type": "echo", "data": "still here"}
        await ws.close()
    run(go())


def test_fragmented_messages_are_reassembled(server):
    async def go():
        ws = await server.connect("s1", "alice")
        text = json.dumps({"type": "echo", "data": "x" * 10000})
        parts = [text[i:i + 1000] for i in range(0, len(text), 1000)]
        await ws.send(iter(parts))
        assert await recv_json(ws) == {"type": "echo", "data": "x" * 10000}
        await ws.send(iter([b"ab", b"cd", b"ef"]))
        assert await asyncio.wait_for(ws.recv(), 5) == b"abcdef"
        await ws.close()
    run(go())


def test_broadcast_reaches_the_rest_of_the_store_only(server):
    async def go():
        a1 = await server.connect("A", "a1")
        a2 = await server.connect("A", "a2")
        await recv_until(a1, lambda m: m.get("type") == "user_joined")
        b1 = await server.connect("B", "b1")
        b2 = await server.connect("B", "b2")
        await recv_until(b1, lambda m: m.get("type") == "user_joined")

        await a1.send(json.dumps({"type": "broadcast", "data": {"from": "A"}}))
        got = await recv_json(a2)
        assert got == {"type": "broadcast", "store": "A", "from": "a1", "data": {"from": "A"}}
        await b1.send(json.dumps({"type": "broadcast", "data": "from B"}))
        got = await recv_json(b2)
        assert got == {"type": "broadcast", "store": "B", "from": "b1", "data": "from B"}

        # Both broadcasts were handled before these echoes, so anything
        # leaked across stores (or back to a sender) would come first.
        for ws in (a1, b1, a2, b2):
            await ws.send(json.dumps({"type": "echo", "data": "sentinel"}))
        for ws in (a1, b1, a2, b2):
            assert await recv_json(ws) == {"type": "echo", "data": "sentinel"}
        for ws in (a1, a2, b1, b2):
            await ws.close()
    run(go())


def test_join_and_leave_are_announced_in_the_store_only(server):
    async def go():
        a1 = await server.connect("A", "a1")
        b1 = await server.connect("B", "b1")
        a2 = await server.connect("A", "a2")
        assert await recv_json(a1) == {"type": "user_joined", "store": "A", "user": "a2"}
        await a2.close()
        assert await recv_json(a1) == {"type": "user_left", "store": "A", "user": "a2"}
        # b1 saw neither: its first message is the answer to its own echo
        await b1.send(json.dumps({"type": "echo", "data": 1}))
        assert await recv_json(b1) == {"type": "echo", "data": 1}
        # a newcomer is not told about itself
        a3 = await server.connect("A", "a3")
        assert await recv_json(a1) == {"type": "user_joined", "store": "A", "user": "a3"}
        await a3.send(json.dumps({"type": "echo", "data": 2}))
        assert await recv_json(a3) == {"type": "echo", "data": 2}
        for ws in (a1, b1, a3):
            await ws.close()
    run(go())


def test_messages_are_counted_in_the_stats(server):
    async def go():
        before = (await server.astats())
        ws = await server.connect("s1", "alice")
        for i in range(5):
            await ws.send(json.dumps({"type": "echo", "data": i}))
            await recv_json(ws)
        await ws.close()
        await server.await_active(0)
        after = (await server.astats())
        assert after["messages_in"] - before["messages_in"] == 5
        assert after["messages_out"] - before["messages_out"] == 5
        assert after["total_connections"] - before["total_connections"] == 1
    run(go())
