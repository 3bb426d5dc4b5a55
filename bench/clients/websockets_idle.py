"""An idle Python `websockets` client with the same heartbeat as lifeline's
default: ping every 30 s, 10 s pong timeout (the package's own keepalive).
Prints {"event":"connected"}, then idles until --seconds pass or stdin
closes. Run with /usr/bin/python3."""
import argparse
import asyncio
import json
import sys

import websockets


async def run(url, seconds):
    async with websockets.connect(url, compression=None, ping_interval=30,
                                  ping_timeout=10) as ws:
        print(json.dumps({"event": "connected"}), flush=True)
        loop = asyncio.get_running_loop()
        eof = loop.create_future()
        loop.add_reader(0, lambda: eof.done() or (sys.stdin.buffer.read1(4096) or
                                                  eof.set_result(None)))
        try:
            await asyncio.wait_for(eof, seconds)
        except asyncio.TimeoutError:
            pass
        loop.remove_reader(0)
        print(json.dumps({"event": "done", "open": ws.open}), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--seconds", type=float, default=130)
    a = p.parse_args()
    asyncio.run(run(a.url, a.seconds))


if __name__ == "__main__":
    main()
