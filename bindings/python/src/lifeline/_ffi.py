"""The C side: finding liblifeline, the ctypes mirror of its public structs,
and the prototypes of the exported ``lifeline_*`` functions.

Only ``<lifeline/lifeline.h>`` is mirrored here; nothing in the library's
sources is relied upon. ctypes was chosen over cffi because it is in the
standard library: installing the package needs no compiler and no other
package, and the library is opened at import time like any ``dlopen``.

Every foreign call goes through ``ctypes.CDLL``, which releases the GIL for
the duration of the call: the library's loop thread needs the GIL to run the
Python callbacks, and several functions (``lifeline_client_stop``,
``lifeline_client_free``) wait for that thread.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_double,
    c_int,
    c_int64,
    c_size_t,
    c_uint,
    c_uint64,
    c_void_p,
)
from typing import Any, List, Optional

#: The environment variable naming the library to load (a full path).
LIBRARY_ENV = "LIFELINE_LIBRARY"

#: The ABI this binding mirrors: soname major and header version.
ABI_MAJOR = 0
HEADER_VERSION = (0, 1, 0)

#: Where a wheel built with meson-python (the repository's root
#: pyproject.toml) puts its own copy of the library: lifeline/_lib/, next to
#: this module. The package of bindings/python/pyproject.toml has none.
BUNDLED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_lib")


class LibraryNotFound(ImportError):
    """liblifeline could not be found or does not match this binding."""


# ---- callbacks (lifeline.h: "Handles and callbacks") ------------------------


class StateInfo_c(Structure):
    _fields_ = [
        ("old_state", c_int),
        ("new_state", c_int),
        ("attempt", c_int),
        ("error", c_int),
        ("http_status", c_int),
        ("reason", c_char_p),
        # fallback servers (appended in 0.2)
        ("url_index", c_int),
        ("url", c_char_p),
    ]


class NotifyInfo_c(Structure):
    _fields_ = [
        ("channel", c_char_p),
        ("kind", c_char_p),
        ("ok", c_int),
        ("http_status", c_int),
        ("attempts", c_int),
        ("detail", c_char_p),
    ]


STATE_CB = CFUNCTYPE(None, c_void_p, POINTER(StateInfo_c), c_void_p)
MESSAGE_CB = CFUNCTYPE(None, c_void_p, c_void_p, c_size_t, c_int, c_void_p)
PONG_CB = CFUNCTYPE(None, c_void_p, c_int64, c_int, c_void_p)
QUALITY_CB = CFUNCTYPE(None, c_void_p, c_int, c_void_p)
RETRY_CB = CFUNCTYPE(None, c_void_p, c_int, c_int64, c_int, c_void_p)
DROPPED_CB = CFUNCTYPE(None, c_void_p, c_void_p, c_size_t, c_int, c_int, c_void_p)
LOG_CB = CFUNCTYPE(None, c_void_p, c_int, c_char_p, c_void_p)
NOTIFY_CB = CFUNCTYPE(None, c_void_p, POINTER(NotifyInfo_c), c_void_p)
ACKED_CB = CFUNCTYPE(None, c_void_p, c_uint64, c_void_p)
RESUMED_CB = CFUNCTYPE(None, c_void_p, c_int, c_uint64, c_void_p)
DROPPED_ID_CB = CFUNCTYPE(None, c_void_p, c_uint64, c_int, c_void_p)


# ---- lifeline_config: field for field, in the header's order ----------------


class Config_c(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("url", c_char_p),
        # reconnection
        ("base_delay_ms", c_int),
        ("max_delay_ms", c_int),
        ("jitter_ms", c_int),
        ("jitter_mode", c_int),
        ("max_attempts", c_int),
        ("stable_after_ms", c_int),
        ("down_ping_interval_ms", c_int),
        ("health_url", c_char_p),
        ("connect_timeout_ms", c_int),
        # heartbeat and quality
        ("ping_interval_ms", c_int),
        ("ping_timeout_ms", c_int),
        ("rtt_good_ms", c_int),
        ("rtt_poor_ms", c_int),
        ("random_seed", c_uint64),
        # transport
        ("headers", POINTER(c_char_p)),
        ("header_count", c_size_t),
        ("subprotocol", c_char_p),
        ("origin", c_char_p),
        ("permessage_deflate", c_int),
        ("http_proxy", c_char_p),
        ("ca_file", c_char_p),
        ("allow_insecure_tls", c_int),
        ("app_ping", c_int),
        ("max_message_bytes", c_size_t),
        # offline queue
        ("queue_policy", c_int),
        ("queue_max_messages", c_size_t),
        ("queue_max_bytes", c_size_t),
        # threads
        ("loop", c_void_p),
        # alerts
        ("discord_webhook_url", c_char_p),
        ("alert_labels", POINTER(c_char_p)),
        ("alert_label_count", c_size_t),
        ("alert_min_interval_ms", c_int),
        ("alert_username", c_char_p),
        # callbacks
        ("on_state", STATE_CB),
        ("on_message", MESSAGE_CB),
        ("on_pong", PONG_CB),
        ("on_quality", QUALITY_CB),
        ("on_retry", RETRY_CB),
        ("on_dropped", DROPPED_CB),
        ("on_log", LOG_CB),
        ("on_notify", NOTIFY_CB),
        ("log_level", c_int),
        ("user_data", c_void_p),
        # delivery (appended in 0.2)
        ("delivery", c_int),
        ("outbox_path", c_char_p),
        ("outbox_durability", c_int),
        ("ack_every", c_int),
        ("ack_delay_ms", c_int),
        ("on_acked", ACKED_CB),
        ("on_resumed", RESUMED_CB),
        ("on_dropped_id", DROPPED_ID_CB),
        # fallback servers (appended in 0.2)
        ("fallback_urls", POINTER(c_char_p)),
        ("fallback_url_count", c_size_t),
        # network changes (appended in 0.2)
        ("watch_network", c_int),
    ]


class Stats_c(Structure):
    _fields_ = [
        ("struct_size", c_size_t),
        ("state", c_int),
        ("time_in_state_ms", c_int64),
        ("attempt", c_int),
        ("retry_in_ms", c_int64),
        ("last_error", c_int),
        ("last_http_status", c_int),
        ("quality", c_int),
        ("rtt_last_ms", c_int64),
        ("rtt_smoothed_ms", c_double),
        ("rtt_variation_ms", c_double),
        ("rtt_min_ms", c_int64),
        ("rtt_max_ms", c_int64),
        ("pongs", c_uint64),
        ("ping_timeouts", c_uint64),
        ("since_last_pong_ms", c_int64),
        ("queued_messages", c_uint64),
        ("queued_bytes", c_uint64),
        ("messages_sent", c_uint64),
        ("bytes_sent", c_uint64),
        ("messages_received", c_uint64),
        ("bytes_received", c_uint64),
        ("messages_dropped", c_uint64),
        ("reconnections", c_uint64),
        ("downtime_ms", c_int64),
        ("last_close_answered", c_int),
        # reliable delivery (appended in 0.2)
        ("outbox_messages", c_uint64),
        ("outbox_bytes", c_uint64),
        ("unacked_messages", c_uint64),
        ("last_acked_id", c_uint64),
        ("resends", c_uint64),
        ("duplicates_dropped", c_uint64),
        ("replayed", c_uint64),
        ("resumes_recovered", c_uint64),
        ("resumes_lost", c_uint64),
        # fallback servers (appended in 0.2)
        ("url_index", c_int),
    ]


def config_init(cfg: Config_c) -> int:
    """lifeline_config_init() as the C macro does it: the library fills the
    config with its defaults, writing no more than this mirror's size, which
    it keeps in struct_size. Returns its lifeline_error."""
    return int(lib.lifeline_config_init_sized(ctypes.byref(cfg), ctypes.sizeof(cfg)))


def new_config() -> Config_c:
    """A Config_c with the library's defaults."""
    cfg = Config_c()
    config_init(cfg)
    return cfg


