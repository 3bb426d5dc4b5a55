"""Client's keyword options: each sets the lifeline_config field of its
name (OPTIONS), checked for type here and for value by the library
(lifeline_config_check(), which also names the bad field)."""
from __future__ import annotations

import ctypes
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from . import _ffi
from ._loop import Loop
from ._native import _LoopNative
from ._types import (
    DELIVERIES,
    JITTER_MODES,
    QUEUE_POLICIES,
    ConfigError,
    Durability,
    ErrorCode,
    LifelineError,
    LogLevel,
    error_name,
)

lib = _ffi.lib

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
    "delivery": ("delivery", "delivery"),
    "outbox_path": ("outbox_path", _PATH),
    "outbox_durability": ("outbox_durability", "durability"),
    "ack_every": ("ack_every", _INT),
    "ack_delay_ms": ("ack_delay_ms", _INT),
    "fallback_urls": ("fallback_urls", "urls"),
    "watch_network": ("watch_network", _BOOL),
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
    return int(value)  # int(): mypy >= 1.20 still sees an Any here (no-any-return)


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


def _durability(name: str, value: Any) -> int:
    """outbox_durability=: a Durability, or its name in lower case. Which
    values are valid is the library's to say (lifeline_config_check())."""
    if isinstance(value, str):
        members = {m.name.lower(): m for m in Durability}
        if value not in members:
            raise ConfigError(ErrorCode.CONFIG_DELIVERY, name,
                              f"{value!r} is not one of {sorted(members)}")
        return int(members[value])
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected a lifeline.Durability, got {type(value).__name__}")
    return _cint(name, value, INT_MAX, INT_MIN)


def outbox_check(path: Union[str, bytes, "os.PathLike[str]"]) -> None:
    """Check an outbox file as Client() opens it, without keeping it open
    (lifeline_outbox_check()). Returns None for a valid outbox, or when there
    is no file (one would be created); raises LifelineError OUTBOX_OPEN or
    OUTBOX_CORRUPT whose ``detail`` says what is wrong, the path included."""
    raw = _cstr("path", path, path=True)
    why = ctypes.create_string_buffer(512)
    rc = lib.lifeline_outbox_check(raw, why, len(why))
    if rc:
        raise LifelineError(rc, "outbox_check", why.value.decode("utf-8", "replace"))


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
        elif kind == "delivery":
            out[key] = DELIVERIES[raw]
        elif kind == "durability":
            out[key] = Durability(raw)
        elif kind == _BOOL:
            out[key] = bool(raw)
        elif kind in (_STR, _PATH):
            out[key] = None if raw is None else raw.decode()
        elif kind in ("headers", "labels"):
            out[key] = {}
        elif kind == "urls":
            out[key] = []
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
        elif kind == "delivery":
            cfg.delivery = _enum_index(key, value, DELIVERIES, ErrorCode.CONFIG_DELIVERY)
        elif kind == "durability":
            cfg.outbox_durability = _durability(key, value)
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
        elif kind == "urls":
            if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
                raise TypeError(f"{key}: expected a list of str, got {type(value).__name__}")
            urls = [_cstr(key, u) for u in value]
            arr = self._keep((ctypes.c_char_p * max(len(urls), 1))(*urls))
            self.keep.extend(urls)
            cfg.fallback_urls = ctypes.cast(arr, ctypes.POINTER(ctypes.c_char_p))
            cfg.fallback_url_count = len(urls)
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
        if code in (ErrorCode.OUTBOX_OPEN, ErrorCode.OUTBOX_CORRUPT) and self.cfg.outbox_path:
            # lifeline_client_new() says what; lifeline_outbox_check() why
            try:
                outbox_check(self.cfg.outbox_path)
            except LifelineError as e:
                raise LifelineError(code, context, e.detail) from None
        raise LifelineError(code, context)


# ---- the public classes -------------------------------------------------------
