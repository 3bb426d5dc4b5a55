"""The echo load with the Python `websockets` package (Debian's
python3-websockets, asyncio): sequential round trips (--window 1) or a
pipelined window, for --seconds after --warmup. Same options and JSON output
as lifeline_echo. Run with /usr/bin/python3."""
import argparse
import asyncio
import json
import resource
import sys
import time

import websockets


def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def run(a):
    payload = "m" + "x" * (a.size - 1)  # not JSON: echoed unchanged
    rtt = []
    async with websockets.connect(a.url, compression=None, ping_interval=None,
                                  max_size=None, max_queue=None) as ws:
        first = time.monotonic()
        t0 = cpu0 = 0.0
        recv = n0 = 0
        last_send = 0.0
        for _ in range(a.window):
            last_send = time.monotonic()
            await ws.send(payload)
        while True:
            data = await ws.recv()
            if len(data) != a.size:
                continue
            now = time.monotonic()
            recv += 1
            if a.window == 1 and t0:
                rtt.append(int((now - last_send) * 1e6))
            if not t0 and now - first >= a.warmup:
                t0, cpu0, n0 = now, cpu_s(), recv
            if t0 and (now - t0 >= a.seconds or recv - n0 >= a.max):
                cpu = cpu_s() - cpu0
                break
            last_send = time.monotonic()
            await ws.send(payload)
    if a.samples:
        with open(a.samples, "w") as f:
            f.write("".join(f"{v}\n" for v in rtt))
    print(json.dumps({"msgs": recv - n0, "seconds": now - t0, "cpu_s": cpu,
                      "rtt_samples": len(rtt)}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--window", type=int, default=1)
    p.add_argument("--seconds", type=float, default=3)
    p.add_argument("--warmup", type=float, default=0.5)
    p.add_argument("--max", type=int, default=10**9)
    p.add_argument("--samples")
    a = p.parse_args()
    try:
        asyncio.run(asyncio.wait_for(run(a), a.warmup + a.seconds + 20))
    except Exception as e:  # noqa: BLE001 - one line for the driver
        print(f"websockets_echo: {e!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
