"""lifeline.v1 on lifeline-server (docs/protocol.md, docs/server.md): the
subprotocol on the upgrade, numbered data and acks, duplicates, resume,
durability across kill -9, the journal, the hostile cases, the session cap.
Clients are v1client.Conn over the websockets library; everything waits
on messages or events, never on fixed sleeps."""

import asyncio
import json
import sqlite3

import websockets

from llserver import RawWS, wait_until
from v1client import Conn, Session, SUBPROTOCOL


def run(coro):
    return asyncio.run(coro)


def echo(i):
    return json.dumps({"type": "echo", "data": i})


def upgrade_protocol(port, offered):
    """The Sec-WebSocket-Protocol of the 101 to a raw upgrade offering
    `offered` (None: no header); None when the answer has none."""
    ws = RawWS(port, handshake=False)
    try:
        extra = f"Sec-WebSocket-Protocol: {offered}\r\n" if offered else ""
        ws.sock.sendall((
            "GET /ws?store=s&user=raw HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\n{extra}\r\n").encode())
        head = ws._read_until(b"\r\n\r\n").decode()
        assert head.startswith("HTTP/1.1 101"), head
        for line in head.split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "sec-websocket-protocol":
                return value.strip()
        return None
    finally:
        ws.close()


async def close_of(conn, timeout=5.0):
    """Reads until the server closes; returns (code, reason)."""
    try:
        while True:
            await asyncio.wait_for(conn.ws.recv(), timeout)
    except websockets.exceptions.ConnectionClosed as e:
        return (e.rcvd.code, e.rcvd.reason) if e.rcvd else (None, None)


def delivery(server):
    return server.stats()["delivery"]


# -- opting in --------------------------------------------------------------

def test_a_plain_client_still_works(server):
    async def go():
        ws = await server.connect("s", "plain")
        assert ws.subprotocol is None
        await ws.send(echo(1))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "echo", "data": 1}
        await ws.send("1 not a unit")  # plain: echoed as it is
        assert await asyncio.wait_for(ws.recv(), 5) == "1 not a unit"
        await ws.close()
    run(go())
    assert delivery(server)["sessions"] == 0


def test_the_subprotocol_is_selected_when_offered(server):
    assert upgrade_protocol(server.port, SUBPROTOCOL) == SUBPROTOCOL
    assert upgrade_protocol(server.port, "chat, lifeline.v1") == SUBPROTOCOL
    assert upgrade_protocol(server.port, "lifeline") == "lifeline"
    assert upgrade_protocol(server.port, None) is None


# -- numbers and acks --------------------------------------------------------

def test_echo_through_v1_is_numbered_and_acknowledged(server):
    async def go():
        c = await Conn.open(server, "s", "alice")
        _, epoch, accepted, recovered, first, last = c.welcome
        assert len(epoch) == 16 and epoch != "0" * 16
        assert (accepted, recovered, first, last) == (0, False, 1, 0)
        for i in range(1, 6):
            assert await c.send(echo(i)) == i
        got = [await c.recv_data() for _ in range(5)]
        assert got == [(i, json.dumps({"type": "echo", "data": i}, separators=(",", ":")))
                       for i in range(1, 6)]
        await c.wait_acked(5)
        await c.send(b"\x00\xffbin")  # binary stays binary, numbered too
        assert await c.recv_data() == (6, b"\x00\xffbin")
        await c.close()
    run(go())
    d = delivery(server)
    assert d["accepted"] == 6 and d["acknowledged"] >= 5 and d["sessions"] == 1


def test_duplicates_sent_again_are_not_echoed_twice(server):
    async def go():
        c = await Conn.open(server, "s", "alice")
        for i in range(1, 4):
            await c.send(f"m{i}")
        assert [await c.recv_data() for _ in range(3)] == [(1, "m1"), (2, "m2"), (3, "m3")]
        for i in range(1, 4):
            await c.send(f"m{i}", seq=i)  # again, same numbers
        await c.send("m4")
        # the next data unit is the echo of 4, numbered 4: nothing came in between
        assert await c.recv_data() == (4, "m4")
        await c.wait_acked(4)
        await c.close()
    run(go())
    assert delivery(server)["duplicates_dropped"] == 3


