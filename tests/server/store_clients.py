"""A store's clients (its tills) in a process of their own, for
tests/server/test_status_page.py: killing this process is the store going
away, as a shop that loses power or its line.

    store_clients.py PORT STORE USER...

Opens one WebSocket connection to lifeline-server per user (websockets
answers the server's pings), then prints {"event":"ready"} on stdout.
Reads commands on stdin, one a line: "close USER" closes that user's
connection (a normal close) and prints {"event":"closed","user":USER}.
Runs until killed or until stdin ends.
"""

import asyncio
import json
import sys
import urllib.parse

import websockets


def say(**event):
    print(json.dumps(event), flush=True)


async def drain(ws):
    """Reads and drops what the server sends (presence notices), so that the
    connection keeps reading and answering pings."""
    try:
        async for _ in ws:
            pass
    except websockets.exceptions.ConnectionClosed:
        pass


async def main(port, store, users):
    conns = {}
    for user in users:
        q = urllib.parse.urlencode({"store": store, "user": user})
        conns[user] = await websockets.connect(f"ws://127.0.0.1:{port}/ws?{q}",
                                               ping_interval=None, close_timeout=2)
    for ws in conns.values():
        asyncio.ensure_future(drain(ws))
    say(event="ready")
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode()
        if not line:
            break
        words = line.split()
        if len(words) == 2 and words[0] == "close" and words[1] in conns:
            await conns.pop(words[1]).close()
            say(event="closed", user=words[1])
    for ws in conns.values():
        await ws.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3:]))
