"""lifeline.Client (and its keyword options) on top of the C API; the
handles it owns are in _native.py, its callbacks in _callbacks.py."""
from __future__ import annotations

import asyncio
import ctypes
import os
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Tuple,
    Union,
)

from . import _callbacks, _ffi
from ._callbacks import Data
from ._loop import Loop
from ._native import _ClientNative, _LoopNative
from ._types import (
    JITTER_MODES,
    QUEUE_POLICIES,
    ConfigError,
    ErrorCode,
    Event,
    JitterMode,
    LifelineError,
    LogLevel,
    NotifyInfo,
    Quality,
    QueuePolicy,
    State,
    StateInfo,
    Stats,
    error_name,
    quality_from_c,
    state_from_c,
)

lib = _ffi.lib

# ---- options ------------------------------------------------------------------

INT_MAX = 2**31 - 1
INT_MIN = -(2**31)
SIZE_MAX = 2 ** (8 * ctypes.sizeof(ctypes.c_size_t)) - 1
U64_MAX = 2**64 - 1

# keyword -> (C field, kind)
_INT = "int"
_SIZE = "size"
_U64 = "u64"
_BOOL = "bool"
_STR = "str"
_PATH = "path"
OPTIONS: Dict[str, Tuple[str, str]] = {
    "base_delay_ms": ("base_delay_ms", _INT),
    "max_delay_ms": ("max_delay_ms", _INT),
    "jitter_ms": ("jitter_ms", _INT),
    "jitter_mode": ("jitter_mode", "jitter_mode"),
    "max_attempts": ("max_attempts", _INT),
    "stable_after_ms": ("stable_after_ms", _INT),
    "down_ping_interval_ms": ("down_ping_interval_ms", _INT),
    "health_url": ("health_url", _STR),
    "connect_timeout_ms": ("connect_timeout_ms", _INT),
    "ping_interval_ms": ("ping_interval_ms", _INT),
    "ping_timeout_ms": ("ping_timeout_ms", _INT),
    "rtt_good_ms": ("rtt_good_ms", _INT),
    "rtt_poor_ms": ("rtt_poor_ms", _INT),
    "random_seed": ("random_seed", _U64),
    "headers": ("headers", "headers"),
    "subprotocol": ("subprotocol", _STR),
    "origin": ("origin", _STR),
    "permessage_deflate": ("permessage_deflate", _BOOL),
    "http_proxy": ("http_proxy", _STR),
    "ca_file": ("ca_file", _PATH),
    "allow_insecure_tls": ("allow_insecure_tls", _BOOL),
    "app_ping": ("app_ping", _BOOL),
    "max_message_bytes": ("max_message_bytes", _SIZE),
    "queue_policy": ("queue_policy", "queue_policy"),
    "queue_max_messages": ("queue_max_messages", _SIZE),
    "queue_max_bytes": ("queue_max_bytes", _SIZE),
    "loop": ("loop", "loop"),
    "discord_webhook": ("discord_webhook_url", _STR),
    "discord_webhook_url": ("discord_webhook_url", _STR),
    "alert_labels": ("alert_labels", "labels"),
    "alert_min_interval_ms": ("alert_min_interval_ms", _INT),
    "alert_username": ("alert_username", _STR),
    "log_level": ("log_level", "log_level"),
}

# Which field a config error is about is lifeline_config_check()'s answer
# (see _Config.option_for); here only the keyword of a C field, where they
# differ (a keyword the caller used wins).
_FIELD_OPTION: Dict[str, str] = {
    "discord_webhook_url": "discord_webhook",
}

# log_level= by name: lifeline_log_level_name() of each level, and "warning".
_LOG_LEVEL_NAMES: Dict[str, LogLevel] = {
    _ffi.text(lib.lifeline_log_level_name(level)): level for level in LogLevel
}
_LOG_LEVEL_NAMES["warning"] = LogLevel.WARN


def _cstr(name: str, value: Any, path: bool = False) -> bytes:
    if path and isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        b = value.encode("utf-8")
    elif path and isinstance(value, bytes):
        b = value
    else:
        raise TypeError(f"{name}: expected str, got {type(value).__name__}")
    if b"\0" in b:
        raise ValueError(f"{name}: contains a NUL character")
    return b


