"""The binding against the library: loading, the enum names, the struct
mirrors and the defaults."""
from __future__ import annotations

import ctypes
import inspect
import os
import shutil
import subprocess
import sys
import tempfile
import typing
from pathlib import Path

import pytest

import lifeline
from lifeline import _callbacks, _ffi

from conftest import REPO


def test_library_is_the_abi_the_binding_mirrors():
    assert lifeline.library_version.split(".")[0] == str(_ffi.ABI_MAJOR)
    number = _ffi.lib.lifeline_version_number()
    assert (number >> 16) & 0xFF == _ffi.ABI_MAJOR
    assert os.path.exists(lifeline.library_path) or "/" not in lifeline.library_path


@pytest.mark.parametrize(
    "enum_type,name_of",
    [(lifeline.State, "lifeline_state_name"), (lifeline.Quality, "lifeline_quality_name"),
     (lifeline.JitterMode, "lifeline_jitter_mode_name"),
     (lifeline.QueuePolicy, "lifeline_queue_policy_name"),
     (lifeline.Delivery, "lifeline_delivery_name")],
)
def test_enum_values_are_the_c_names_in_the_c_order(enum_type, name_of):
    fn = getattr(_ffi.lib, name_of)
    assert [m.value for m in enum_type] == [fn(i).decode() for i in range(len(enum_type))]
    # the binding has every value the library names
    assert fn(len(enum_type)).decode() == "unknown"


def test_enum_names_as_the_documentation_gives_them():
    assert lifeline.State.SERVER_DOWN == "server_down"
    assert lifeline.Quality("excellent") is lifeline.Quality.EXCELLENT
    assert lifeline.QueuePolicy.DROP_OLDEST == "drop_oldest"
    assert lifeline.QueuePolicy.REJECT == "reject"
    assert [str(m) for m in lifeline.JitterMode] == ["additive", "full"]
    assert [str(m) for m in lifeline.Delivery] == ["best_effort", "reliable"]


def test_log_level_names_are_the_c_names():
    for level in lifeline.LogLevel:
        name = _ffi.lib.lifeline_log_level_name(level).decode()
        assert name == level.name.lower()


def test_error_codes_match_the_library_table():
    for code in lifeline.ErrorCode:
        assert lifeline.error_name(code) == code.name
        assert lifeline.strerror(code) not in ("", "unknown error")
    # the enum covers every error the library knows
    assert lifeline.error_name(len(lifeline.ErrorCode)) == "UNKNOWN"


def test_lifeline_error_carries_code_name_and_message():
    e = lifeline.LifelineError(lifeline.ErrorCode.QUEUE_FULL, "send")
    assert e.code == lifeline.ErrorCode.QUEUE_FULL == 25
    assert e.name == "QUEUE_FULL"
    assert e.message == "offline queue is full"
    assert str(e) == "send: offline queue is full (LIFELINE_ERR_QUEUE_FULL)"


def test_defaults_come_from_lifeline_config_init():
    d = lifeline.default_options()
    assert d["base_delay_ms"] == 5000
    assert d["max_delay_ms"] == 30000
    assert d["jitter_ms"] == 1000
    assert d["jitter_mode"] is lifeline.JitterMode.ADDITIVE
    assert d["max_attempts"] == 5
    assert d["stable_after_ms"] == 10000
    assert d["down_ping_interval_ms"] == 5000
    assert d["connect_timeout_ms"] == 10000
    assert d["ping_interval_ms"] == 30000
    assert d["ping_timeout_ms"] == 10000
    assert d["rtt_good_ms"] == 300
    assert d["rtt_poor_ms"] == 1000
    assert d["max_message_bytes"] == 1024 * 1024
    assert d["queue_policy"] is lifeline.QueuePolicy.REJECT
    assert d["queue_max_messages"] == 1000
    assert d["queue_max_bytes"] == 1024 * 1024
    assert d["alert_min_interval_ms"] == 600000
    assert d["log_level"] is lifeline.LogLevel.WARN
    assert d["health_url"] is None and d["discord_webhook"] is None


def _include_dirs() -> typing.List[Path]:
    """$LIFELINE_INCLUDE_DIR (installed headers), else the source tree's
    include/ and, for lifeline/version.h, which meson generates, the include/
    of the build folder the loaded library is in (build/src/liblifeline.so)."""
    env = os.environ.get("LIFELINE_INCLUDE_DIR")
    if env:
        return [Path(env)]
    return [REPO / "include", Path(lifeline.library_path).resolve().parent.parent / "include"]


