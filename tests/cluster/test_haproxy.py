"""Three lifeline-server instances over Redis behind HAProxy (the shipped
docs/haproxy/lifeline.cfg), real lifeline clients (lifeline-cli) connected
through it, and one instance killed with SIGKILL while a store's
broadcasts flow: its clients reconnect through HAProxy to the others on
their backoff schedule, the others miss nothing, every client gets every
broadcast once all are back, and the cluster's figures converge."""

import asyncio
import json
import time

import websockets

from cluster import Client, free_port, wait_until

CLIENTS = 6
BACKOFF = ["--base-delay-ms", "200", "--max-delay-ms", "1000", "--jitter-ms", "200",
           "--max-attempts", "20", "--ping-interval-ms", "2000", "--ping-timeout-ms", "1500"]


def numbers(texts, prefix):
    """The n of every broadcast "prefix-n" among the messages, in order."""
    out = []
    for t in texts:
        try:
            m = json.loads(t)
        except (TypeError, ValueError):
            continue
        d = m.get("data") if m.get("type") == "broadcast" else None
        if isinstance(d, str) and d.startswith(prefix + "-"):
            out.append(int(d[len(prefix) + 1:]))
    return out


def test_an_instance_killed_behind_haproxy_loses_its_clients_to_the_others_and_nothing_else(
        workdir, instances, haproxy):
    ports = [free_port() for _ in range(3)]
    i1, i2, i3 = instances(3, ports=ports)
    h = haproxy(ports)
    clients = [Client(workdir, f"ws://127.0.0.1:{h.port}/ws?store=s&user=c{n}", f"c{n}",
                      *BACKOFF) for n in range(CLIENTS)]
    try:
        wait_until(lambda: all(c.state() == "connected" for c in clients), 20,
                   "every client connected through HAProxy")
        wait_until(lambda: i1.cluster()["stores"].get("s") == CLIENTS, 10, "i1 sees them all")
        on_i2 = i2.stats()["active_connections"]
        assert on_i2 >= 1  # round robin: i2 has some to lose

        async def traffic():
            async with websockets.connect(f"ws://127.0.0.1:{i1.port}/ws?store=s&user=b") as b:
                n = 0

                async def send(prefix, k):
                    await b.send(json.dumps({"type": "broadcast", "data": f"{prefix}-{k}"}))

                for n in range(20):  # before the kill
                    await send("live", n)
                    await asyncio.sleep(0.05)
                t_kill = time.monotonic()
                await asyncio.to_thread(i2.kill9)
                # i2's clients come back through HAProxy: they connect a second time
                back = False
                while not back:
                    n += 1
                    await send("live", n)
                    await asyncio.sleep(0.05)
                    back = sum(c.connects() >= 2 for c in clients) >= on_i2 and all(
                        c.state() == "connected" for c in clients)
                    assert time.monotonic() - t_kill < 20, [c.state() for c in clients]
                t_back = time.monotonic() - t_kill
                await asyncio.to_thread(wait_until, lambda: i1.cluster()["stores"].get("s") ==
                                        CLIENTS + 1 and i1.cluster()["instances"] == 2, 15,
                                        "i1's view: every client, two instances")
                for k in range(10):
                    await send("final", k)
                return n, t_back

        last, t_back = asyncio.run(traffic())
        print(f"\n# {on_i2} clients of i2 back through HAProxy {t_back:.2f} s after its SIGKILL")
        wait_until(lambda: all(numbers(c.messages(), "final") == list(range(10))
                               for c in clients), 10, "every client has every final broadcast")
        moved = [c for c in clients if c.connects() >= 2]
        stayed = [c for c in clients if c.connects() == 1]
        assert len(moved) == on_i2 and len(stayed) == CLIENTS - on_i2
        for c in stayed:  # the others missed nothing
            assert numbers(c.messages(), "live") == list(range(last + 1)), c.name
        for c in moved:   # in order, nothing twice, whatever the outage took
            got = numbers(c.messages(), "live")
            assert got == sorted(set(got)), c.name
        for c in clients:  # within the backoff budget: never judged down
            assert "server_down" not in [e.get("state") for e in c.events]
        health = [i.health()["cluster"] for i in (i1, i3)]
        assert all(x["redis"] == "up" and x["instances"] == 2 for x in health), health
    finally:
        for c in clients:
            c.stop()
