"""The C handles and their lifetime: _ClientNative owns a lifeline_client,
_LoopNative a lifeline_loop; what is still open at exit is freed then.

Ownership, in one picture::

    Client ──> _ClientNative ──> lifeline_client *       (freed by close())
                    │  ├──> the ctypes callback objects  (kept until freed)
                    │  └──> Sink: the Python callbacks and event streams
                    └──> _LoopNative of a shared lifeline.Loop (optional)

The callback objects (made from one table in _callbacks.py) close over the
Sink, never over the Client, so that dropping the last reference to a Client
frees the C client at once (through ``__del__``) even while the C loop thread
is running.

Threads: the C library calls back on its loop thread. ctypes takes the GIL
for each call; every call into C releases it (``ctypes.CDLL``), so a blocking
``stop()``/``close()`` never holds the GIL the loop thread is waiting for.
"""
from __future__ import annotations

import atexit
import ctypes
import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any, Dict, Optional

from . import _callbacks, _ffi, _reaper
from ._types import ErrorCode, LifelineError

if TYPE_CHECKING:
    from ._options import _Config

log = logging.getLogger("lifeline")

lib = _ffi.lib

_live: "weakref.WeakSet[Any]" = weakref.WeakSet()  # natives to free at exit


def _free_logged(native: Any) -> None:
    try:
        native.free("finalizer")
    except BaseException:
        log.exception("lifeline: freeing a dropped handle failed")


def _at_exit() -> None:
    """Free what is still open before the interpreter goes away: the loop
    threads must not call into a finalizing interpreter."""
    _reaper.drain()  # a workaround: see _reaper.py
    for native in list(_live):
        if isinstance(native, _ClientNative):
            _free_logged(native)
    for native in list(_live):
        _free_logged(native)


atexit.register(_at_exit)


class _LoopNative:
    """Owns one lifeline_loop."""

    def __init__(self) -> None:
        out = ctypes.c_void_p()
        rc = lib.lifeline_loop_new(ctypes.byref(out))
        if rc:
            raise LifelineError(rc, "Loop")
        self.ptr: Optional[int] = out.value
        self.lock = threading.Lock()
        self.clients = 0
        self.want_free = False
        _live.add(self)

    def attach(self) -> None:
        with self.lock:
            self.clients += 1

    def detach(self) -> None:
        with self.lock:
            self.clients -= 1
            retry = self.want_free and self.clients == 0
        if retry:
            self.free("finalizer")

    def free(self, context: str) -> int:
        with self.lock:
            ptr = self.ptr
            if ptr is None:
                return ErrorCode.OK
            if context in ("finalizer", "exit") and self.clients:
                self.want_free = True  # the last client to go frees it
                return ErrorCode.OK
        if _callbacks.loop_key_here() is self:
            # on the loop's own thread: the library would refuse
            if context == "finalizer":
                _reaper.defer_free(self)  # a workaround: see _reaper.py
                return ErrorCode.OK
            return ErrorCode.IN_CALLBACK
        rc = int(lib.lifeline_loop_free(ptr))
        if rc == ErrorCode.OK:
            with self.lock:
                self.ptr = None
            _live.discard(self)
        return rc


class _ClientNative:
    """Owns one lifeline_client and what C calls back into.

    Methods ``use()`` the pointer; ``free()`` waits until no other thread is
    inside a call with it, then frees it, so a Python program cannot make the
    library touch a freed client.
    """

    def __init__(self, config: _Config, sink: _callbacks.Sink) -> None:
        self.ptr: Optional[int] = None
        self.sink = sink
        self.loop = config.loop_native
        sink.loop_key = self.loop if self.loop is not None else self
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        self.users = 0
        self.closing = False
        # The callback objects: C holds their addresses until the client is
        # freed, so they live exactly as long as the C client.
        cfg = config.cfg
        self.cfuncs: Optional[Dict[str, Any]] = _callbacks.install(sink, cfg)
        config.raise_for(lib.lifeline_config_validate(ctypes.byref(cfg)), "Client")
        out = ctypes.c_void_p()
        if self.loop is not None:
            self.loop.attach()
        rc = lib.lifeline_client_new(ctypes.byref(cfg), ctypes.byref(out))
        if rc:
            if self.loop is not None:
                self.loop.detach()
            self.cfuncs = None
            config.raise_for(rc, "Client")
        # config (and its strings) may go now: lifeline_client_new copied them
        self.ptr = out.value
        _live.add(self)

    def use(self, what: str) -> int:
        with self.lock:
            if self.ptr is None or self.closing:
                raise LifelineError(ErrorCode.STOPPED, f"{what}: the client is closed")
            self.users += 1
            return self.ptr

    def done(self) -> None:
        with self.lock:
            self.users -= 1
            if self.users == 0:
                self.idle.notify_all()

    def free(self, context: str) -> int:
        """lifeline_client_free(); returns its lifeline_error."""
        if _callbacks.loop_key_here() is self.sink.loop_key:
            # on this client's loop thread: the library would refuse
            if context == "finalizer":
                _reaper.defer_free(self)  # a workaround: see _reaper.py
                return ErrorCode.OK
            return ErrorCode.IN_CALLBACK
        with self.lock:
            if self.ptr is None:
                return ErrorCode.OK
            if self.closing:  # another thread is freeing it: wait for it
                while self.ptr is not None and self.closing:
                    self.idle.wait()
                return ErrorCode.OK
            self.closing = True
            while self.users:
                self.idle.wait()
            ptr = self.ptr
        rc = int(lib.lifeline_client_free(ptr))
        with self.lock:
            self.closing = False
            if rc == ErrorCode.OK:
                self.ptr = None
                self.cfuncs = None  # no callback fires any more
            self.idle.notify_all()
        if rc == ErrorCode.OK:
            _live.discard(self)
            self.sink.finish()
            if self.loop is not None:
                self.loop.detach()
        return rc
