"""Users' last activity across instances (--redis): a user seen by one
instance only is readable from another, with its store and a fresh
last_active_at that never goes backwards; without Redis (stopped, or not
reading) an instance answers from its own data, says so, and keeps
answering; an instance killed while a read waits harms no other."""

import asyncio
import json
import signal
import socket
import time
import urllib.error
import re
import subprocess
import urllib.request
from datetime import datetime

import websockets

from cluster import ROOT, need, wait_until


def user(inst, name, timeout=5):
    """(status, body) of GET /api/v1/users/{name} on inst."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{inst.port}/api/v1/users/{name}",
                                    timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def ms(iso):
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000


def connect(inst, store, name):
    return websockets.connect(f"ws://127.0.0.1:{inst.port}/ws?store={store}&user={name}")


def seen_by(inst, name, after_ms=0):
    """inst's answer about name, once it holds a figure from after_ms on."""
    status, body = user(inst, name)
    return body if status == 200 and ms(body["last_active_at"]) >= after_ms else None


def test_a_user_of_one_instance_is_readable_from_another_with_a_fresh_figure(instances):
    a, b = instances(2)
    assert user(b, "till-3")[0] == 404

    async def go():
        async with connect(a, "shop-7", "till-3") as ws:
            start = time.time() * 1000
            await ws.send("hello")
            got = await asyncio.to_thread(wait_until, lambda: seen_by(b, "till-3", start - 5),
                                          10, "b knows till-3")
            assert got["store"] == "shop-7" and got["source"] == "cluster", got
            assert abs(ms(got["last_active_at"]) - start) < 3000, got
            # the connection's pongs keep it fresh everywhere (pings each 1 s)
            later = ms(got["last_active_at"]) + 1
            await asyncio.to_thread(wait_until, lambda: seen_by(b, "till-3", later), 10,
                                    "b sees till-3's later activity")
            on_a = user(a, "till-3")[1]
            assert on_a["source"] == "cluster" and on_a["store"] == "shop-7"
    asyncio.run(go())
    status, body = user(b, "nobody")
    assert status == 404 and body == {"error": "no such user", "source": "cluster"}


def put_script():
    """SRV_USERS_PUT_SCRIPT, as the server sends it (from its source)."""
    src = (ROOT / "src" / "server" / "cluster_users_wire.c").read_text()
    body = re.search(r"SRV_USERS_PUT_SCRIPT\[\] =\n((?:\s*\".*\"\n?)+);", src).group(1)
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body))


