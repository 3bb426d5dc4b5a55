"""The library's callbacks, from its loop thread to Python.

One table, :data:`CALLBACKS`, has a row for each callback of lifeline_config:
the config field (which is also the keyword of the application's callback),
its ctypes function type, the conversion of the C arguments into the Python
ones, and the event class made of those for ``Client.events()``. One code
path, :func:`_trampoline`, makes every trampoline from its row, once for the
whole process; each one finds its client's :class:`Sink` by the config's
``user_data`` (a key in a registry), then

- converts the arguments (C's data is valid during the call only),
- calls the application's function with them on the loop thread (an
  exception it raises is logged on the "lifeline" logger, and goes no
  further), or the row's fallback when the application gave none,
- hands the event to each open stream's asyncio loop with
  ``loop.call_soon_threadsafe``,
- tells the client's :class:`~lifeline._acks.AckWaiters` of acks and state
  changes (``Client.send_acked()``).

:func:`install` registers a Sink and sets the trampolines and its key in a
config; :func:`uninstall` forgets it once the C client is freed.

The ctypes trampolines are never freed: a client may be freed from inside one
of its own callbacks (lifeline_client_free() then completes after the
callback returns), and freeing the ctypes object that is running would pull
the code out from under the C call. The registry refers to a Sink (weakly), never the
Client, so that dropping the last reference to a Client frees the C client
at once, even on its own loop thread.
"""
from __future__ import annotations

import asyncio
import ctypes
import itertools
import logging
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from . import _ffi
from ._acks import AckWaiters
from ._types import (
    AckedEvent,
    DroppedEvent,
    DroppedIdEvent,
    Event,
    LogLevel,
    MessageEvent,
    NotifyEvent,
    NotifyInfo,
    PongEvent,
    QualityEvent,
    ResumedEvent,
    RetryEvent,
    StateEvent,
    StateInfo,
    error_name,
    quality_from_c,
    state_from_c,
)

log = logging.getLogger("lifeline")
native_log = logging.getLogger("lifeline.native")
# The library's own lines reach the application's handlers when it configures
# logging, and are not printed otherwise (no "last resort" output on stderr).
# Exceptions from callbacks go to "lifeline" itself and are always shown.
native_log.addHandler(logging.NullHandler())

Data = Union[str, bytes]

# ---- converters: the C arguments between the client and user_data ----------


def _data(ptr: Optional[int], length: int, is_binary: int) -> Data:
    raw = ctypes.string_at(ptr, length) if ptr is not None and length else b""
    return raw if is_binary else raw.decode("utf-8", "replace")


def _state(info_p: Any) -> Tuple[Any, ...]:
    i = info_p.contents
    info = StateInfo(
        attempt=i.attempt,
        error=error_name(i.error),
        http_status=i.http_status,
        reason=_ffi.text(i.reason),
        error_code=i.error,
        url_index=i.url_index,
        url=_ffi.text(i.url),
    )
    return (state_from_c(i.old_state), state_from_c(i.new_state), info)


def _message(data: Optional[int], length: int, is_binary: int) -> Tuple[Any, ...]:
    return (_data(data, length, is_binary),)


def _pong(rtt_ms: int, quality: int) -> Tuple[Any, ...]:
    return (rtt_ms, quality_from_c(quality))


def _quality(quality: int) -> Tuple[Any, ...]:
    return (quality_from_c(quality),)


def _retry(attempt: int, delay_ms: int, probe: int) -> Tuple[Any, ...]:
    return (attempt, delay_ms, bool(probe))


def _dropped(data: Optional[int], length: int, is_binary: int, reason: int) -> Tuple[Any, ...]:
    return (_data(data, length, is_binary), error_name(reason))


def _log(level: int, line: Optional[bytes]) -> Tuple[Any, ...]:
    try:
        lvl = LogLevel(level)
    except ValueError:
        lvl = LogLevel.DEBUG
    return (lvl, _ffi.text(line))


