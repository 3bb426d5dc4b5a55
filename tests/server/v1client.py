"""A small lifeline.v1 client (docs/protocol.md) over the websockets
library, for lifeline-server's tests: hello and welcome, numbered data,
acks both ways, resume. It does what the test says: nothing is resent
unless the test resends it."""

import asyncio
import os

SUBPROTOCOL = "lifeline.v1"
NO_EPOCH = "0" * 16


def parse(msg):
    """A unit read from the server, as a tuple:
    ("w", epoch, accepted, recovered, first, last), ("a", n), or
    ("d", seq, payload) with payload str (text) or bytes (binary)."""
    if isinstance(msg, bytes):
        head, _, payload = msg.partition(b" ")
        return ("d", int(head), payload)
    if msg[:1] in tuple("123456789"):
        head, _, payload = msg.partition(" ")
        return ("d", int(head), payload)
    if msg.startswith("a"):
        return ("a", int(msg[1:]))
    if msg.startswith("w "):
        _, epoch, accepted, status, first, last = msg.split(" ")
        assert status in ("r", "n"), msg
        return ("w", epoch, int(accepted), status == "r", int(first), int(last))
    raise AssertionError(f"not a lifeline.v1 unit: {msg!r}")


class Session:
    """What a client keeps across its connections (its outbox)."""

    def __init__(self, sid=None):
        self.sid = sid or os.urandom(16).hex()
        self.epoch = NO_EPOCH
        self.received = 0   # the server's numbers delivered, in this epoch
        self.next_seq = 1   # the client's next number
        self.acked = 0      # the highest client number the server acknowledged
        self.delivered = []  # (seq, payload) delivered, in this epoch

    def hello(self, held=None):
        held = self.acked + 1 if held is None else held
        return f"h {self.sid} {self.epoch} {self.received} {held}"


class Conn:
    """One connection of a session."""

    def __init__(self, ws, session):
        self.ws = ws
        self.session = session
        self.welcome = None

    @classmethod
    async def open(cls, server, store, user, session=None, hello=True, held=None, **kw):
        """Connects offering lifeline.v1 and, unless hello is False, says
        hello (held: as given, else the one after the last acknowledged)."""
        ws = await server.connect(store, user, subprotocols=[SUBPROTOCOL], **kw)
        assert ws.subprotocol == SUBPROTOCOL
        c = cls(ws, session or Session())
        if hello:
            await c.hello(held)
        return c

    async def hello(self, held=None):
        """Sends hello and reads the welcome, as a client does with it."""
        s = self.session
        await self.ws.send(s.hello(held))
        u = parse(await asyncio.wait_for(self.ws.recv(), 5))
        assert u[0] == "w", u
        _, epoch, accepted, recovered, first, last = u
        s.acked = max(s.acked, accepted)
        if not recovered:
            s.received = last
            s.delivered = []
        s.epoch = epoch
        self.welcome = u
        return u

    async def send(self, payload, seq=None):
        """Sends a data unit (the next number, or seq); returns its number."""
        if seq is None:
            seq = self.session.next_seq
            self.session.next_seq += 1
        if isinstance(payload, bytes):
            await self.ws.send(f"{seq} ".encode() + payload)
        else:
            await self.ws.send(f"{seq} {payload}")
        return seq

    async def recv(self, timeout=5.0):
        """The next unit. Data is delivered once (a duplicate is dropped)
        and acknowledged; an ack moves acked."""
        u = parse(await asyncio.wait_for(self.ws.recv(), timeout))
        s = self.session
        if u[0] == "a":
            s.acked = max(s.acked, u[1])
        elif u[0] == "d":
            seq = u[1]
            assert seq <= s.received + 1, f"gap: expected {s.received + 1}, got {seq}"
            if seq == s.received + 1:
                s.received = seq
                s.delivered.append((seq, u[2]))
            await self.ws.send(f"a{s.received}")
        return u

    async def recv_data(self, timeout=5.0):
        """The next data unit: (seq, payload)."""
        while True:
            u = await self.recv(timeout)
            if u[0] == "d":
                return u[1], u[2]

    async def wait_acked(self, n, timeout=5.0):
        """Reads until the server has acknowledged n; returns the data read
        meanwhile."""
        data = []
        while self.session.acked < n:
            u = await self.recv(timeout)
            if u[0] == "d":
                data.append((u[1], u[2]))
        return data

    async def close(self):
        await self.ws.close()
