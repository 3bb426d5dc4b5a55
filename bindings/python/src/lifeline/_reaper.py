"""A workaround, kept apart so that it can be deleted in one commit: frees,
on a thread of its own, the handles whose last Python reference died on
their own loop thread.

lifeline_client_free() returns LIFELINE_ERR_IN_CALLBACK on the client's loop
thread, and lifeline_loop_free() on the loop's own thread; yet a finalizer
(``__del__``) runs there whenever the garbage collector happens to run inside
a callback. Such a handle is handed here instead of being freed.

What makes it unnecessary: lifeline_client_free() (and lifeline_loop_free())
allowed from a callback, the free deferred until the callback returns
(STYLE.md, "Freeing from a callback is allowed": hiredis's redisAsyncFree()).
Then delete this module and its three uses in _native.py: the two
``_reaper.defer_free(self)`` in ``_ClientNative.free()`` and
``_LoopNative.free()`` (the finalizer frees at once, on any thread), and
``_reaper.drain()`` in the atexit hook. Should the deferred free cover clients
only, the loop's use stays.
"""
from __future__ import annotations

import logging
import queue
import threading
from typing import Any, Optional

log = logging.getLogger("lifeline")


class _Reaper:
    def __init__(self) -> None:
        self.q: "queue.Queue[Any]" = queue.Queue()
        self.thread: Optional[threading.Thread] = None
        self.lock = threading.Lock()

    def put(self, native: Any) -> None:
        self.q.put(native)
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, name="lifeline-reaper", daemon=True
                )
                self.thread.start()

    def _run(self) -> None:
        while True:
            self._free(self.q.get())

    def drain(self) -> None:
        while True:
            try:
                native = self.q.get_nowait()
            except queue.Empty:
                return
            self._free(native)

    @staticmethod
    def _free(native: Any) -> None:
        try:
            native.free("finalizer")
        except BaseException:
            log.exception("lifeline: freeing a dropped handle failed")


_reaper = _Reaper()


def defer_free(native: Any) -> None:
    """native.free("finalizer") soon, on the reaper's thread (started on
    first use). native is a _ClientNative or a _LoopNative."""
    _reaper.put(native)


def drain() -> None:
    """Free here and now what is waiting (at exit)."""
    _reaper.drain()
