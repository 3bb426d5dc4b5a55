"""Enums, event dataclasses and exceptions of the Python surface.

The string values of State, Quality, JitterMode, QueuePolicy and Delivery are
asked of the C library when the module is imported (lifeline_state_name() and
friends, for the C value each member stands for): the names are the
library's, never a copy of them. ErrorCode is a typed mirror of the C
values, like the struct mirrors in _ffi; ``_check_names()`` compares its
names with lifeline_error_name() at import, so a library that renumbered one
fails at import, not later.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Union

from . import _ffi


def _state(value: int) -> str:
    return _ffi.text(_ffi.lib.lifeline_state_name(value))


def _quality(value: int) -> str:
    return _ffi.text(_ffi.lib.lifeline_quality_name(value))


def _jitter_mode(value: int) -> str:
    return _ffi.text(_ffi.lib.lifeline_jitter_mode_name(value))


def _queue_policy(value: int) -> str:
    return _ffi.text(_ffi.lib.lifeline_queue_policy_name(value))


def _delivery(value: int) -> str:
    return _ffi.text(_ffi.lib.lifeline_delivery_name(value))


# Each member is the C value it stands for (the header's numbering), in that
# order; its value is the name the library gives that C value.


class State(str, enum.Enum):
    """lifeline_state; the values are the names lifeline_state_name() gives."""

    IDLE = _state(0)
    CONNECTING = _state(1)
    CONNECTED = _state(2)
    DISCONNECTED = _state(3)
    ERROR = _state(4)
    SERVER_DOWN = _state(5)
    CLOSED = _state(6)

    def __str__(self) -> str:
        return self.value


class Quality(str, enum.Enum):
    """lifeline_quality; the values are the names lifeline_quality_name() gives."""

    UNKNOWN = _quality(0)
    EXCELLENT = _quality(1)
    GOOD = _quality(2)
    POOR = _quality(3)

    def __str__(self) -> str:
        return self.value


class JitterMode(str, enum.Enum):
    """lifeline_jitter_mode (``jitter_mode=``); the values are the names
    lifeline_jitter_mode_name() gives."""

    ADDITIVE = _jitter_mode(0)
    FULL = _jitter_mode(1)

    def __str__(self) -> str:
        return self.value


class QueuePolicy(str, enum.Enum):
    """lifeline_queue_policy (``queue_policy=``); the values are the names
    lifeline_queue_policy_name() gives ("reject" is LIFELINE_QUEUE_REJECT_NEW)."""

    REJECT = _queue_policy(0)
    DROP_OLDEST = _queue_policy(1)
    OFF = _queue_policy(2)

    def __str__(self) -> str:
        return self.value


class Delivery(str, enum.Enum):
    """lifeline_delivery (``delivery=``); the values are the names
    lifeline_delivery_name() gives."""

    BEST_EFFORT = _delivery(0)  # plain WebSocket, any server
    RELIABLE = _delivery(1)  # lifeline.v1: numbered, acknowledged, resent

    def __str__(self) -> str:
        return self.value


class Durability(enum.IntEnum):
    """lifeline_durability (``outbox_durability=``): how an outbox file
    commits. The library has no name function for it, so this is a typed
    mirror of the C values, as ErrorCode is; ``outbox_durability=`` also
    takes the member names in lower case ("normal", "full")."""

    NORMAL = 0  # SQLite WAL, synchronous=NORMAL: survives a crash of the app
    FULL = 1  # synchronous=FULL: a power loss too


class LogLevel(enum.IntEnum):
    """lifeline_log_level (``log_level=``, and the level given to ``on_log``)."""

    ERROR = 0
    WARN = 1
    INFO = 2
    DEBUG = 3


class ErrorCode(enum.IntEnum):
    """lifeline_error: LIFELINE_ERR_<name> = value, as in LIFELINE_ERROR_MAP."""

    OK = 0
    INVALID_ARGUMENT = 1
    NO_MEMORY = 2
    CONFIG_STRUCT_SIZE = 3
    CONFIG_URL = 4
    CONFIG_NEGATIVE = 5
    CONFIG_BASE_DELAY = 6
    CONFIG_MAX_DELAY = 7
    CONFIG_MAX_ATTEMPTS = 8
    CONFIG_JITTER_MODE = 9
    CONFIG_PING_INTERVAL = 10
    CONFIG_PING_TIMEOUT = 11
    CONFIG_DOWN_PING_INTERVAL = 12
    CONFIG_RTT_THRESHOLDS = 13
    CONFIG_HEALTH_URL = 14
    STATE = 15
    CONNECT_TIMEOUT = 16
    DNS = 17
    CONNECTION_REFUSED = 18
    CONNECTION_RESET = 19
    HTTP_STATUS = 20
    TLS = 21
    PING_TIMEOUT = 22
    CLOSED_BY_PEER = 23
    MESSAGE_TOO_BIG = 24
    QUEUE_FULL = 25
    NOT_CONNECTED = 26
    STOPPED = 27
    IN_CALLBACK = 28
    SYSTEM = 29
    TRANSPORT = 30
    PROBE_FAILED = 31
    CONFIG_QUEUE = 32
    CONFIG_HEADER = 33
    CONFIG_CONNECT_TIMEOUT = 34
    CONFIG_LIMITS = 35
    CONFIG_PROXY = 36
    CONFIG_CA_FILE = 37
    CONFIG_LOOP = 38
    PROTOCOL = 39
    CONFIG_WEBHOOK = 40
    ALERTS_OFF = 41
    NOTIFY_GONE = 42
    CONFIG_LABEL = 43
    CONFIG_DEFLATE = 44
    TIMEOUT = 45
    OUTBOX_OPEN = 46
    OUTBOX_CORRUPT = 47
    OUTBOX_IO = 48
    NOT_LIFELINE = 49
    CONFIG_DELIVERY = 50
    CONFIG_FALLBACK_URL = 51


# C value -> enum member, in the C numbering (checked against the library).
STATES = tuple(State)
QUALITIES = tuple(Quality)
JITTER_MODES = tuple(JitterMode)
QUEUE_POLICIES = tuple(QueuePolicy)
DELIVERIES = tuple(Delivery)


def error_name(code: int) -> str:
    """lifeline_error_name(code), e.g. "PING_TIMEOUT"."""
    return _ffi.text(_ffi.lib.lifeline_error_name(code))


def strerror(code: int) -> str:
    """lifeline_strerror(code): one line for people."""
    return _ffi.text(_ffi.lib.lifeline_strerror(code))


def state_from_c(value: int) -> State:
    return STATES[value] if 0 <= value < len(STATES) else State.ERROR


def quality_from_c(value: int) -> Quality:
    return QUALITIES[value] if 0 <= value < len(QUALITIES) else Quality.UNKNOWN


def _check_names() -> None:
    # Every member stands for a value the library has a name for ("unknown"
    # is its answer for a value it does not have, and two members given one
    # name would have become one).
    named: tuple[type[enum.Enum], ...] = (State, Quality, JitterMode, QueuePolicy, Delivery)
    for cls in named:
        names = {key: m.value for key, m in cls.__members__.items()}
        unknown = [key for key, v in names.items() if v == "unknown" and cls is not Quality]
        if unknown or len(set(names.values())) != len(names):
            raise _ffi.LibraryNotFound(
                f"{cls.__name__}: the library names its values {names}"
            )
    for code in ErrorCode:
        if error_name(code) != code.name:
            raise _ffi.LibraryNotFound(
                f"error {int(code)} is {error_name(code)!r} in the library "
                f"but {code.name!r} in this binding"
            )


_check_names()


# ---- exceptions -------------------------------------------------------------


class LifelineError(Exception):
    """A lifeline_error returned by the C library.

    ``code`` is the lifeline_error value (an :class:`ErrorCode` when known),
    ``name`` its lifeline_error_name() and ``message`` its lifeline_strerror();
    ``detail`` what the library said besides, if anything (the reason an
    outbox file was refused, say).
    """

    def __init__(self, code: int, context: str = "", detail: str = "") -> None:
        self.code: Union[ErrorCode, int]
        try:
            self.code = ErrorCode(code)
        except ValueError:
            self.code = code
        self.name: str = error_name(code)
        self.message: str = strerror(code)
        self.context = context
        self.detail = detail
        prefix = f"{context}: " if context else ""
        suffix = f": {detail}" if detail else ""
        super().__init__(f"{prefix}{self.message}{suffix} (LIFELINE_ERR_{self.name})")


class ConfigError(LifelineError, ValueError):
    """A bad option: a ValueError whose ``option`` is the keyword concerned
    (its message starts with it)."""

    def __init__(self, code: int, option: str, detail: str = "") -> None:
        self.option = option
        super().__init__(code, option, detail)


# ---- what the callbacks and events carry ------------------------------------


@dataclass(frozen=True)
class StateInfo:
    """What a state change carries (lifeline_state_info)."""

    attempt: int
    error: str  # lifeline_error_name(), "OK" when there was no error
    http_status: int
    reason: str
    error_code: int = 0
    # which server: 0 the client's url, k its fallback_urls[k - 1]; and that
    # URL as lifeline_redact_url() shows it
    url_index: int = 0
    url: str = ""


@dataclass(frozen=True)
class NotifyInfo:
    """What became of one alert (lifeline_notify_info)."""

    channel: str
    kind: str
    ok: bool
    http_status: int
    attempts: int
    detail: str


@dataclass(frozen=True)
class StateEvent:
    old: State
    new: State
    info: StateInfo


@dataclass(frozen=True)
class MessageEvent:
    data: Union[str, bytes]  # str for a text message, bytes for a binary one


@dataclass(frozen=True)
class PongEvent:
    rtt_ms: int
    quality: Quality


@dataclass(frozen=True)
class QualityEvent:
    quality: Quality


@dataclass(frozen=True)
class RetryEvent:
    attempt: int
    delay_ms: int
    probe: bool


@dataclass(frozen=True)
class DroppedEvent:
    data: Union[str, bytes]
    reason: str  # "QUEUE_FULL" or "STOPPED"


@dataclass(frozen=True)
class DroppedIdEvent:
    """Reliable delivery: the message with ``id`` will never be acknowledged
    (dropped as the oldest, or held in memory at a stop); a DroppedEvent
    with its data comes just before."""

    id: int
    reason: str  # "QUEUE_FULL" or "STOPPED"


@dataclass(frozen=True)
class NotifyEvent:
    info: NotifyInfo


@dataclass(frozen=True)
class AckedEvent:
    """Reliable delivery: the server has every message up to and including
    ``id`` (the ids send() returned); they have left the outbox."""

    id: int


@dataclass(frozen=True)
class ResumedEvent:
    """Reliable delivery: a connection resumed the session. ``recovered``:
    the server still had everything it sent meanwhile and sends ``replayed``
    messages again now (they come as messages next); False: messages from
    the server may have been lost (the first connection of a new session
    reports False with 0)."""

    recovered: bool
    replayed: int


Event = Union[
    StateEvent, MessageEvent, PongEvent, QualityEvent, RetryEvent, DroppedEvent, NotifyEvent,
    AckedEvent, ResumedEvent, DroppedIdEvent,
]


@dataclass(frozen=True)
class Stats:
    """A consistent snapshot of a client's figures (lifeline_stats)."""

    state: State
    time_in_state_ms: int
    attempt: int
    retry_in_ms: int
    last_error: str
    last_http_status: int
    quality: Quality
    rtt_last_ms: int
    rtt_smoothed_ms: float
    rtt_variation_ms: float
    rtt_min_ms: int
    rtt_max_ms: int
    pongs: int
    ping_timeouts: int
    since_last_pong_ms: int  # -1 before the first pong
    queued_messages: int
    queued_bytes: int
    messages_sent: int
    bytes_sent: int
    messages_received: int
    bytes_received: int
    messages_dropped: int
    reconnections: int
    downtime_ms: int
    last_error_code: int = 0
    # the server answered the close of the last stop() in time
    last_close_answered: bool = False
    # reliable delivery (0 in best-effort mode)
    outbox_messages: int = 0  # held: not yet acknowledged
    outbox_bytes: int = 0
    unacked_messages: int = 0  # of those, written on this connection
    last_acked_id: int = 0  # every id up to it is acknowledged
    resends: int = 0  # messages written again after a resume
    duplicates_dropped: int = 0  # server messages received twice, dropped
    replayed: int = 0  # server messages sent again on resumes
    resumes_recovered: int = 0
    resumes_lost: int = 0  # resumes where the server had lost what it sent
    # the server of the connection or attempt under way, else of the last
    # one: 0 the client's url, k its fallback_urls[k - 1]
    url_index: int = 0