def test_last_active_at_never_goes_backwards_whoever_writes_last(instances, redis):
    a, b = instances(2)

    async def go():
        async with connect(a, "s-a", "u") as ws:
            await ws.send("x")
        first = await asyncio.to_thread(wait_until, lambda: seen_by(b, "u"), 10,
                                        "b sees a's figure")
        async with connect(b, "s-b", "u") as ws:
            await ws.send("y")
            newer = await asyncio.to_thread(
                wait_until, lambda: (lambda g: g if g and g["store"] == "s-b" else None)(
                    seen_by(a, "u", ms(first["last_active_at"]) + 1)), 10,
                "a sees b's newer figure over its own older one")
            # read again and again while the connection's pongs move it on
            seen = []
            for _ in range(15):
                seen.append(ms(user(a, "u")[1]["last_active_at"]))
                await asyncio.sleep(0.1)
            assert seen == sorted(seen) and seen[0] >= ms(newer["last_active_at"]), seen
        # an older figure written late (as a slow instance would) is ignored:
        # the max is taken in Redis
        best = ms(user(a, "u")[1]["last_active_at"])
        r = subprocess.run([need("redis-cli", "redis-tools"), "-p", str(redis.port), "EVAL",
                            put_script(), "2", "lifeline:users:active", "lifeline:users:store",
                            "100000", "u", "stale", str(int(best) - 60000)],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 0 and "ERR" not in r.stdout, r
        for inst in (a, b):
            got = user(inst, "u")[1]
            assert ms(got["last_active_at"]) >= best and got["store"] == "s-b", got
    asyncio.run(go())


def test_without_redis_an_instance_answers_from_its_own_data_and_says_so(instances, redis):
    a, b = instances(2)

    async def go():
        async with connect(a, "s", "here") as ws:
            await ws.send("x")
            async with connect(b, "s", "there") as ws2:
                await ws2.send("y")
                await asyncio.to_thread(wait_until, lambda: seen_by(a, "there"), 10,
                                        "a sees b's user")
        # Redis connected but reading nothing: each answer waits 1 s at most
        redis.proc.send_signal(signal.SIGSTOP)
        try:
            start = time.monotonic()
            status, body = user(a, "here")
            assert status == 200 and body["source"] == "local", body
            status, body = user(a, "there")  # known through Redis only
            assert status == 404 and body["source"] == "local", body
            assert time.monotonic() - start < 4
            assert a.health()["online"] is True  # other routes never waited
        finally:
            redis.proc.send_signal(signal.SIGCONT)
        # Redis gone: answered at once, from this instance's data
        redis.kill()
        await asyncio.to_thread(wait_until, lambda: a.health()["cluster"]["redis"] == "down",
                                10, "a says Redis is down")
        start = time.monotonic()
        for _ in range(20):
            status, body = user(a, "here")
            assert status == 200 and body["source"] == "local" and body["store"] == "s", body
        assert time.monotonic() - start < 2
        # and once Redis is back, the cluster's figures again (a writes what
        # changes: its user's activity is written again at the next message)
        redis.start()
        await asyncio.to_thread(wait_until, lambda: a.health()["cluster"]["redis"] == "up",
                                15, "a back on Redis")
        async with connect(a, "s", "here") as ws:
            await ws.send("again")
            await asyncio.to_thread(
                wait_until, lambda: (lambda g: g if g and g["source"] == "cluster" else None)(
                    seen_by(b, "here")), 10, "b reads a's user through Redis again")
    asyncio.run(go())


def cpu_ticks(inst):
    """inst's CPU time so far (user and system), in clock ticks (1/100 s)."""
    fields = open(f"/proc/{inst.proc.pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_a_client_that_leaves_while_its_answer_waits_costs_nothing(instances, redis):
    (a,) = instances(1)
    redis.proc.send_signal(signal.SIGSTOP)
    try:
        socks = []
        for i in range(20):
            s = socket.create_connection(("127.0.0.1", a.port))
            s.sendall(f"GET /api/v1/users/u{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            socks.append(s)
        time.sleep(0.2)
        for s in socks:
            s.close()  # while the answers wait for Redis
        time.sleep(1.5)  # past the wait's bound: the answers meet closed sockets
        before = cpu_ticks(a)
        time.sleep(1)
        assert cpu_ticks(a) - before < 50, "a spins"  # under 0.5 s of CPU in 1 s
    finally:
        redis.proc.send_signal(signal.SIGCONT)
    assert a.health()["online"] is True
    assert user(a, "u0")[0] == 404


def test_pipelined_user_requests_are_answered_in_order_on_one_connection(instances):
    a, b = instances(2)

    async def go():
        for name in ("p1", "p2"):
            async with connect(a, "s-" + name, name) as ws:
                await ws.send("x")
        for name in ("p1", "p2"):
            await asyncio.to_thread(wait_until, lambda n=name: seen_by(b, n), 10,
                                    f"b sees {name}")
    asyncio.run(go())
    s = socket.create_connection(("127.0.0.1", b.port), timeout=5)
    s.sendall(b"GET /api/v1/users/p1 HTTP/1.1\r\nHost: x\r\n\r\n"
              b"GET /api/v1/users/p2 HTTP/1.1\r\nHost: x\r\n\r\n"
              b"GET /api/v1/websockets/health HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    end = time.monotonic() + 5
    while got.count(b"HTTP/1.1 200") < 3 and time.monotonic() < end:
        more = s.recv(65536)
        if not more:
            break
        got += more
    s.close()
    bodies = [json.loads(part.split(b"\r\n\r\n", 1)[1].split(b"HTTP/1.1")[0])
              for part in got.split(b"HTTP/1.1 200")[1:]]
    assert [x.get("user") for x in bodies] == ["p1", "p2", None], got
    assert bodies[0]["store"] == "s-p1" and bodies[1]["store"] == "s-p2"


def test_an_instance_killed_while_reads_wait_harms_no_other(instances, redis):
    a, b, c = instances(3)

    async def go():
        async with connect(a, "s", "k") as ws:
            await ws.send("x")
            await asyncio.to_thread(wait_until, lambda: seen_by(c, "k"), 10, "c sees k")
    asyncio.run(go())
    redis.proc.send_signal(signal.SIGSTOP)  # reads on a and b wait
    try:
        socks = []
        for inst in (a, b):
            s = socket.create_connection(("127.0.0.1", inst.port))
            s.sendall(b"GET /api/v1/users/k HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(s)
        time.sleep(0.2)
        b.kill9()  # mid-request
    finally:
        redis.proc.send_signal(signal.SIGCONT)
    socks[0].settimeout(5)
    assert socks[0].recv(4096).startswith(b"HTTP/1.1 200"), "a answered"
    for s in socks:
        s.close()
    for inst in (a, c):
        status, body = user(inst, "k")
        assert status == 200 and body["source"] == "cluster", body
        assert inst.proc.poll() is None