def _cint(name: str, value: Any, maximum: int, minimum: int = 0) -> int:
    """value for a C integer field. An int field takes a negative value, and
    the library refuses it (naming the field); an unsigned one cannot hold
    one, so it is refused here with the library's error for it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected int, got {type(value).__name__}")
    if value < 0 and minimum == 0:
        raise ConfigError(ErrorCode.CONFIG_NEGATIVE, name, f"got {value}")
    if value < minimum:
        raise ValueError(f"{name}: {value} is smaller than {minimum}")
    if value > maximum:
        raise ValueError(f"{name}: {value} is larger than {maximum}")
    return value


def _enum_index(name: str, value: Any, members: Tuple[Any, ...], code: int) -> int:
    for i, m in enumerate(members):
        if value is m or (isinstance(value, str) and value == m.value):
            return i
    choices = ", ".join(repr(m.value) for m in members)
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected one of {choices}, got {type(value).__name__}")
    raise ConfigError(code, name, f"{value!r} is not one of {choices}")


def _lines(name: str, value: Any, code: int) -> List[bytes]:
    """headers= / alert_labels=: a mapping or "Name: value" strings."""
    if isinstance(value, Mapping):
        out = []
        for k, v in value.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError(f"{name}: names and values must be str")
            if not k or ":" in k or k != k.strip():
                raise ConfigError(code, name, f"bad name {k!r}")
            out.append(_cstr(name, f"{k}: {v}"))
        return out
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f'{name}: expected a dict or a list of "Name: value" str')
    return [_cstr(name, line) for line in value]


def default_options() -> Dict[str, Any]:
    """The library's defaults (lifeline_config_init()) by keyword."""
    cfg = _ffi.new_config()
    out: Dict[str, Any] = {}
    for key, (field, kind) in OPTIONS.items():
        if key == "discord_webhook_url":
            continue
        raw = getattr(cfg, field)
        if kind == "jitter_mode":
            out[key] = JITTER_MODES[raw]
        elif kind == "queue_policy":
            out[key] = QUEUE_POLICIES[raw]
        elif kind == "log_level":
            out[key] = LogLevel(raw)
        elif kind == _BOOL:
            out[key] = bool(raw)
        elif kind in (_STR, _PATH):
            out[key] = None if raw is None else raw.decode()
        elif kind in ("headers", "labels"):
            out[key] = {}
        elif kind == "loop":
            out[key] = None
        else:
            out[key] = raw
    return out