def test_resume_replays_what_was_sent_while_away(start_server):
    server = start_server("--json")

    async def go():
        session = Session()
        alice = await Conn.open(server, "s", "alice", session)
        bob = await server.connect("s", "bob")
        assert (await alice.recv_data())[1] == json.dumps(
            {"type": "user_joined", "store": "s", "user": "bob"}, separators=(",", ":"))
        await alice.close()
        # bob hears alice leave, then broadcasts twice while she is away
        while json.loads(await asyncio.wait_for(bob.recv(), 5))["type"] != "user_left":
            pass
        for i in range(2):
            await bob.send(json.dumps({"type": "broadcast", "data": i}))
        await server.await_active(1)
        wait_until(lambda: delivery(server)["sessions"] == 1)
        alice = await Conn.open(server, "s", "alice", session)
        assert alice.welcome[3] is True  # recovered
        assert alice.welcome[4:] == (2, 3)
        got = [await alice.recv_data() for _ in range(2)]
        assert [json.loads(p)["data"] for _, p in got] == [0, 1]
        assert [seq for seq, _ in got] == [2, 3]
        await alice.close()
        await bob.close()

    # bob's broadcasts may reach alice's session only after her connection
    # has ended: the wait above on active connections makes sure of it
    run(go())
    d = delivery(server)
    assert d["resumes_recovered"] == 1 and d["replayed"] == 2
    resumed = [e for e in server.log_events() if e["event"] == "session_resumed"]
    assert len(resumed) == 1
    assert resumed[0]["recovered"] is True and resumed[0]["replayed"] == 2
    assert len(resumed[0]["session"]) == 32


def test_kill_9_keeps_the_high_water_mark_and_starts_a_new_epoch(start_server):
    server = start_server()
    session = Session()

    async def before():
        c = await Conn.open(server, "s", "alice", session)
        for i in range(1, 6):
            await c.send(f"m{i}")
        await c.wait_acked(5)  # committed before the ack
        # ...and more that are not yet acknowledged when the server dies
        await c.send("m6")
        await c.recv_data()
        return c

    c = run(before())
    old_epoch = session.epoch
    server.proc.kill()
    server.proc.wait()
    server.stop()
    server = start_server()  # the same folder: the same --db

    async def after():
        session.acked = 0  # as a client that never heard the acks: sends all again
        c = await Conn.open(server, "s", "alice", session)
        _, epoch, accepted, recovered, first, last = c.welcome
        assert epoch != old_epoch and not recovered
        assert (first, last) == (1, 0)  # the replay buffer was in memory
        assert accepted >= 5  # the mark survived
        for i in range(1, 7):
            await c.send(f"m{i}", seq=i)
        await c.send("m7", seq=7)
        # only 7 (and 6 if it was not committed) is echoed, numbered from 1
        seq, payload = await c.recv_data()
        assert seq == 1 and payload in ("m6", "m7")
        if payload == "m6":
            assert await c.recv_data() == (2, "m7")
        await c.wait_acked(7)
        await c.close()

    run(after())
    d = delivery(server)
    assert d["duplicates_dropped"] >= 5
    assert d["resumes_not_recovered"] == 1


def test_the_journal_has_every_number_once_in_order(start_server, workdir):
    server = start_server("--journal", "--ack-every", "4")
    session = Session()
    total = 60

    async def go():
        sent = 0
        while sent < total:
            c = await Conn.open(server, "s", "alice", session, held=1)
            # resend everything from 1, then 10 new ones, each twice
            for i in range(1, sent + 1):
                await c.send(f"m{i}", seq=i)
            for i in range(sent + 1, sent + 11):
                await c.send(f"m{i}", seq=i)
                await c.send(f"m{i}", seq=i)
            sent += 10
            await c.wait_acked(sent)
            await c.ws.close()

    run(go())
    assert server.stop() == 0
    db = sqlite3.connect(server.db)
    try:
        rows = db.execute("SELECT seq, type, payload FROM journal WHERE session = ? "
                          "ORDER BY rowid", (session.sid,)).fetchall()
    finally:
        db.close()
    assert [r[0] for r in rows] == list(range(1, total + 1))
    assert [bytes(r[2]).decode() for r in rows] == [f"m{i}" for i in range(1, total + 1)]
    assert {r[1] for r in rows} == {"text"}


