"""Client.send_acked(): an asyncio future per message id, settled from the
library's callbacks on its loop thread.

The rule is on_acked's own (lifeline.h): ``on_acked(id)`` says the server
has every message up to and including ``id`` but those ``on_dropped_id``
reported (which comes first), so it settles every future whose id is at or
below it; a dropped message's future fails with its reason (QUEUE_FULL,
STOPPED). The highest id acknowledged so far is kept, so
that a future registered after its ack came (the ack can beat the send's
return to Python) is settled at once.

A future fails with LifelineError when the client stops or fails for good
before the ack: state ``closed`` (STOPPED), state ``error`` (the error the
state change carries, NOT_LIFELINE say) or the client freed (STOPPED). The
message itself is the library's affair: with an outbox file it stays there
and goes out after the next start.
"""
from __future__ import annotations

import asyncio
import functools
import heapq
import threading
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

from ._types import ErrorCode, LifelineError, State, StateInfo


def _settle(fut: "asyncio.Future[int]", result: Optional[int],
            error: Optional[LifelineError]) -> None:
    """On the future's own loop."""
    if fut.done():  # cancelled meanwhile (asyncio.wait_for, say)
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(result)  # type: ignore[arg-type]


def _post(fut: "asyncio.Future[int]", result: Optional[int],
          error: Optional[LifelineError]) -> None:
    try:
        fut.get_loop().call_soon_threadsafe(_settle, fut, result, error)
    except RuntimeError:  # its loop is closed: nobody waits any more
        pass


DROPS_KEPT = 10000
_DROPPED = "the message was dropped from the outbox and will not be acknowledged"


class AckWaiters:
    """The futures of one client's send_acked() calls, by message id."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.highest = 0  # the highest id on_acked has reported
        self.heap: List[Tuple[int, int]] = []  # (id, serial), lowest first
        self.futures: Dict[int, "asyncio.Future[int]"] = {}  # serial -> future
        self.serial = 0
        # set while the client is stopped or failed (the error a new future
        # gets: code, detail), None while it runs
        self.ended: Optional[Tuple[int, str]] = None
        # ids on_dropped_id reported, for a future registered after its drop
        # (the drop can beat the send's return); the newest DROPS_KEPT
        self.dropped_ids: "OrderedDict[int, int]" = OrderedDict()

    def wait(self, msg_id: int, loop: asyncio.AbstractEventLoop) -> "asyncio.Future[int]":
        """A future for msg_id, sent just now, on loop."""
        fut: "asyncio.Future[int]" = loop.create_future()
        with self.lock:
            reason = self.dropped_ids.get(msg_id)
            if reason is not None:
                fut.set_exception(LifelineError(reason, "send_acked", _DROPPED))
            elif msg_id <= self.highest:
                fut.set_result(msg_id)
            elif self.ended is not None:
                fut.set_exception(LifelineError(self.ended[0], "send_acked", self.ended[1]))
            else:
                self.serial += 1
                heapq.heappush(self.heap, (msg_id, self.serial))
                self.futures[self.serial] = fut
                fut.add_done_callback(functools.partial(self._forget, self.serial))
        return fut

    def _forget(self, serial: int, _fut: "asyncio.Future[int]") -> None:
        # a future done by any means (cancelled, say) is no longer kept; its
        # heap entry is skipped when its id comes up
        with self.lock:
            self.futures.pop(serial, None)

    def acked(self, msg_id: int) -> None:
        """on_acked(msg_id), loop thread."""
        due = []
        with self.lock:
            if msg_id > self.highest:
                self.highest = msg_id
            while self.heap and self.heap[0][0] <= msg_id:
                i, serial = heapq.heappop(self.heap)
                fut = self.futures.pop(serial, None)
                if fut is not None:
                    due.append((fut, i))
        for fut, i in due:
            _post(fut, i, None)

    def dropped(self, msg_id: int, reason: str) -> None:
        """on_dropped_id(msg_id, reason), loop thread."""
        code = ErrorCode[reason] if reason in ErrorCode.__members__ else ErrorCode.STOPPED
        due = []
        with self.lock:
            self.dropped_ids[msg_id] = code
            while len(self.dropped_ids) > DROPS_KEPT:
                self.dropped_ids.popitem(last=False)
            for i, serial in self.heap:  # its entry is skipped when it comes up
                fut = self.futures.pop(serial, None) if i == msg_id else None
                if fut is not None:
                    due.append(fut)
        for fut in due:
            _post(fut, None, LifelineError(code, "send_acked", _DROPPED))

    def state(self, new: State, info: StateInfo) -> None:
        """on_state, loop thread: closed or error fails every future."""
        if new is State.CLOSED:
            self._end(ErrorCode.STOPPED, "the client stopped before the server acknowledged")
        elif new is State.ERROR:
            self._end(info.error_code or ErrorCode.STOPPED, info.reason)
        else:
            with self.lock:
                self.ended = None

    def finish(self) -> None:
        """The client is freed."""
        self._end(ErrorCode.STOPPED, "the client is closed")

    def _end(self, code: int, detail: str) -> None:
        with self.lock:
            self.ended = (code, detail)
            due = list(self.futures.values())
            self.futures.clear()
            self.heap.clear()
        for fut in due:  # one exception each: each await adds its traceback
            _post(fut, None, LifelineError(code, "send_acked", detail))
