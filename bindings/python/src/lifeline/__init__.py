"""lifeline: keeps a point-of-sale or kiosk app connected to its server over
WebSocket. A Python binding (ctypes) of the liblifeline C SDK.

    import lifeline

    def on_state(old: lifeline.State, new: lifeline.State,
                 info: lifeline.StateInfo) -> None:
        print(f"{old} -> {new}: {info.reason}")

    with lifeline.Client("ws://127.0.0.1:8080/ws?store=12&user=till-3",
                         on_state=on_state, on_message=print,
                         base_delay_ms=1000, max_attempts=8) as client:
        client.send('{"type":"echo","data":"hello"}')
        ...

The library is found through $LIFELINE_LIBRARY, pkg-config, or the dynamic
loader's search path (see the README).
"""
from ._client import Client, EventStream
from ._ffi import LIBRARY_ENV, LibraryNotFound
from ._ffi import lib as _lib
from ._loop import Loop
from ._options import default_options, outbox_check
from ._types import (
    AckedEvent,
    DroppedIdEvent,
    ConfigError,
    Delivery,
    DroppedEvent,
    Durability,
    ErrorCode,
    Event,
    JitterMode,
    LifelineError,
    LogLevel,
    MessageEvent,
    NotifyEvent,
    NotifyInfo,
    PongEvent,
    Quality,
    QualityEvent,
    QueuePolicy,
    ResumedEvent,
    RetryEvent,
    State,
    StateEvent,
    StateInfo,
    Stats,
    error_name,
    strerror,
)

#: The binding's version: the lifeline release it belongs to, the same as
#: meson.build's project(version:) (the unit test "version",
#: tests/unit/check_version.py, checks it); pyproject.toml reads it from here.
__version__ = "0.1.0"

#: The version of the liblifeline that was loaded, e.g. "0.1.0".
library_version: str = _lib.lifeline_version().decode()

#: The path of the liblifeline that was loaded.
library_path: str = _lib._name

__all__ = [
    "AckedEvent",
    "DroppedIdEvent",
    "Client",
    "ConfigError",
    "Delivery",
    "DroppedEvent",
    "Durability",
    "ErrorCode",
    "Event",
    "EventStream",
    "JitterMode",
    "LIBRARY_ENV",
    "LibraryNotFound",
    "LifelineError",
    "LogLevel",
    "Loop",
    "MessageEvent",
    "NotifyEvent",
    "NotifyInfo",
    "PongEvent",
    "Quality",
    "QualityEvent",
    "QueuePolicy",
    "ResumedEvent",
    "RetryEvent",
    "State",
    "StateEvent",
    "StateInfo",
    "Stats",
    "default_options",
    "error_name",
    "library_path",
    "library_version",
    "outbox_check",
    "strerror",
]