# ---- finding and opening the library ----------------------------------------


def _pkg_config_dirs() -> List[str]:
    """The folders pkg-config names for lifeline (-L first, then libdir)."""
    exe = shutil.which("pkg-config")
    if not exe:
        return []
    dirs: List[str] = []
    for args in (["--libs-only-L"], ["--variable=libdir"]):
        try:
            out = subprocess.run(
                [exe, *args, "lifeline"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return dirs
        if out.returncode != 0:
            return dirs
        for word in out.stdout.split():
            d = word[2:] if word.startswith("-L") else word
            if d and d not in dirs:
                dirs.append(d)
    return dirs


def bundled() -> Optional[str]:
    """The package's own library (a wheel's), or None."""
    path = os.path.join(BUNDLED_DIR, f"liblifeline.so.{ABI_MAJOR}")
    return path if os.path.exists(path) else None


def candidates() -> List[str]:
    """Where the library is looked for, in order (see the README)."""
    env = os.environ.get(LIBRARY_ENV)
    if env:
        return [env]  # named explicitly: nothing else is tried
    own = bundled()
    if own:
        # The wheel's library was built with this very binding: nothing
        # else is tried, so that a broken install (a dependency of the
        # library missing) fails, naming what is missing, rather than
        # quietly loading some other liblifeline.
        return [own]
    found: List[str] = []
    for d in _pkg_config_dirs():
        for name in (f"liblifeline.so.{ABI_MAJOR}", "liblifeline.so"):
            path = os.path.join(d, name)
            if os.path.exists(path):
                found.append(path)
    # the dynamic loader's own search: LD_LIBRARY_PATH, ld.so.cache, /usr/lib
    found.append(f"liblifeline.so.{ABI_MAJOR}")
    util = ctypes.util.find_library("lifeline")
    if util:
        found.append(util)
    return found


def _open() -> ctypes.CDLL:
    errors = []
    for path in candidates():
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(f"  {path}: {e}")
    if bundled() and not os.environ.get(LIBRARY_ENV):
        hint = (
            "the library inside the package did not load: install the runtime "
            "packages of its dependencies (Debian 12: libwebsockets17 libcurl4 "
            f"libcjson1 libsqlite3-0), or set {LIBRARY_ENV} to another liblifeline.so"
        )
    else:
        hint = (
            f"set {LIBRARY_ENV} to the full path of liblifeline.so, install lifeline "
            "where pkg-config finds it, or put it on the loader's search path"
        )
    raise LibraryNotFound("liblifeline not found:\n" + "\n".join(errors) + "\n" + hint)


def _declare(lib: ctypes.CDLL) -> None:
    def fn(name: str, restype: Any, *argtypes: Any) -> None:
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = list(argtypes)

    fn("lifeline_version", c_char_p)
    fn("lifeline_version_number", c_uint)
    fn("lifeline_strerror", c_char_p, c_int)
    fn("lifeline_error_name", c_char_p, c_int)
    fn("lifeline_state_name", c_char_p, c_int)
    fn("lifeline_quality_name", c_char_p, c_int)
    fn("lifeline_jitter_mode_name", c_char_p, c_int)
    fn("lifeline_queue_policy_name", c_char_p, c_int)
    fn("lifeline_log_level_name", c_char_p, c_int)
    fn("lifeline_delivery_name", c_char_p, c_int)
    # lifeline_config_init() and lifeline_client_stats() are C macros that
    # pass the caller's sizeof; a binding passes the size of its mirror.
    fn("lifeline_config_init_sized", c_int, c_void_p, c_size_t)
    fn("lifeline_config_validate", c_int, c_void_p)
    fn("lifeline_config_check", c_int, c_void_p, POINTER(c_char_p))
    fn("lifeline_loop_new", c_int, POINTER(c_void_p))
    fn("lifeline_loop_free", c_int, c_void_p)
    fn("lifeline_client_new", c_int, c_void_p, POINTER(c_void_p))
    fn("lifeline_client_start", c_int, c_void_p)
    fn("lifeline_client_send", c_int, c_void_p, c_char_p, c_size_t, c_int)
    fn("lifeline_client_send_id", c_int, c_void_p, c_char_p, c_size_t, c_int, POINTER(c_uint64))
    fn("lifeline_outbox_check", c_int, c_char_p, c_char_p, c_size_t)
    fn("lifeline_client_reconnect_now", c_int, c_void_p)
    fn("lifeline_client_network_changed", c_int, c_void_p)
    fn("lifeline_client_stats_sized", c_int, c_void_p, c_void_p, c_size_t)
    fn("lifeline_client_state", c_int, c_void_p)
    fn("lifeline_client_stop", c_int, c_void_p, c_int)
    fn("lifeline_client_alert", c_int, c_void_p, c_char_p, c_char_p)
    fn("lifeline_client_free", c_int, c_void_p)
    fn("lifeline_redact_url", c_size_t, c_char_p, c_char_p, c_size_t)


def _check(lib: ctypes.CDLL) -> None:
    """Fail loudly when the library is not the ABI this module mirrors."""
    number = lib.lifeline_version_number()
    major = (number >> 16) & 0xFF
    if major != ABI_MAJOR:
        raise LibraryNotFound(
            f"{lib._name}: liblifeline {lib.lifeline_version().decode()} has ABI "
            f"major {major}; this binding mirrors ABI {ABI_MAJOR}"
        )
    # The library reads and writes only as much of a config as the mirror
    # has, and gives what the mirror lacks its defaults: a newer library is
    # fine. An older one does not know every field of the mirror.
    cfg = Config_c()
    rc = lib.lifeline_config_init_sized(ctypes.byref(cfg), ctypes.sizeof(Config_c))
    if rc != 0:
        raise LibraryNotFound(
            f"{lib._name}: liblifeline {lib.lifeline_version().decode()} refuses "
            f"this binding's sizeof(lifeline_config), {ctypes.sizeof(Config_c)} "
            f"({lib.lifeline_error_name(rc).decode()}): the library is older than "
            "the lifeline.h this binding mirrors"
        )


def load() -> ctypes.CDLL:
    lib = _open()
    try:
        _declare(lib)
    except AttributeError as e:
        raise LibraryNotFound(f"{lib._name}: missing symbol: {e}") from None
    _check(lib)
    return lib


lib = load()


def text(p: Optional[bytes]) -> str:
    """A C string from the library as str ("" for NULL)."""
    return p.decode("utf-8", "replace") if p else ""


def redact_url(url: str) -> str:
    """url as it may be shown (lifeline_redact_url(): userinfo, query values,
    fragment and a webhook's token become "***")."""
    raw = url.encode("utf-8", "replace")
    n = lib.lifeline_redact_url(raw, None, 0)
    out = ctypes.create_string_buffer(n + 1)
    lib.lifeline_redact_url(raw, out, n + 1)
    return out.value.decode("utf-8", "replace")
