"""lifeline.v1 throughput of lifeline-server, with and without --journal:
CLIENTS v1 clients each send MESSAGES data units, at most WINDOW of them
unacknowledged (each is echoed back, numbered), and wait for the ack of the
last; the figure
is client messages acknowledged per second, all clients together.

    LIFELINE_SERVER_BIN=build/src/server/lifeline-server \\
        /usr/bin/python3 tests/server/bench_delivery.py [MESSAGES] [CLIENTS]

Not a test (pytest does not collect it). The clients are Python, so the
figure is a floor for the server: compare the two runs, not the numbers
with another machine's."""

import asyncio
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True

from llserver import Server  # noqa: E402
from v1client import Conn  # noqa: E402


WINDOW = 500


async def client(server, i, n, start):
    c = await Conn.open(server, "bench", f"till-{i}")
    await start.wait()
    k = 1
    while k <= n:  # a window of WINDOW unacknowledged messages, as an outbox sends
        last = min(n, k + WINDOW - 1)
        for j in range(k, last + 1):
            await c.send(f"sale {j} of till {i}")
        await c.wait_acked(last, timeout=60)  # reading the echoes meanwhile
        k = last + 1
    done = time.monotonic()
    await c.close()
    return done


async def run(server, n, clients):
    start = asyncio.Event()
    tasks = [asyncio.ensure_future(client(server, i, n, start)) for i in range(clients)]
    await asyncio.sleep(0)  # let them connect and say hello (they wait for start)
    t0 = time.monotonic()
    start.set()
    return max(await asyncio.gather(*tasks)) - t0


def measure(args, n, clients):
    d = tempfile.mkdtemp(prefix="lifeline-bench-")
    try:
        s = Server(d, ["--log-level", "warn"] + args).start()
        try:
            secs = asyncio.run(run(s, n, clients))
            stats = s.stats()["delivery"]
        finally:
            s.stop()
        assert stats["acknowledged"] == n * clients, stats
        return n * clients / secs
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    for label, args in (("without --journal", []), ("with --journal", ["--journal"])):
        rate = measure(args, n, clients)
        print(f"{label}: {rate:,.0f} messages/s ({clients} clients x {n})")


if __name__ == "__main__":
    main()
