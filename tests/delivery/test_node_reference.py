"""The Node reference server's own behaviour, beyond conformance: its
options (the ack batch, the replay buffer's bounds), its broadcast, plain
WebSocket for clients that do not offer lifeline.v1, and its command line."""

import asyncio
import subprocess

from v1servers import NODE, NODE_SERVER, node_env
from v1client import Connection, Session


def run(coro, timeout=30.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def resume(server, session):
    conn = await Connection.open(server.url())
    return conn, await conn.hello(session)


def test_acks_come_every_ack_every_messages(start_node):
    server = start_node("--ack-every", "4", "--ack-delay-ms", "60000")

    async def go():
        conn, _ = await resume(server, Session())
        for seq in range(1, 9):
            await conn.send_data(seq, f"m{seq}")
        await conn.read_until(lambda c: len(c.data) == 8 and c.acked == 8)
        assert conn.acks == [4, 8]
        await conn.close()
    run(go())


def test_an_ack_comes_ack_delay_ms_after_the_first_unacknowledged(start_node):
    server = start_node("--ack-every", "1000", "--ack-delay-ms", "10")

    async def go():
        conn, _ = await resume(server, Session())
        await conn.send_data(1, "alone")
        await conn.read_until(lambda c: c.acks == [1])
        await conn.close()
    run(go())


def test_the_replay_buffer_keeps_replay_max_messages(start_node):
    server = start_node("--replay-max", "2")

    async def go():
        session = Session()
        conn, _ = await resume(server, session)
        for seq in range(1, 6):
            await conn.send_data(seq, f"m{seq}")
        await conn.read_until(lambda c: len(c.data) == 5 and c.acked == 5)
        await conn.close()
        session.received = 3  # 4 and 5 are there
        conn, w = await resume(server, session)
        assert (w.status, w.first, w.last) == ("r", 4, 5), w
        await conn.read_until(lambda c: c.seqs == [4, 5])
        await conn.close()
        session.received = 2  # 3 is gone: not recovered; the buffer holds 4 and 5
        conn, w = await resume(server, session)
        assert (w.status, w.first, w.last) == ("n", 4, 5), w
        await conn.close()
        session.received = 4  # the "n" dropped 4 and 5: nothing to send again
        conn, w = await resume(server, session)
        assert (w.status, w.first, w.last) == ("n", 6, 5), w
        await conn.close()
    run(go())


def test_the_replay_buffer_keeps_messages_replay_ms(start_node):
    server = start_node("--replay-ms", "200")

    async def go():
        session = Session()
        conn, _ = await resume(server, session)
        await conn.send_data(1, "m1")
        await conn.read_until(lambda c: c.seqs == [1])
        await conn.close()
        # Resumes (which change nothing: no ack) recover message 1 until it
        # is 200 ms old, then do not. Polled, with a deadline.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while True:
            conn, w = await resume(server, Session(session.id, session.epoch, 0, 2))
            await conn.close()
            if w.status == "n":
                assert (w.first, w.last) == (2, 1), w
                return
            assert (w.first, w.last) == (1, 1), w
            assert loop.time() < deadline, "message 1 was never dropped"
            await asyncio.sleep(0.02)
    run(go())


def test_a_broadcast_reaches_the_other_sessions_online_and_offline(start_node):
    server = start_node()

    async def go():
        alice, bob, carol = Session(), Session(), Session()
        a, _ = await resume(server, alice)
        b, _ = await resume(server, bob)
        c, _ = await resume(server, carol)
        await c.close()  # carol is offline when the broadcast goes out
        text = '{"type":"broadcast","data":"sale 1250"}'
        await a.send_data(1, text)
        await a.read_until(lambda conn: conn.data and conn.acked == 1)
        await b.read_until(lambda conn: conn.data)
        assert [(d.seq, d.payload) for d in a.data + b.data] == [(1, text), (1, text)]
        c, w = await resume(server, carol)  # gets it as a replay
        assert (w.status, w.first, w.last) == ("r", 1, 1), w
        await c.read_until(lambda conn: conn.data)
        assert [(d.seq, d.payload) for d in c.data] == [(1, text)]
        for conn in (a, b, c):
            await conn.close()
    run(go())


def test_a_client_without_the_subprotocol_gets_plain_websocket(start_node):
    server = start_node()

    async def go():
        conn = await Connection.open(server.url(), subprotocols=())
        assert conn.subprotocol is None
        await conn.send("1 not a unit here")
        assert await asyncio.wait_for(conn.ws.recv(), 5) == "1 not a unit here"
        await conn.close()
    run(go())


def test_a_newer_connection_of_a_session_replaces_the_older(start_node):
    server = start_node()

    async def go():
        session = Session()
        old, _ = await resume(server, session)
        new, w = await resume(server, session)
        assert w.status == "r"
        code, reason = await old.read_close()
        assert (code, reason) == (1008, "lifeline.v1: session resumed elsewhere")
        await new.send_data(1, "on the new one")
        await new.read_until(lambda c: c.seqs == [1])
        await new.close()
    run(go())


def test_a_resume_waits_for_the_message_the_app_is_still_handling(start_node):
    server = start_node("--app-delay-ms", "300")  # an async onMessage, 300 ms each

    async def go():
        session = Session()
        old, _ = await resume(server, session)
        await old.send_data(1, "slow")
        # Resumed elsewhere while the app still handles message 1: the
        # welcome must count it, or its resend would be handled twice.
        new, w = await resume(server, Session(session.id, session.epoch, 0, 1))
        assert (w.accepted, w.status, w.first, w.last) == (1, "r", 1, 1), w
        await new.read_until(lambda c: c.seqs == [1])  # its echo, replayed
        await new.send_data(1, "slow")  # the client's resend: a duplicate
        await new.send_data(2, "next")
        await new.read_until(lambda c: c.seqs == [1, 2] and c.acked == 2)
        assert [d.payload for d in new.data] == ["slow", "next"]
        assert (await old.read_close())[0] == 1008
        await new.close()
    run(go())


def test_sigterm_with_clients_connected_exits_0(start_node):
    server = start_node()

    async def go():
        conn, _ = await resume(server, Session())
        server.proc.terminate()
        code, _ = await conn.read_close()
        assert code == 1001
    run(go())
    assert server.proc.wait(10) == 0


def test_bad_options_exit_2_naming_the_option(node_ready):
    for args, words in [(["--port", "http"], "--port"), (["--nope", "1"], "--nope"),
                        (["--ack-every", "0"], "--ack-every")]:
        r = subprocess.run([NODE, str(NODE_SERVER), *args], env=node_env(),
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and words in r.stderr, (args, r.returncode, r.stderr)
        assert r.stdout == ""