class _Config:
    """A lifeline_config and everything it points to, kept alive together."""

    def __init__(self, url: str, options: Dict[str, Any]) -> None:
        self.cfg = _ffi.new_config()
        self.keep: List[Any] = []  # what the config points to
        self.given = dict(options)
        self.loop_native: Optional[_LoopNative] = None
        self.cfg.url = self._keep(_cstr("url", url))
        if "discord_webhook" in options and "discord_webhook_url" in options:
            raise TypeError("give discord_webhook or discord_webhook_url, not both")
        for key, value in options.items():
            if value is None:
                continue
            field, kind = OPTIONS[key]
            self._set(key, field, kind, value)

    def _keep(self, obj: Any) -> Any:
        self.keep.append(obj)
        return obj

    def _set(self, key: str, field: str, kind: str, value: Any) -> None:
        cfg = self.cfg
        if kind == _INT:
            setattr(cfg, field, _cint(key, value, INT_MAX, INT_MIN))
        elif kind == _SIZE:
            setattr(cfg, field, _cint(key, value, SIZE_MAX))
        elif kind == _U64:
            setattr(cfg, field, _cint(key, value, U64_MAX))
        elif kind == _BOOL:
            if not isinstance(value, (bool, int)):
                raise TypeError(f"{key}: expected bool, got {type(value).__name__}")
            setattr(cfg, field, 1 if value else 0)
        elif kind in (_STR, _PATH):
            setattr(cfg, field, self._keep(_cstr(key, value, path=kind == _PATH)))
        elif kind == "jitter_mode":
            cfg.jitter_mode = _enum_index(key, value, JITTER_MODES, ErrorCode.CONFIG_JITTER_MODE)
        elif kind == "queue_policy":
            cfg.queue_policy = _enum_index(key, value, QUEUE_POLICIES, ErrorCode.CONFIG_QUEUE)
        elif kind == "log_level":
            if isinstance(value, str):
                if value.lower() not in _LOG_LEVEL_NAMES:
                    raise ValueError(f"{key}: {value!r} is not one of {sorted(_LOG_LEVEL_NAMES)}")
                value = _LOG_LEVEL_NAMES[value.lower()]
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{key}: expected a lifeline.LogLevel, got {value!r}")
            if value not in tuple(LogLevel):
                raise ValueError(f"{key}: {value!r} is not a lifeline.LogLevel")
            cfg.log_level = int(value)
        elif kind in ("headers", "labels"):
            code = ErrorCode.CONFIG_HEADER if kind == "headers" else ErrorCode.CONFIG_LABEL
            lines = _lines(key, value, code)
            arr = self._keep((ctypes.c_char_p * max(len(lines), 1))(*lines))
            self.keep.extend(lines)
            if kind == "headers":
                cfg.headers = ctypes.cast(arr, ctypes.POINTER(ctypes.c_char_p))
                cfg.header_count = len(lines)
            else:
                cfg.alert_labels = ctypes.cast(arr, ctypes.POINTER(ctypes.c_char_p))
                cfg.alert_label_count = len(lines)
        elif kind == "loop":
            if not isinstance(value, Loop):
                raise TypeError(f"{key}: expected a lifeline.Loop, got {type(value).__name__}")
            ln = value._native
            if ln.ptr is None:
                raise ConfigError(ErrorCode.CONFIG_LOOP, key, "the loop is closed")
            self.loop_native = ln
            cfg.loop = ln.ptr
        else:  # pragma: no cover - OPTIONS and _set go together
            raise AssertionError(kind)

    def option_for(self, code: int) -> str:
        """The keyword a config error concerns: the field the library's
        lifeline_config_check() names ("options" when it names none)."""
        name = ctypes.c_char_p()
        if lib.lifeline_config_check(ctypes.byref(self.cfg), ctypes.byref(name)) != code:
            return "options"
        field = _ffi.text(name.value)
        if not field:
            return "options"
        return _FIELD_OPTION.get(field, field) if field not in self.given else field

    def raise_for(self, code: int, context: str) -> None:
        if code == ErrorCode.OK:
            return
        name = error_name(code)
        if name.startswith("CONFIG_") and code != ErrorCode.CONFIG_STRUCT_SIZE:
            raise ConfigError(code, self.option_for(code))
        raise LifelineError(code, context)


# ---- the public classes -------------------------------------------------------