def test_a_skip_leaves_no_journal_row_and_no_echo(start_server):
    server = start_server("--journal")
    session = Session()

    async def go():
        c = await Conn.open(server, "s", "alice", session)
        await c.send("m1")
        assert await c.recv_data() == (1, "m1")
        await c.ws.send("s4")  # 2 to 4 dropped by the client's outbox, unsent
        await c.wait_acked(4)
        await c.send("m5", seq=5)
        await c.send("m3", seq=3)  # covered by the skip: a duplicate
        await c.send("m6", seq=6)
        assert await c.recv_data() == (2, "m5")
        assert await c.recv_data() == (3, "m6")
        await c.wait_acked(6)
        await c.ws.send("s2")  # below what was received: nothing new
        await c.send("m7", seq=7)
        assert await c.recv_data() == (4, "m7")
        await c.wait_acked(7)
        await c.close()

    run(go())
    d = delivery(server)
    assert (d["accepted"], d["skipped"], d["duplicates_dropped"]) == (4, 3, 1)
    assert server.stop() == 0
    db = sqlite3.connect(server.db)
    try:
        rows = db.execute("SELECT seq, payload FROM journal WHERE session = ? ORDER BY rowid",
                          (session.sid,)).fetchall()
        hwm = db.execute("SELECT hwm FROM delivery_sessions WHERE session = ?",
                         (session.sid,)).fetchone()
    finally:
        db.close()
    assert [(q, bytes(p).decode()) for q, p in rows] == [(1, "m1"), (5, "m5"), (6, "m6"),
                                                        (7, "m7")]
    assert hwm == (7,)


# -- hostile clients ------------------------------------------------------------

HOSTILE = [
    # (units sent after the hello, or None for no hello), the close reason
    (None, ["1 x"], "lifeline.v1: data before hello"),
    (None, ["a1"], "lifeline.v1: ack before hello"),
    (None, ["s1"], "lifeline.v1: skip before hello"),
    ("hello", ["h 0123456789abcdef0123456789abcdef 0000000000000000 0 1"],
     "lifeline.v1: second hello"),
    ("hello", ["1 a", "2 b", "4 d"], "lifeline.v1: gap: expected 3, got 4"),
    ("hello", ["18446744073709551615 x"], "lifeline.v1: gap: expected 1, got 18446744073709551615"),
    ("hello", ["a99"], "lifeline.v1: ack 99 for a message never sent (last 0)"),
    ("hello", ["18446744073709551616 x"], "lifeline.v1: number out of range"),
    ("hello", ["w 1122334455667788 0 n 1 0"], "lifeline.v1: welcome from a client"),
    (None, ['{"type":"echo"}'], "lifeline.v1: not a lifeline.v1 unit"),
]


def test_each_hostile_case_closes_1002_naming_the_error(start_server):
    server = start_server("--json")

    async def one(hello, units):
        c = await Conn.open(server, "s", "hostile", hello=hello is not None)
        for u in units:
            await c.ws.send(u)
        return await close_of(c)

    for hello, units, reason in HOSTILE:
        assert run(one(hello, units)) == (1002, reason), units
    assert delivery(server)["protocol_errors"] == len(HOSTILE)
    logged = [e["reason"] for e in server.log_events() if e["event"] == "delivery_protocol_error"]
    assert logged == [r for _, _, r in HOSTILE]


def test_an_ack_for_a_message_never_sent_names_the_last_one(server):
    async def go():
        c = await Conn.open(server, "s", "alice")
        for i in range(1, 4):
            await c.send(f"m{i}")
        for _ in range(3):
            await c.recv_data()
        await c.ws.send("a99")
        return await close_of(c)
    assert run(go()) == (1002, "lifeline.v1: ack 99 for a message never sent (last 3)")


def test_sessions_without_connection_are_capped(start_server):
    server = start_server("--max-sessions", "3")

    async def go():
        for _ in range(10):
            c = await Conn.open(server, "s", "alice")
            await c.close()
        await server.await_active(0)
    run(go())
    d = wait_until(lambda: (lambda d: d if d["sessions_evicted"] == 7 else None)(delivery(server)))
    assert d["sessions"] == 3


def test_a_session_is_bound_to_its_user(server):
    async def go():
        session = Session()
        a = await Conn.open(server, "s", "alice", session)
        await a.close()
        b = await Conn.open(server, "s", "mallory", Session(session.sid), hello=False)
        await b.ws.send(session.hello())
        return await close_of(b)
    code, reason = run(go())
    assert code == 1002 and "belongs to another user or store" in reason


def test_a_resume_on_a_new_connection_replaces_the_old_one(server):
    async def go():
        bob = await Conn.open(server, "s", "bob", Session())
        session = Session()
        old = await Conn.open(server, "s", "alice", session)
        assert json.loads((await bob.recv_data())[1]) == {
            "type": "user_joined", "store": "s", "user": "alice"}
        new = await Conn.open(server, "s", "alice", session)
        assert new.welcome[3] is True
        assert await close_of(old) == (1008, "lifeline.v1: session resumed elsewhere")
        # alice stays, through the new connection: the old one's end is no
        # user_left, and the new one's start no second user_joined
        await new.send("still here")
        seq, payload = await new.recv_data()
        assert payload == "still here" and seq == 1
        await new.close()
        assert json.loads((await bob.recv_data())[1]) == {
            "type": "user_left", "store": "s", "user": "alice"}
        await bob.close()
    run(go())