def _c_layout(struct: str, fields) -> dict:
    """sizeof and offsetof every field, as a C compiler sees the header."""
    cc = shutil.which("cc") or shutil.which("gcc")
    dirs = _include_dirs()
    found = [any((d / "lifeline" / h).exists() for d in dirs) for h in ("lifeline.h", "version.h")]
    if not cc or not all(found):
        pytest.skip("needs a C compiler, lifeline.h and lifeline/version.h (set LIFELINE_INCLUDE_DIR)")
    lines = [f'printf("sizeof %zu\\n", sizeof({struct}));']
    lines += [f'printf("{f} %zu\\n", offsetof({struct}, {f}));' for f in fields]
    src = (
        "#include <stddef.h>\n#include <stdio.h>\n#include <lifeline/lifeline.h>\n"
        "int main(void) {\n" + "\n".join(lines) + "\nreturn 0; }\n"
    )
    with tempfile.TemporaryDirectory(prefix="lifeline-py-abi-") as d:
        c, exe = os.path.join(d, "abi.c"), os.path.join(d, "abi")
        with open(c, "w") as f:
            f.write(src)
        includes = [arg for d in dirs for arg in ("-I", str(d))]
        subprocess.run([cc, *includes, c, "-o", exe], check=True)
        out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    return {k: int(v) for k, v in (line.split() for line in out.splitlines())}


@pytest.mark.parametrize(
    "struct,mirror",
    [("lifeline_config", _ffi.Config_c), ("lifeline_stats", _ffi.Stats_c),
     ("lifeline_state_info", _ffi.StateInfo_c), ("lifeline_notify_info", _ffi.NotifyInfo_c)],
)
def test_struct_mirror_matches_the_header_field_for_field(struct, mirror):
    names = [f[0] for f in mirror._fields_]
    layout = _c_layout(struct, names)
    assert layout.pop("sizeof") == ctypes.sizeof(mirror)
    assert layout == {n: getattr(mirror, n).offset for n in names}


def test_every_callback_of_the_config_has_a_row_a_keyword_and_an_event():
    """The trampolines come from one table (_callbacks.CALLBACKS): a row for
    each callback field of lifeline_config, in its order and with its ctypes
    type; Client takes a keyword of the same name for each."""
    fields = {name: ctype for name, ctype in _ffi.Config_c._fields_}
    callback_fields = [name for name in fields if name.startswith("on_")]
    assert [row.name for row in _callbacks.CALLBACKS] == callback_fields
    assert all(row.ctype is fields[row.name] for row in _callbacks.CALLBACKS)
    keywords = inspect.signature(lifeline.Client).parameters
    assert [k for k in keywords if k.startswith("on_")] == callback_fields
    # every callback has its event, but log lines
    events = {row.name: row.event for row in _callbacks.CALLBACKS}
    assert events.pop("on_log") is None
    assert set(events.values()) == set(typing.get_args(lifeline.Event))


