"""lifeline.Loop: a service thread shared by several clients."""
from __future__ import annotations

from typing import Any

from ._native import _LoopNative
from ._types import LifelineError


class Loop:
    """A service thread shared by several clients (lifeline_loop).

    Pass it as ``loop=`` to each :class:`Client`; close it after them.
    Leaving its ``with`` block, or dropping it, while clients still use it
    frees it once the last of them is freed.
    """

    def __init__(self) -> None:
        self._native = _LoopNative()

    def close(self) -> None:
        """lifeline_loop_free(). Raises LifelineError STATE while a client
        still uses the loop. In a callback on the loop's own thread, once
        every client of the loop is closed (from that callback, say), the
        loop is freed after the callback returns."""
        native = getattr(self, "_native", None)
        if native is None:
            return
        rc = native.free("close")
        if rc:
            raise LifelineError(rc, "Loop.close")

    @property
    def closed(self) -> bool:
        return self._native.ptr is None

    def __enter__(self) -> "Loop":
        return self

    def __exit__(self, *exc: Any) -> None:
        # clients still on the loop: it is freed after the last of them
        rc = self._native.free("exit")
        if rc:
            raise LifelineError(rc, "Loop.__exit__")

    def __del__(self) -> None:
        native = getattr(self, "_native", None)
        if native is not None and native.ptr is not None:
            native.free("finalizer")