def _notify(info_p: Any) -> Tuple[Any, ...]:
    i = info_p.contents
    info = NotifyInfo(
        channel=_ffi.text(i.channel),
        kind=_ffi.text(i.kind),
        ok=bool(i.ok),
        http_status=i.http_status,
        attempts=i.attempts,
        detail=_ffi.text(i.detail),
    )
    return (info,)


def _acked(msg_id: int) -> Tuple[Any, ...]:
    return (msg_id,)


def _resumed(recovered: int, replayed: int) -> Tuple[Any, ...]:
    return (bool(recovered), replayed)


def _dropped_id(msg_id: int, reason: int) -> Tuple[Any, ...]:
    return (msg_id, error_name(reason))


_PY_LEVEL = {
    LogLevel.ERROR: logging.ERROR,
    LogLevel.WARN: logging.WARNING,
    LogLevel.INFO: logging.INFO,
    LogLevel.DEBUG: logging.DEBUG,
}


def _log_natively(level: LogLevel, text: str) -> None:
    """Without on_log, the library's lines go to the "lifeline.native" logger."""
    native_log.log(_PY_LEVEL[level], "%s", text)


# ---- the table ----------------------------------------------------------------


@dataclass(frozen=True)
class Callback:
    """One callback of lifeline_config."""

    name: str  # the lifeline_config field, and the keyword of the app's callback
    ctype: Any  # the ctypes function type of the field (_ffi)
    convert: Callable[..., Tuple[Any, ...]]  # C arguments -> the app's arguments
    event: Optional[Callable[..., Event]]  # made of the same arguments; None: no event
    fallback: Optional[Callable[..., None]] = None  # called when the app gave none


# In lifeline_config's order.
CALLBACKS: Tuple[Callback, ...] = (
    Callback("on_state", _ffi.STATE_CB, _state, StateEvent),
    Callback("on_message", _ffi.MESSAGE_CB, _message, MessageEvent),
    Callback("on_pong", _ffi.PONG_CB, _pong, PongEvent),
    Callback("on_quality", _ffi.QUALITY_CB, _quality, QualityEvent),
    Callback("on_retry", _ffi.RETRY_CB, _retry, RetryEvent),
    Callback("on_dropped", _ffi.DROPPED_CB, _dropped, DroppedEvent),
    Callback("on_log", _ffi.LOG_CB, _log, None, _log_natively),
    Callback("on_notify", _ffi.NOTIFY_CB, _notify, NotifyEvent),
    Callback("on_acked", _ffi.ACKED_CB, _acked, AckedEvent),
    Callback("on_resumed", _ffi.RESUMED_CB, _resumed, ResumedEvent),
    Callback("on_dropped_id", _ffi.DROPPED_ID_CB, _dropped_id, DroppedIdEvent),
)

#: The keywords of the application's callbacks.
NAMES: Tuple[str, ...] = tuple(cb.name for cb in CALLBACKS)

# ---- the thread a callback runs on --------------------------------------------

_tls = threading.local()  # .loop_key: the loop whose callback this thread runs


def loop_key_here() -> Any:
    """The loop_key of the Sink whose callback this thread is running, or
    None outside callbacks."""
    return getattr(_tls, "loop_key", None)


# ---- event streams --------------------------------------------------------------

END = object()  # the end of an event stream


class Subscription:
    """One stream's queue on its asyncio loop."""

    __slots__ = ("aloop", "queue", "__weakref__")

    def __init__(self, aloop: asyncio.AbstractEventLoop) -> None:
        self.aloop = aloop
        self.queue: "asyncio.Queue[Any]" = asyncio.Queue()


# ---- one client's callbacks ---------------------------------------------------