def _import_in_subprocess(env: dict) -> subprocess.CompletedProcess:
    code = "import lifeline; print(lifeline.library_path)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def _env_without_library() -> dict:
    env = dict(os.environ)
    env.pop(_ffi.LIBRARY_ENV, None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def test_library_named_by_the_environment_variable_is_loaded():
    env = _env_without_library()
    env[_ffi.LIBRARY_ENV] = lifeline.library_path
    r = _import_in_subprocess(env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == lifeline.library_path


def test_a_bad_library_path_fails_at_import_naming_the_variable():
    env = _env_without_library()
    env[_ffi.LIBRARY_ENV] = "/nonexistent/liblifeline.so"
    r = _import_in_subprocess(env)
    assert r.returncode != 0
    assert "LibraryNotFound" in r.stderr and _ffi.LIBRARY_ENV in r.stderr


def test_a_freshly_built_library_is_found_through_pkg_config():
    build = Path(lifeline.library_path).resolve().parent.parent
    uninstalled = build / "meson-uninstalled"
    if not (uninstalled / "lifeline-uninstalled.pc").exists() or not shutil.which("pkg-config"):
        pytest.skip("no meson build tree with lifeline-uninstalled.pc next to the library")
    env = _env_without_library()
    env["PKG_CONFIG_PATH"] = str(uninstalled)
    r = _import_in_subprocess(env)
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()).resolve() == Path(lifeline.library_path).resolve()


def test_the_packages_own_library_comes_first_and_alone(monkeypatch, tmp_path):
    """A wheel's lifeline/_lib/liblifeline.so.0 is the one candidate, unless
    LIFELINE_LIBRARY names another."""
    own = tmp_path / f"liblifeline.so.{_ffi.ABI_MAJOR}"
    own.write_bytes(b"")
    monkeypatch.setattr(_ffi, "BUNDLED_DIR", str(tmp_path))
    monkeypatch.delenv(_ffi.LIBRARY_ENV, raising=False)
    assert _ffi.candidates() == [str(own)]
    monkeypatch.setenv(_ffi.LIBRARY_ENV, "/elsewhere/liblifeline.so")
    assert _ffi.candidates() == ["/elsewhere/liblifeline.so"]


def test_without_its_own_library_the_package_searches_the_system(monkeypatch, tmp_path):
    monkeypatch.setattr(_ffi, "BUNDLED_DIR", str(tmp_path))  # empty
    monkeypatch.delenv(_ffi.LIBRARY_ENV, raising=False)
    found = _ffi.candidates()
    assert f"liblifeline.so.{_ffi.ABI_MAJOR}" in found
    assert not any(p.startswith(str(tmp_path)) for p in found)


def test_an_own_library_that_does_not_load_fails_naming_the_runtime_packages(
        monkeypatch, tmp_path):
    (tmp_path / f"liblifeline.so.{_ffi.ABI_MAJOR}").write_bytes(b"not an ELF file")
    monkeypatch.setattr(_ffi, "BUNDLED_DIR", str(tmp_path))
    monkeypatch.delenv(_ffi.LIBRARY_ENV, raising=False)
    with pytest.raises(lifeline.LibraryNotFound) as e:
        _ffi._open()
    message = str(e.value)
    assert str(tmp_path) in message and "libwebsockets17" in message
    assert message.count("\n  ") == 1  # nothing else was tried


def test_lifeline_library_wins_over_the_packages_own_library(tmp_path):
    """With a wheel, this loads a copy of its library by LIFELINE_LIBRARY
    rather than the one in the package (without a wheel, a copy of the
    library loaded)."""
    copy = tmp_path / "liblifeline.so"
    shutil.copy(Path(lifeline.library_path).resolve(), copy)
    env = _env_without_library()
    env[_ffi.LIBRARY_ENV] = str(copy)
    r = _import_in_subprocess(env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(copy)


def test_an_installed_wheel_loads_the_library_inside_the_venv():
    """scripts/test-wheel sets LIFELINE_EXPECT_WHEEL=1: the package and its
    library both come from the venv the wheel went into, with no
    LIFELINE_LIBRARY, and no other liblifeline is mapped in the process."""
    if os.environ.get("LIFELINE_EXPECT_WHEEL") != "1":
        pytest.skip("not an installed wheel (scripts/test-wheel sets LIFELINE_EXPECT_WHEEL=1)")
    venv = Path(sys.prefix).resolve()
    assert venv != Path(sys.base_prefix).resolve(), "not in a venv"
    assert _ffi.LIBRARY_ENV not in os.environ
    assert Path(lifeline.__file__).resolve().is_relative_to(venv)
    library = Path(lifeline.library_path).resolve()
    assert lifeline.library_path == _ffi.bundled()
    assert library.is_relative_to(venv)
    with open("/proc/self/maps") as f:
        mapped = {line.split()[-1] for line in f if "liblifeline" in line}
    assert mapped == {str(library)}


GUARD = 0xA5


def _guarded(struct_type, slack=64):
    """A struct_type at the start of a buffer of GUARD bytes."""
    n = ctypes.sizeof(struct_type) + slack
    buf = ctypes.create_string_buffer(n)
    ctypes.memset(buf, GUARD, n)
    return struct_type.from_buffer(buf), buf


def test_a_shorter_config_mirror_is_written_up_to_its_size_only(monkeypatch):
    class Short(ctypes.Structure):  # an older mirror: the last fields came later
        _fields_ = _ffi.Config_c._fields_[:-10]

    cfg, buf = _guarded(Short)
    size = ctypes.sizeof(Short)
    assert _ffi.lib.lifeline_config_init_sized(ctypes.byref(cfg), size) == 0
    assert buf.raw[size:] == bytes([GUARD]) * (len(buf.raw) - size)
    assert cfg.struct_size == size and cfg.max_attempts == 5
    cfg.url = b"ws://127.0.0.1:1/ws"
    assert _ffi.lib.lifeline_config_validate(ctypes.byref(cfg)) == 0
    monkeypatch.setattr(_ffi, "Config_c", Short)
    _ffi._check(_ffi.lib)  # a library newer than the mirror is fine


def test_a_config_mirror_larger_than_the_library_fails_loudly(monkeypatch):
    class Long(ctypes.Structure):  # a newer mirror than the library
        _fields_ = _ffi.Config_c._fields_ + [("appended_later", ctypes.c_int64)]

    monkeypatch.setattr(_ffi, "Config_c", Long)
    with pytest.raises(lifeline.LibraryNotFound, match="older than the lifeline.h"):
        _ffi._check(_ffi.lib)


def test_stats_write_exactly_the_mirror():
    with lifeline.Client("ws://127.0.0.1:1/ws") as client:
        client.send("queued while idle")
        ptr = client._native.use("stats")
        try:
            st, buf = _guarded(_ffi.Stats_c)
            size = ctypes.sizeof(_ffi.Stats_c)
            assert _ffi.lib.lifeline_client_stats_sized(ptr, ctypes.byref(st), size) == 0
        finally:
            client._native.done()
        assert buf.raw[size:] == bytes([GUARD]) * (len(buf.raw) - size)
        assert st.struct_size == size and st.queued_messages == 1
        assert client.stats().queued_messages == 1
