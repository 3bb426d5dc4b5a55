"""A small lifeline.v1 client for tests (docs/protocol.md), over the
`websockets` library (10.4 on Debian 12; the calls used here are the same in
later versions).

It does what a test says and checks what the server sends: every unit the
server sends is parsed against the grammar, strictly, and a unit that does
not parse fails the test. It sends nothing on its own (no ack, no resend):
tests choose every unit, so that they can also send wrong ones.

    session = Session()                       # new: random id, no epoch yet
    conn = await Connection.open(url)         # offers lifeline.v1
    welcome = await conn.hello(session)       # hello, then the welcome
    await conn.send_data(1, "first")
    await conn.read_until(lambda c: c.acked >= 1 and c.seqs == [1])
    await conn.ack(1)
    await conn.close()

Every wait is bounded (`timeout`, 5 s by default) and fails the test when it
runs out; nothing sleeps.
"""

import asyncio
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Union

import websockets
from websockets.exceptions import ConnectionClosed

SUBPROTOCOL = "lifeline.v1"
NO_EPOCH = "0" * 16
MAX = 2**64 - 1


# ---- units: writing ---------------------------------------------------------

def data(seq, payload):
    """A data unit: str payload -> a text message, bytes -> a binary one."""
    if isinstance(payload, str):
        return f"{seq} {payload}"
    return f"{seq} ".encode() + bytes(payload)


def ack(seq):
    return f"a{seq}"


def hello(session_id, epoch, received, held):
    return f"h {session_id} {epoch} {received} {held}"


# ---- units: reading (what a server sends) ---------------------------------------

@dataclass(frozen=True)
class Data:
    seq: int
    payload: Union[str, bytes]  # str: it came as a text message, bytes: binary


@dataclass(frozen=True)
class Ack:
    seq: int


@dataclass(frozen=True)
class Welcome:
    epoch: str
    accepted: int
    status: str  # "r" (recovered) or "n" (not)
    first: int
    last: int


class UnitError(AssertionError):
    """The server sent something that is not a lifeline.v1 unit."""


_NUMBER = re.compile(r"0|[1-9][0-9]*")
_EPOCH = re.compile(r"[0-9a-f]{16}")


def _number(text, zero_ok=False):
    if not _NUMBER.fullmatch(text) or int(text) > MAX or (text == "0" and not zero_ok):
        raise UnitError(f"bad number {text!r}")
    return int(text)


def parse(msg):
    """One whole WebSocket message from a server (str: text, bytes: binary)
    as Data, Ack or Welcome; UnitError when it does not match its grammar."""
    binary = isinstance(msg, bytes)
    raw = msg if binary else msg.encode()
    if raw[:1] in [b"%d" % d for d in range(1, 10)]:
        head, sep, payload = raw.partition(b" ")
        if not sep:
            raise UnitError(f"data without a space: {raw[:40]!r}")
        return Data(_number(head.decode("ascii", "replace")),
                    payload if binary else payload.decode())
    if binary:
        raise UnitError(f"a control unit in a binary message: {raw[:40]!r}")
    if msg.startswith("a"):
        return Ack(_number(msg[1:]))
    fields = msg.split(" ")
    if fields[0] == "w" and len(fields) == 6 and fields[3] in ("r", "n"):
        if not _EPOCH.fullmatch(fields[1]) or fields[1] == NO_EPOCH:
            raise UnitError(f"bad epoch in {msg!r}")
        w = Welcome(fields[1], _number(fields[2], True), fields[3], _number(fields[4]),
                    _number(fields[5], True))
        if w.first > w.last + 1:
            raise UnitError(f"first past last + 1 in {msg!r}")
        return w
    raise UnitError(f"not a unit a server sends: {msg[:80]!r}")


# ---- a session and a connection ---------------------------------------------------

@dataclass
class Session:
    """What a client keeps across connections (a real one keeps it in its
    outbox): the session id, the server stream's epoch, the highest server
    number delivered, and the lowest own number not yet acknowledged."""
    id: str = field(default_factory=lambda: secrets.token_hex(16))
    epoch: str = NO_EPOCH
    received: int = 0
    held: int = 1


class Connection:
    """One WebSocket connection. What the server sent is kept in order:
    `units` (all), `data` (Data units), `acks` (their numbers), `welcome`."""

    def __init__(self, ws):
        self.ws = ws
        self.units, self.data, self.acks = [], [], []
        self.welcome = None

    @classmethod
    async def open(cls, url, subprotocols=(SUBPROTOCOL,), timeout=5.0):
        ws = await asyncio.wait_for(websockets.connect(
            url, subprotocols=list(subprotocols) or None, ping_interval=None,
            close_timeout=2, max_size=None), timeout)
        return cls(ws)

    @property
    def subprotocol(self):
        return self.ws.subprotocol

    @property
    def seqs(self):
        return [d.seq for d in self.data]

    @property
    def acked(self):
        """The highest of the welcome's accepted and the acks (cumulative)."""
        return max(self.acks + [self.welcome.accepted if self.welcome else 0])

    # -- sending ---------------------------------------------------------
    async def send(self, msg):
        """Any message, as is (str: text, bytes: binary)."""
        await self.ws.send(msg)

    async def send_data(self, seq, payload):
        await self.send(data(seq, payload))

    async def ack(self, seq):
        await self.send(ack(seq))

    async def hello(self, session, timeout=5.0):
        """Sends hello for session, reads the welcome (which must be the
        server's first unit) and records it in session: the epoch; with "n",
        `received` becomes `last`; `held` moves past `accepted`."""
        await self.send(hello(session.id, session.epoch, session.received, session.held))
        await self.read_until(lambda c: c.units, timeout)
        w = self.units[0]
        assert isinstance(w, Welcome), f"the server's first unit is not a welcome: {w}"
        session.epoch = w.epoch
        if w.status == "n":
            session.received = w.last
        session.held = max(session.held, w.accepted + 1)
        return w

    # -- receiving -------------------------------------------------------
    async def read_until(self, done, timeout=5.0):
        """Reads units until done(self) is true; fails after timeout."""
        deadline = time.monotonic() + timeout
        while not done(self):
            left = deadline - time.monotonic()
            try:
                msg = await asyncio.wait_for(self.ws.recv(), max(left, 0))
            except asyncio.TimeoutError:
                raise AssertionError(f"timed out; received so far: {self.units}") from None
            except ConnectionClosed as e:
                raise AssertionError(f"connection closed ({_close(e)}); "
                                     f"received so far: {self.units}") from None
            self._take(parse(msg))
        return self

    def _take(self, unit):
        if isinstance(unit, Welcome):
            assert self.welcome is None, f"a second welcome: {unit}"
            self.welcome = unit
        elif isinstance(unit, Ack):
            self.acks.append(unit.seq)
        else:
            self.data.append(unit)
        self.units.append(unit)

    async def read_close(self, timeout=5.0):
        """Reads (and records) units until the server closes; returns its
        close (code, reason); code None when it closed without a code."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                msg = await asyncio.wait_for(self.ws.recv(), max(left, 0))
            except asyncio.TimeoutError:
                raise AssertionError(f"the server did not close; received: {self.units}") from None
            except ConnectionClosed as e:
                return _close(e)
            self._take(parse(msg))

    async def close(self):
        await self.ws.close()


def _close(e):
    return (e.rcvd.code, e.rcvd.reason) if e.rcvd else (None, "")