class Sink:
    """The Python side of one client's callbacks: user functions and streams.

    Runs on the C loop thread. Nothing raised here reaches C: exceptions from
    the application's callbacks are logged on the "lifeline" logger.
    """

    def __init__(self, callbacks: Dict[str, Optional[Callable[..., Any]]]) -> None:
        self.cb = callbacks
        self.loop_key: Any = None  # set by the owner: a _LoopNative or itself
        self.subs: List["weakref.ref[Subscription]"] = []
        self.subs_lock = threading.Lock()
        self.finished = False
        self.acks = AckWaiters()
        # the binding's own observers of a callback, after the app's
        self.observers: Dict[str, Callable[..., None]] = {
            "on_acked": self.acks.acked,
            "on_dropped_id": self.acks.dropped,
            "on_state": lambda old, new, info: self.acks.state(new, info),
        }

    # -- streams
    def subscribe(self, sub: Subscription) -> None:
        with self.subs_lock:
            if self.finished:
                sub.aloop.call_soon(sub.queue.put_nowait, END)
                return
            self.subs.append(weakref.ref(sub))

    def unsubscribe(self, sub: Subscription) -> None:
        with self.subs_lock:
            self.subs = [r for r in self.subs if r() not in (None, sub)]

    def publish(self, item: Any) -> None:
        with self.subs_lock:
            subs = [r() for r in self.subs]
        dead = False
        for sub in subs:
            if sub is None:
                dead = True
                continue
            try:
                sub.aloop.call_soon_threadsafe(sub.queue.put_nowait, item)
            except RuntimeError:  # its event loop is closed
                self.unsubscribe(sub)
        if dead:
            with self.subs_lock:
                self.subs = [r for r in self.subs if r() is not None]

    def finish(self) -> None:
        """The client is freed: every stream ends."""
        with self.subs_lock:
            if self.finished:
                return
            self.finished = True
        self.acks.finish()
        self.publish(END)
        with self.subs_lock:
            self.subs = []

    # -- dispatch
    def dispatch(self, row: Callback, args: Tuple[Any, ...]) -> None:
        """Runs row's callback with the C arguments args (user_data cut)."""
        prev = getattr(_tls, "loop_key", None)
        _tls.loop_key = self.loop_key
        try:
            values = row.convert(*args)
            fn = self.cb.get(row.name)
            if fn is not None:
                try:
                    fn(*values)
                except BaseException:  # never into the C thread
                    log.exception("lifeline: the %s callback raised", row.name)
            elif row.fallback is not None:
                row.fallback(*values)
            if row.event is not None and self.subs:
                self.publish(row.event(*values))
            observer = self.observers.get(row.name)
            if observer is not None:
                observer(*values)
        except BaseException:
            log.exception("lifeline: %s callback failed", row.name[3:])
        finally:
            _tls.loop_key = prev


# ---- the registry and the trampolines -------------------------------------------

# user_data -> Sink, while its C client lives. Weak: the Sink holds the
# application's callbacks, which often hold the Client (a bound method of an
# object that owns it); a strong registry would keep such a cycle from the
# garbage collector. The _ClientNative keeps its Sink alive meanwhile.
_sinks: Dict[int, "weakref.ref[Sink]"] = {}
_keys = itertools.count(1)  # user_data 0 would arrive as None


def _trampoline(row: Callback) -> Callable[..., None]:
    """The Python function C calls for row: (client, *args, user_data)."""

    def call(_client: Any, *args: Any) -> None:
        ref = _sinks.get(args[-1])  # one dict lookup: atomic under the GIL
        sink = ref() if ref is not None else None
        if sink is not None and not sink.finished:
            sink.dispatch(row, args[:-1])

    return call


# Made once and kept for the life of the process (see the module's docstring).
_CFUNCS: Dict[str, Any] = {row.name: row.ctype(_trampoline(row)) for row in CALLBACKS}


def install(sink: Sink, cfg: _ffi.Config_c) -> int:
    """Register sink and set every callback field of cfg, and its user_data,
    to reach it. Returns the key, for :func:`uninstall`."""
    key = next(_keys)
    _sinks[key] = weakref.ref(sink)
    for name, cfunc in _CFUNCS.items():
        setattr(cfg, name, cfunc)
    cfg.user_data = key
    return key


def uninstall(key: int) -> None:
    """Forget a Sink once no callback of its C client starts any more."""
    _sinks.pop(key, None)
