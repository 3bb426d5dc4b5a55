"""lifeline.v1 conformance: what any server of docs/protocol.md must do.

Each test runs against every server of the `server` fixture (conftest.py).
The server's application is an echo: each message comes back, as a data
unit of the session's own stream, with the same type and payload, and
nothing else is sent to the session. Payloads are text that is not JSON, or
binary, which lifeline-server echoes as is; each session has a store of its
own there, so that no other session's presence notices reach it.

Reasons of 1002 closes: the spec names no words, only "a reason that names
it"; the suite asks for the prefix "lifeline.v1:" and, where the error has
an obvious name, that word (hello, gap, ack, binary).
"""

import asyncio
import secrets

import pytest

from v1client import NO_EPOCH, SUBPROTOCOL, Connection, Session, Welcome, hello


def run(coro, timeout=30.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def resume(server, session):
    """A connection for session, after hello and welcome."""
    conn = await Connection.open(server.url(session.id[:12]))
    return conn, await conn.hello(session)


def pairs(conn):
    """The data units received, as (number, payload)."""
    return [(d.seq, d.payload) for d in conn.data]


async def echoed(conn, payloads, first_seq=1):
    """Sends payloads numbered from first_seq and waits for their echoes and
    for the acks of them all."""
    last = first_seq + len(payloads) - 1
    for i, p in enumerate(payloads):
        await conn.send_data(first_seq + i, p)
    n = len(conn.data) + len(payloads)
    await conn.read_until(lambda c: len(c.data) >= n and c.acked >= last)


# ---- opting in, and a new session ----------------------------------------------

def test_the_server_selects_the_subprotocol(server):
    async def go():
        conn = await Connection.open(server.url())
        assert conn.subprotocol == SUBPROTOCOL
        await conn.close()
    run(go())


def test_a_new_session_is_not_recovered_gets_a_fresh_epoch_and_nothing_accepted(server):
    async def go():
        epochs = set()
        for _ in range(2):
            session = Session()
            conn, w = await resume(server, session)
            assert (w.status, w.accepted, w.first, w.last) == ("n", 0, 1, 0), w
            assert w.epoch != NO_EPOCH
            epochs.add(w.epoch)
            await conn.close()
        assert len(epochs) == 2, "two new sessions got the same epoch"
    run(go())


# ---- data, echoes, acks ------------------------------------------------------------

def test_data_in_order_is_echoed_numbered_from_1_and_acknowledged(server):
    async def go():
        conn, _ = await resume(server, Session())
        payloads = ["first", "caf\u00e9 \U0001F355", "", b"\x00\xffbinary"]
        await echoed(conn, payloads)
        assert conn.seqs == [1, 2, 3, 4]
        assert [d.payload for d in conn.data] == payloads  # text stays text, binary binary
        assert conn.acks[-1] == 4 and conn.acks == sorted(conn.acks)
        # The client's own ack of the server's messages is taken quietly.
        await conn.ack(4)
        await echoed(conn, ["after the ack"], first_seq=5)
        assert conn.seqs == [1, 2, 3, 4, 5]
        await conn.close()
    run(go())


def test_a_burst_is_acknowledged_in_batches(server):
    async def go():
        conn, _ = await resume(server, Session())
        n = 200
        await echoed(conn, [f"burst {i}" for i in range(1, n + 1)])
        assert conn.seqs == list(range(1, n + 1))
        assert conn.acks[-1] == n and conn.acks == sorted(conn.acks)
        assert len(conn.acks) < n / 4, f"{len(conn.acks)} acks for {n} messages: {conn.acks}"
        await conn.close()
    run(go())


def test_a_resend_of_accepted_numbers_is_dropped_and_acknowledged(server):
    async def go():
        conn, _ = await resume(server, Session())
        await echoed(conn, ["one", "two"])
        acks_before = len(conn.acks)
        await conn.send_data(1, "one again")
        await conn.send_data(2, "two again")
        await conn.read_until(lambda c: len(c.acks) > acks_before)  # acknowledged again
        assert conn.acks[-1] == 2
        await echoed(conn, ["three"], first_seq=3)
        assert pairs(conn) == [(1, "one"), (2, "two"), (3, "three")]
        await conn.close()
    run(go())


# ---- skips ---------------------------------------------------------------------------

def test_a_skip_takes_its_numbers_as_received_and_data_goes_on_after_it(server):
    async def go():
        session = Session()
        conn, _ = await resume(server, session)
        await echoed(conn, ["one"])
        # the client's outbox dropped 2 to 4 unsent: a skip, acknowledged as usual
        await conn.send("s4")
        await conn.read_until(lambda c: c.acked >= 4)
        # 5 follows with no gap error; 3 is now a duplicate
        await conn.send_data(3, "three, skipped")
        await echoed(conn, ["five"], first_seq=5)
        # the application got nothing for 2 to 4: no echo for them
        assert pairs(conn) == [(1, "one"), (2, "five")]
        assert conn.acked == 5
        await conn.close()
        conn, w = await resume(server, session)
        assert w.accepted == 5, w
        await conn.close()
    run(go())


def test_a_skip_as_the_first_unit_of_a_session(server):
    async def go():
        conn, _ = await resume(server, Session())
        await conn.send("s3")
        await echoed(conn, ["four"], first_seq=4)
        assert pairs(conn) == [(1, "four")]
        await conn.close()
    run(go())


def test_a_skip_at_or_below_what_was_received_is_ignored(server):
    async def go():
        conn, _ = await resume(server, Session())
        await echoed(conn, ["one", "two", "three"])
        await conn.send("s3")
        await conn.send("s1")
        await echoed(conn, ["four"], first_seq=4)  # neither a gap nor a close
        assert pairs(conn) == [(1, "one"), (2, "two"), (3, "three"), (4, "four")]
        await conn.close()
    run(go())


# ---- resume ------------------------------------------------------------------------

def test_a_reconnection_resumes_both_directions(server):
    async def go():
        session = Session()
        conn, w1 = await resume(server, session)
        await echoed(conn, ["m1", "m2", "m3"])
        # The app got the first echo only; the connection dies before the
        # rest is delivered and before the client records any ack.
        session.received = 1
        await conn.close()

        conn, w2 = await resume(server, session)
        if w2.status == "r":  # the replay, before anything new
            await conn.read_until(lambda c: len(c.data) >= w2.last - w2.first + 1)
        assert (w2, pairs(conn)) == \
            (Welcome(w1.epoch, 3, "r", 2, 3), [(2, "m2"), (3, "m3")])
        await echoed(conn, ["m4"], first_seq=4)
        assert pairs(conn) == [(2, "m2"), (3, "m3"), (4, "m4")]
        await conn.close()
    run(go())


def test_a_resume_with_nothing_missed_replays_nothing(server):
    async def go():
        session = Session()
        conn, _ = await resume(server, session)
        await echoed(conn, ["m1", "m2"])
        session.received, session.held = 2, 3
        await conn.ack(2)
        await conn.close()
        conn, w = await resume(server, session)
        assert (w.accepted, w.status, w.first, w.last) == (2, "r", 3, 2), w
        await echoed(conn, ["m3"], first_seq=3)
        assert conn.seqs == [3]
        await conn.close()
    run(go())


def test_held_raises_the_accepted_mark_of_a_session_the_server_does_not_know(server):
    async def go():
        session = Session(held=5)  # 1 to 4 were acknowledged by a server before
        conn, w = await resume(server, session)
        assert (w.accepted, w.status) == (4, "n"), w
        await conn.send_data(3, "an old one")  # a duplicate now: dropped
        await echoed(conn, ["five"], first_seq=5)
        assert pairs(conn) == [(1, "five")]
        await conn.close()
    run(go())


@pytest.mark.parametrize("wrong", ["epoch", "received"])
def test_a_resume_the_server_cannot_honour_gets_n(server, wrong):
    async def go():
        session = Session()
        conn, w1 = await resume(server, session)
        await echoed(conn, ["m1", "m2"])
        await conn.close()
        if wrong == "epoch":  # another epoch than the stream's
            while session.epoch == w1.epoch:
                session.epoch = secrets.token_hex(8)
            session.received = 1
        else:  # further than the server has sent
            session.received = 9
        conn, w = await resume(server, session)
        # "Otherwise n, in the stream's epoch": the stream goes on.
        assert (w.epoch, w.status, w.accepted, w.last) == (w1.epoch, "n", 2, 2), w
        assert 1 <= w.first <= w.last + 1
        # Nothing is sent again: the stream goes on after `last`.
        await echoed(conn, ["m3"], first_seq=3)
        assert conn.seqs == [3]
        await conn.close()
    run(go())


# ---- protocol errors: 1002 with a reason naming the error ---------------------------

async def closed_1002(conn, *words):
    code, reason = await conn.read_close()
    assert code == 1002, (code, reason)
    assert reason.startswith("lifeline.v1:") and reason[12:].strip(), reason
    for word in words:
        assert word in reason.lower(), f"{word!r} not in {reason!r}"
    return reason


def test_a_skip_before_hello_is_an_error(server):
    async def go():
        conn = await Connection.open(server.url())
        await conn.send("s1")
        await closed_1002(conn, "hello")
    run(go())


def test_data_before_hello_is_an_error(server):
    async def go():
        conn = await Connection.open(server.url())
        await conn.send_data(1, "too early")
        await closed_1002(conn, "hello")
        assert conn.data == [], "data before hello was echoed"
    run(go())


def test_a_second_hello_is_an_error(server):
    async def go():
        session = Session()
        conn, _ = await resume(server, session)
        await conn.send(hello(session.id, session.epoch, 0, 1))
        await closed_1002(conn, "hello")
    run(go())


def test_a_gap_is_an_error_and_nothing_after_it_is_delivered(server):
    async def go():
        session = Session()
        conn, _ = await resume(server, session)
        await echoed(conn, ["one"])
        await conn.send_data(3, "a gap")
        await conn.send_data(2, "after the error")
        await closed_1002(conn, "gap")
        assert conn.seqs == [1]
        conn, w = await resume(server, session)
        assert w.accepted == 1, "a message after the error was accepted"
        await conn.close()
    run(go())


def test_an_ack_above_what_was_sent_is_an_error(server):
    async def go():
        conn, _ = await resume(server, Session())
        await echoed(conn, ["one"])  # the server has sent 1
        await conn.ack(2)
        await closed_1002(conn, "ack")
    run(go())


@pytest.mark.parametrize("unit", [
    "",                                       # empty
    "x",                                      # no such unit
    "1",                                      # data without its space
    "1x y",                                   # a number that is not one
    "18446744073709551616 past 2^64 - 1",     # data number out of range
    "a",                                      # ack without a number
    "a0",                                     # ack of 0
    "a01",                                    # leading zero
    "a+1",                                    # a sign
    "a1 ",                                    # trailing space
    "a18446744073709551616",                  # out of range
    "s0",                                     # skip of 0
    "s01",                                    # skip with a leading zero
    "w 0123456789abcdef 0 n 1 0",             # a welcome from the client
], ids=repr)
def test_a_malformed_unit_is_an_error(server, unit):
    async def go():
        conn, _ = await resume(server, Session())
        await echoed(conn, ["one"])  # so that "a1"-like units would be valid acks
        await conn.send(unit)
        await closed_1002(conn)
    run(go())


@pytest.mark.parametrize("bad", ["short id", "missing held", "held 0", "epoch"])
def test_a_malformed_hello_is_an_error(server, bad):
    async def go():
        sid, epoch = secrets.token_hex(16), NO_EPOCH
        text = {"short id": f"h {sid[:30]} {epoch} 0 1",
                "missing held": f"h {sid} {epoch} 0",
                "held 0": f"h {sid} {epoch} 0 0",
                "epoch": f"h {sid} 0 0 1"}[bad]
        conn = await Connection.open(server.url())
        await conn.send(text)
        await closed_1002(conn)
        assert conn.welcome is None
    run(go())


def test_a_control_unit_in_a_binary_message_is_an_error(server):
    async def go():
        conn, _ = await resume(server, Session())
        await echoed(conn, ["one"])
        await conn.send(b"a1")  # a valid ack, but binary
        await closed_1002(conn, "binary")
    run(go())
