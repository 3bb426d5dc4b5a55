"""lifeline-server instances sharing store fan-out and presence through a
real redis-server (--redis): what one instance's clients send to a store
reaches that store's members on every instance, and nothing else; the
cluster's figures converge and forget a dead instance; Redis going away
and coming back loses the fan-out meanwhile and nothing else."""

import asyncio
import json
import subprocess

import pytest
import websockets

from cluster import SERVER, post_json, wait_until


async def recv_json(ws, timeout=3):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def recv_type(ws, kind, timeout=3):
    """The next message of this type (presence notices before it skipped)."""
    while True:
        got = await recv_json(ws, timeout)
        if got["type"] == kind:
            return got
        assert got["type"] in ("user_joined", "user_left"), got


async def nothing(ws, timeout=0.5):
    """True when nothing but presence notices arrives within timeout."""
    while True:
        try:
            got = await asyncio.wait_for(ws.recv(), timeout)
        except asyncio.TimeoutError:
            return True
        if isinstance(got, bytes) or json.loads(got)["type"] not in ("user_joined", "user_left"):
            return got


def connect(inst, store, user):
    return websockets.connect(f"ws://127.0.0.1:{inst.port}/ws?store={store}&user={user}")


def converged(inst, instances, stores):
    """inst's view of the cluster, once it holds this many instances and
    these connections per store."""
    c = inst.cluster()
    return c if c["instances"] == instances and c["stores"] == stores else None


def test_a_broadcast_reaches_the_stores_members_on_every_instance_and_no_other_store(instances):
    a, b, c = instances(3)

    async def go():
        async with connect(a, "s", "x") as x, connect(b, "s", "y") as y, \
                connect(c, "s", "w") as w, connect(b, "t", "z") as z:
            # every instance sees every connection before the test relies on it
            for inst in (a, b, c):
                await asyncio.to_thread(wait_until, lambda i=inst: converged(
                    i, 3, {"s": 3, "t": 1}), 10, f"{inst.name}'s view")
            await x.send(json.dumps({"type": "broadcast", "data": {"n": 1}}))
            for ws in (y, w):
                got = await recv_type(ws, "broadcast")
                assert got["from"] == "x"
                assert got["data"] == {"n": 1}
            assert await nothing(z) is True      # another store
            assert await nothing(x) is True      # not back to its sender
    asyncio.run(go())
    assert [i.cluster()["received"] for i in (a, b, c)] != [0, 0, 0]


def test_join_and_leave_notices_and_admin_broadcasts_cross_instances(instances):
    a, b = instances(2)

    async def go():
        async with connect(a, "s", "x") as x:
            async with connect(b, "s", "y"):
                joined = await recv_json(x)
                assert joined["type"] == "user_joined" and joined["user"] == "y"
            left = await recv_json(x)
            assert left["type"] == "user_left" and left["user"] == "y"
            async with connect(b, "s", "v") as v:
                assert (await recv_json(x))["type"] == "user_joined"  # v's
                delivered = await asyncio.to_thread(
                    post_json, a.port, "/api/v1/stores/s/broadcast", {"sale": 7})
                assert delivered  # answered by a, which has x
                for ws in (x, v):
                    got = await recv_type(ws, "broadcast")
                    assert got["data"] == {"sale": 7}, got
    asyncio.run(go())


def test_the_cluster_figures_converge_and_a_killed_instance_leaves_them(instances):
    a, b = instances(2)

    async def go():
        async with connect(a, "s", "x"), connect(b, "s", "y"), connect(b, "t", "z"):
            view = await asyncio.to_thread(wait_until, lambda: converged(
                a, 2, {"s": 2, "t": 1}), 10, "a's view of both")
            assert view["connections"] == 3 and view["redis"] == "up"
            assert b.health()["cluster"]["instance"] == "i2"
            b.kill9()
            # i2's record expires (3 s: twice the ping interval, 3 s at least)
            gone = await asyncio.to_thread(wait_until, lambda: converged(
                a, 1, {"s": 1}), 10, "a's view without i2")
            assert gone["connections"] == 1
    asyncio.run(go())


def test_redis_down_keeps_each_instance_serving_and_fan_out_resumes_when_it_is_back(
        instances, redis):
    a, b = instances(2)

    async def go():
        async with connect(a, "s", "x") as x, connect(a, "s", "x2") as x2, \
                connect(b, "s", "y") as y:
            assert (await recv_json(x))["type"] == "user_joined"  # x2's
            await asyncio.to_thread(wait_until, lambda: converged(a, 2, {"s": 3}), 10,
                                    "a's view")
            redis.kill()
            await asyncio.to_thread(wait_until,
                                    lambda: a.health()["cluster"]["redis"] == "down", 10,
                                    "a says Redis is down")
            # a still serves its own connections
            await x.send(json.dumps({"type": "broadcast", "data": "local"}))
            assert (await recv_type(x2, "broadcast"))["data"] == "local"
            assert await nothing(y) is True  # lost: Redis is not there
            assert a.cluster()["dropped"] >= 1
            redis.start()
            await asyncio.to_thread(wait_until,
                                    lambda: all(i.health()["cluster"]["redis"] == "up"
                                                for i in (a, b)), 15, "both back on Redis")
            await x.send(json.dumps({"type": "broadcast", "data": "again"}))
            assert (await recv_type(y, "broadcast"))["data"] == "again"
            assert (await recv_type(x2, "broadcast"))["data"] == "again"
            assert a.cluster()["reconnects"] >= 1
    asyncio.run(go())
    assert "redis_down" in a.log_text() and "redis_up" in a.log_text()


@pytest.mark.parametrize("args, words", [
    (["--redis", "http://x"], "--redis: expected redis://host[:port][/db]"),
    (["--redis", "redis://h:99999"], "--redis: expected"),
    (["--redis", "redis://h/16"], "--redis: expected"),
    (["--instance", "a"], "--instance: only valid with --redis"),
    (["--redis", "redis://h", "--instance", "a b"], "--instance: expected 1-64"),
])
def test_bad_cluster_options_are_refused_with_words_that_name_them(args, words):
    r = subprocess.run([str(SERVER), *args], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2, r
    assert words in r.stderr


def test_a_redis_that_stops_reading_gets_a_bounded_backlog_and_local_service_goes_on(
        instances, redis):
    import signal as sig
    (a,) = instances(1)
    n = 12000

    async def go():
        async with connect(a, "s", "x") as x, connect(a, "s", "y") as y:
            assert (await recv_json(x))["type"] == "user_joined"
            await asyncio.to_thread(wait_until, lambda: a.health()["cluster"]["redis"] == "up",
                                    10, "a on Redis")
            redis.proc.send_signal(sig.SIGSTOP)  # connected, reading nothing
            try:
                got = 0

                async def read():
                    nonlocal got
                    while got < n:
                        if (await recv_json(y, 10))["type"] == "broadcast":
                            got += 1
                reader = asyncio.create_task(read())
                for k in range(n):
                    await x.send(json.dumps({"type": "broadcast", "data": k}))
                await asyncio.wait_for(reader, 60)
                assert got == n  # this instance's own members missed nothing
                c = a.cluster()
                # at most 10 000 commands wait for Redis; the rest were dropped
                assert c["dropped"] >= n - 10000, c
            finally:
                redis.proc.send_signal(sig.SIGCONT)
            await asyncio.to_thread(wait_until, lambda: a.health()["cluster"]["redis"] == "up",
                                    10, "a still on Redis")
    asyncio.run(go())
