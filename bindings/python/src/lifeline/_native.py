"""The C handles and their lifetime: _ClientNative owns a lifeline_client,
_LoopNative a lifeline_loop; what is still open at exit is freed then.

Ownership, in one picture::

    Client ──> _ClientNative ──> lifeline_client *       (freed by close())
                    │  └──> Sink: the Python callbacks and event streams
                    │       (registered under user_data until freed)
                    └──> _LoopNative of a shared lifeline.Loop (optional)

The callbacks (one table in _callbacks.py) reach the Sink, never the Client,
so that dropping the last reference to a Client frees the C client at once
(through ``__del__``) on any thread, its own loop thread included: there
lifeline_client_free() and lifeline_loop_free() return at once and complete
after the callback running returns (lifeline.h).

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
from typing import TYPE_CHECKING, Any, Optional

from . import _callbacks, _ffi
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
        # On the loop's own thread (in a callback) the library frees it once
        # the callback returns.
        rc = int(lib.lifeline_loop_free(ptr))
        if rc == ErrorCode.OK:
            with self.lock:
                self.ptr = None
            _live.discard(self)
        return rc


class _ClientNative:
    """Owns one lifeline_client and what C calls back into.

    Methods ``use()`` the pointer; ``free()`` frees it only once no other
    thread is inside a call with it. lifeline.h makes that the application's
    job ("not to call anything on the client, from any thread, once the free
    has begun": a send racing the free uses freed memory, even when the free
    was asked from a callback and completes after it), so this counting is
    what keeps a Python program from making the library touch a freed client.

    From a callback on the client's loop thread free() never waits: should
    another thread be inside a call (a stop() waiting for this very loop
    thread, say), the client goes quiet at once and the last call to leave
    frees it.
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
        self.free_pending = False  # the last done() frees (see free())
        cfg = config.cfg
        # The Sink stays registered exactly as long as the C client lives.
        self.key = _callbacks.install(sink, cfg)
        try:
            config.raise_for(lib.lifeline_config_validate(ctypes.byref(cfg)), "Client")
        except BaseException:
            _callbacks.uninstall(self.key)
            raise
        out = ctypes.c_void_p()
        if self.loop is not None:
            self.loop.attach()
        rc = lib.lifeline_client_new(ctypes.byref(cfg), ctypes.byref(out))
        if rc:
            if self.loop is not None:
                self.loop.detach()
            _callbacks.uninstall(self.key)
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
            if self.users:
                return
            self.idle.notify_all()
            if not self.free_pending:
                return
            self.free_pending = False
            ptr = self.ptr
        self._free(ptr)  # asked for from a callback while this call ran

    def free(self, context: str) -> int:
        """lifeline_client_free(); returns its lifeline_error (LIFELINE_OK:
        the library's free returns nothing else)."""
        in_callback = _callbacks.loop_key_here() is self.sink.loop_key
        with self.lock:
            if self.ptr is None:
                return ErrorCode.OK
            if self.closing:
                if in_callback:  # the free under way waits for this thread
                    return ErrorCode.OK
                while self.ptr is not None and self.closing:
                    self.idle.wait()  # another thread is freeing it
                return ErrorCode.OK
            self.closing = True
            if in_callback and self.users:
                # Waiting here would hold up the loop the other call may be
                # waiting for: quiet now, freed when that call leaves.
                self.free_pending = True
                self.sink.finish()
                return ErrorCode.OK
            while self.users:
                self.idle.wait()
            ptr = self.ptr
        return self._free(ptr)

    def _free(self, ptr: Optional[int]) -> int:
        """lifeline_client_free(ptr), no other call being inside the client.
        From a callback on its loop thread it returns at once and no callback
        of the client starts afterwards (lifeline.h)."""
        rc = int(lib.lifeline_client_free(ptr))
        with self.lock:
            self.closing = False
            if rc == ErrorCode.OK:
                self.ptr = None
            self.idle.notify_all()
        if rc == ErrorCode.OK:
            _callbacks.uninstall(self.key)
            _live.discard(self)
            self.sink.finish()
            if self.loop is not None:
                self.loop.detach()
        return rc