class Client:
    """One connection to one server (lifeline_client).

    ``url`` is a ws:// or wss:// URL; every keyword option is named like the
    lifeline_config field it sets (None keeps the library's default, see
    :func:`default_options`). Callbacks run on the library's loop thread, one
    at a time; exceptions they raise are logged on the "lifeline" logger.

    Use it as a context manager (``with Client(url) as c:`` starts it and
    stops and frees it on exit), or call :meth:`close`; a client that is
    dropped is freed by its finalizer.
    """

    def __init__(
        self,
        url: str,
        *,
        on_state: Optional[Callable[[State, State, StateInfo], Any]] = None,
        on_message: Optional[Callable[[Data], Any]] = None,
        on_pong: Optional[Callable[[int, Quality], Any]] = None,
        on_quality: Optional[Callable[[Quality], Any]] = None,
        on_retry: Optional[Callable[[int, int, bool], Any]] = None,
        on_dropped: Optional[Callable[[Data, str], Any]] = None,
        on_log: Optional[Callable[[LogLevel, str], Any]] = None,
        on_notify: Optional[Callable[[NotifyInfo], Any]] = None,
        base_delay_ms: Optional[int] = None,
        max_delay_ms: Optional[int] = None,
        jitter_ms: Optional[int] = None,
        jitter_mode: Union[JitterMode, str, None] = None,
        max_attempts: Optional[int] = None,
        stable_after_ms: Optional[int] = None,
        down_ping_interval_ms: Optional[int] = None,
        health_url: Optional[str] = None,
        connect_timeout_ms: Optional[int] = None,
        ping_interval_ms: Optional[int] = None,
        ping_timeout_ms: Optional[int] = None,
        rtt_good_ms: Optional[int] = None,
        rtt_poor_ms: Optional[int] = None,
        random_seed: Optional[int] = None,
        headers: Union[Mapping[str, str], Iterable[str], None] = None,
        subprotocol: Optional[str] = None,
        origin: Optional[str] = None,
        permessage_deflate: Optional[bool] = None,
        http_proxy: Optional[str] = None,
        ca_file: Union[str, "os.PathLike[str]", None] = None,
        allow_insecure_tls: Optional[bool] = None,
        app_ping: Optional[bool] = None,
        max_message_bytes: Optional[int] = None,
        queue_policy: Union[QueuePolicy, str, None] = None,
        queue_max_messages: Optional[int] = None,
        queue_max_bytes: Optional[int] = None,
        loop: Optional[Loop] = None,
        discord_webhook: Optional[str] = None,
        discord_webhook_url: Optional[str] = None,
        alert_labels: Union[Mapping[str, str], Iterable[str], None] = None,
        alert_min_interval_ms: Optional[int] = None,
        alert_username: Optional[str] = None,
        log_level: Union[LogLevel, str, int, None] = None,
    ) -> None:
        args = dict(locals())
        callbacks = {k: args.pop(k) for k in _callbacks.NAMES}
        for name, fn in callbacks.items():
            if fn is not None and not callable(fn):
                raise TypeError(f"{name}: expected a callable, got {type(fn).__name__}")
        options = {k: args[k] for k in OPTIONS if args[k] is not None}
        self._url = url
        self._loop = loop
        config = _Config(url, options)
        self._native = _ClientNative(config, _callbacks.Sink(callbacks))

    # -- lifecycle
    def _call(self, what: str, fn: Callable[..., int], *args: Any) -> int:
        native = self._native
        ptr = native.use(what)
        try:
            return fn(ptr, *args)
        finally:
            native.done()

    def _check(self, what: str, fn: Callable[..., int], *args: Any) -> None:
        rc = self._call(what, fn, *args)
        if rc:
            raise LifelineError(rc, what)

    def start(self) -> None:
        """Start connecting (from idle), or again (from error or closed).
        Raises LifelineError STATE when already running."""
        self._check("start", lib.lifeline_client_start)

    def stop(self, timeout_ms: int = -1) -> None:
        """Close with 1000 and end in closed; what is still queued goes to
        on_dropped. Waits at most timeout_ms for the server's answer (< 0:
        2000 ms), except from a callback, where it returns at once."""
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int):
            raise TypeError("timeout_ms: expected int")
        timeout_ms = max(min(timeout_ms, INT_MAX), -1)
        self._check("stop", lib.lifeline_client_stop, timeout_ms)

    def close(self) -> None:
        """Stop and free the client (lifeline_client_free). Idempotent.
        Raises LifelineError IN_CALLBACK from the client's own callbacks."""
        native = getattr(self, "_native", None)
        if native is None:
            return
        rc = native.free("close")
        if rc:
            raise LifelineError(rc, "close")

    @property
    def closed(self) -> bool:
        """True once the client is freed."""
        return self._native.ptr is None

    def __enter__(self) -> "Client":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    async def aclose(self) -> None:
        """close() in a worker thread, so the asyncio loop keeps running
        while the library waits for the server to answer the close."""
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    async def __aenter__(self) -> "Client":
        self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    def __del__(self) -> None:
        native = getattr(self, "_native", None)
        if native is None or native.ptr is None:
            return
        try:
            native.free("finalizer")
        except BaseException:
            pass

    def __repr__(self) -> str:
        return f"<lifeline.Client {self._url!r} {self.state.value}>"

    # -- traffic
    def send(self, data: Union[str, bytes, bytearray, memoryview]) -> None:
        """Send one message: str as text, bytes-like as binary. Copied; while
        not connected it waits in the offline queue. Raises LifelineError
        (MESSAGE_TOO_BIG, QUEUE_FULL, NOT_CONNECTED, STOPPED)."""
        if isinstance(data, str):
            raw, binary = data.encode("utf-8"), 0
        elif isinstance(data, (bytes, bytearray, memoryview)):
            raw, binary = bytes(data), 1
        else:
            raise TypeError(f"send: expected str or bytes, got {type(data).__name__}")
        self._check("send", lib.lifeline_client_send, raw, len(raw), binary)

    def reconnect_now(self) -> None:
        """Skip the current wait. Raises LifelineError STATE when idle or
        closed."""
        self._check("reconnect_now", lib.lifeline_client_reconnect_now)

    def alert(self, title: str, text: str) -> None:
        """Send an alert now through the alert channel; the result comes to
        on_notify. Raises LifelineError ALERTS_OFF, QUEUE_FULL, NOTIFY_GONE."""
        self._check(
            "alert",
            lib.lifeline_client_alert,
            _cstr("title", title),
            _cstr("text", text),
        )

    # -- figures
    @property
    def state(self) -> State:
        """The current state (State.CLOSED once the client is freed)."""
        native = self._native
        try:
            ptr = native.use("state")
        except LifelineError:
            return State.CLOSED
        try:
            return state_from_c(lib.lifeline_client_state(ptr))
        finally:
            native.done()

    @property
    def url(self) -> str:
        return self._url

    @property
    def loop(self) -> Optional[Loop]:
        return self._loop

    def stats(self) -> Stats:
        """A consistent snapshot of the client's figures (lifeline_stats)."""
        # the library writes exactly sizeof(Stats_c) bytes (zero for fields
        # it does not have, should it be older than the mirror)
        s = _ffi.Stats_c()
        self._check("stats", lib.lifeline_client_stats_sized, ctypes.byref(s),
                    ctypes.sizeof(s))
        return Stats(
            state=state_from_c(s.state),
            time_in_state_ms=s.time_in_state_ms,
            attempt=s.attempt,
            retry_in_ms=s.retry_in_ms,
            last_error=error_name(s.last_error),
            last_http_status=s.last_http_status,
            quality=quality_from_c(s.quality),
            rtt_last_ms=s.rtt_last_ms,
            rtt_smoothed_ms=s.rtt_smoothed_ms,
            rtt_variation_ms=s.rtt_variation_ms,
            rtt_min_ms=s.rtt_min_ms,
            rtt_max_ms=s.rtt_max_ms,
            pongs=s.pongs,
            ping_timeouts=s.ping_timeouts,
            since_last_pong_ms=s.since_last_pong_ms,
            queued_messages=s.queued_messages,
            queued_bytes=s.queued_bytes,
            messages_sent=s.messages_sent,
            bytes_sent=s.bytes_sent,
            messages_received=s.messages_received,
            bytes_received=s.bytes_received,
            messages_dropped=s.messages_dropped,
            reconnections=s.reconnections,
            downtime_ms=s.downtime_ms,
            last_error_code=s.last_error,
        )

    # -- asyncio
    def events(self) -> "EventStream":
        """The client's events on the running asyncio loop::

            async for event in client.events():
                ...

        Call it from a coroutine. Events are collected from this call on (so
        call it before start() to see the first state change); the iteration
        ends when the client is closed.
        """
        return EventStream(self)


class EventStream:
    """An async iterator of a client's events (see :meth:`Client.events`).

    Handed over from the C loop thread with ``call_soon_threadsafe`` into an
    asyncio.Queue. It keeps its client alive; ``aclose()`` (or leaving an
    ``async with``) stops collecting.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self._sink = client._native.sink
        self._sub = _callbacks.Subscription(asyncio.get_running_loop())
        self._done = False
        self._sink.subscribe(self._sub)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        if self._done:
            raise StopAsyncIteration
        item = await self._sub.queue.get()
        if item is _callbacks.END:
            self._finish()
            raise StopAsyncIteration
        return item  # type: ignore[no-any-return]

    async def get(self, timeout: Optional[float] = None) -> Event:
        """The next event; asyncio.TimeoutError after timeout seconds,
        StopAsyncIteration once the client is closed."""
        return await asyncio.wait_for(self.__anext__(), timeout)

    def _finish(self) -> None:
        self._done = True
        self._sink.unsubscribe(self._sub)

    async def aclose(self) -> None:
        self._finish()

    async def __aenter__(self) -> "EventStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._finish()
