"""Lifetimes: clients freed deterministically, callback objects kept exactly
as long as the C client, no growth over many clients, and callbacks that
raise are logged without harming the loop thread."""
from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time
import warnings
import weakref

import pytest

import lifeline
from lifeline import State

from conftest import FAST, Recorder, echo, limit

URL = "ws://127.0.0.1:9/ws"  # nothing listens: attempts are refused at once


def rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


def wait_until(pred, timeout=5, what=""):
    deadline = time.monotonic() + limit(timeout)
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)  # polling a condition; the deadline is the failure limit


def churn(n: int, **kw) -> None:
    """n clients, each with callbacks; some started, some dropped unclosed."""
    for i in range(n):
        seen = []
        c = lifeline.Client(URL, on_state=lambda o, n_, info: seen.append(n_),
                            on_message=seen.append, on_retry=lambda *a: None, **FAST, **kw)
        c.send(echo(i))
        if i % 3 == 0:
            c.start()
            c.close()
        elif i % 3 == 1:
            c.close()
        else:
            del c  # the finalizer frees it


def test_a_thousand_clients_on_a_shared_loop_leave_no_growth():
    with lifeline.Loop() as loop:
        churn(300, loop=loop)  # warm-up: allocator pools, lazily built caches
        gc.collect()
        before = rss_kb()
        churn(1000, loop=loop)
        gc.collect()
        grown = rss_kb() - before
    assert grown < 1024, f"RSS grew by {grown} kB over 1000 clients"
    assert loop.closed


# A client with its own loop costs the library ~20-40 ms to create (a
# libwebsockets context with a TLS client context), so 1000 of them take
# most of a minute: the default here is 300, LIFELINE_PY_CHURN=1000 for all.
OWN_LOOP_CLIENTS = int(os.environ.get("LIFELINE_PY_CHURN", "300"))


def test_many_clients_with_their_own_loops_leave_no_growth():
    base_threads = threads()
    churn(60)
    gc.collect()
    before = rss_kb()
    churn(OWN_LOOP_CLIENTS)
    gc.collect()
    grown = rss_kb() - before
    assert grown < 2048, f"RSS grew by {grown} kB over {OWN_LOOP_CLIENTS} clients"
    assert threads() == base_threads


UNCLOSED = r"^unclosed running lifeline\.Client 'ws://127\.0\.0\.1:9/ws'"


def resource_warnings(w) -> list:
    return [x for x in w if issubclass(x.category, ResourceWarning)]


def test_a_dropped_client_is_freed_at_once_with_a_resource_warning():
    base = threads()
    c = lifeline.Client(URL, on_state=lambda *a: None, **FAST)
    c.start()
    assert threads() == base + 1  # its loop thread
    ref = weakref.ref(c)
    with pytest.warns(ResourceWarning, match=UNCLOSED) as w:
        del c
    assert threads() == base  # freed in the finalizer
    assert len(resource_warnings(w)) == 1
    assert resource_warnings(w)[0].source.closed  # source=self: the client
    del w  # the record holds the client
    assert ref() is None


def test_lifeline_client_url_start_alone_warns_and_ends_closed(server):
    """Issue 16: `lifeline.Client(url).start()` keeps no reference; the
    client is freed at once (connecting -> closed) and now says so."""
    states = []
    with pytest.warns(ResourceWarning, match="unclosed running lifeline.Client"):
        lifeline.Client(server.url(), on_state=lambda o, n, i: states.append(n),
                        **FAST).start()
        gc.collect()
    assert states[-1] is State.CLOSED


def test_the_resource_warning_shows_the_url_redacted():
    c = lifeline.Client("ws://user:pw@127.0.0.1:9/ws?store=12&token=s3cret", **FAST)
    c.start()
    with pytest.warns(ResourceWarning) as w:
        del c
    text = str(resource_warnings(w)[0].message)
    assert "'ws://***@127.0.0.1:9/ws?store=***&token=***'" in text
    assert "s3cret" not in text and "pw" not in text


def test_a_warning_turned_into_an_error_still_frees_the_client():
    base = threads()
    c = lifeline.Client(URL, **FAST)
    c.start()
    seen = []
    hook, sys.unraisablehook = sys.unraisablehook, seen.append
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)
            del c
    finally:
        sys.unraisablehook = hook
    assert [type(u.exc_value) for u in seen] == [ResourceWarning]
    assert threads() == base
    del seen


@pytest.mark.parametrize("end", ["close", "stop", "with", "never started"])
def test_no_resource_warning_for_a_client_closed_stopped_or_never_started(end):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        if end == "with":
            with lifeline.Client(URL, **FAST):
                pass
        else:
            c = lifeline.Client(URL, **FAST)
            if end != "never started":
                c.start()
            if end == "close":
                c.close()
            elif end == "stop":
                c.stop()
            del c
        gc.collect()
    assert resource_warnings(w) == []


def test_a_client_in_a_reference_cycle_is_freed_by_the_collector():
    base = threads()

    class App:
        def __init__(self):
            self.client = lifeline.Client(URL, on_state=self.on_state, **FAST)
            self.client.start()

        def on_state(self, old, new, info):
            self.last = new

    app = App()
    ref = weakref.ref(app.client)
    with pytest.warns(ResourceWarning, match=UNCLOSED):
        del app
        gc.collect()
    assert ref() is None and threads() == base


def test_dropping_the_last_reference_inside_its_own_callback_frees_it(server):
    base = threads()
    holder = {}
    done = threading.Event()

    def on_message(data):
        holder.clear()  # the client's last reference dies on its own loop thread
        done.set()

    c = lifeline.Client(server.url(), on_message=on_message, **FAST)
    ref = weakref.ref(c)
    holder["c"] = c
    with warnings.catch_warnings(record=True) as w:  # warned on the loop thread
        warnings.simplefilter("always")
        c.start()
        c.send(echo("bye"))
        del c
        assert done.wait(limit(5))
        wait_until(lambda: resource_warnings(w), what="the ResourceWarning")
    [warned] = resource_warnings(w)
    assert warned.source.closed  # freed in the finalizer, on the loop thread
    del w, warned  # the record holds the client
    wait_until(lambda: ref() is None, what="the client object to go")
    wait_until(lambda: threads() == base, what="its loop thread to end")


def test_close_inside_its_own_on_message_completes_and_nothing_follows(server):
    base = threads()
    rec = Recorder()
    holder = {}
    closed_in_callback = threading.Event()

    def on_message(data):
        rec.on_message(data)
        holder["c"].close()  # returns at once: this callback is the last
        assert holder["c"].closed
        closed_in_callback.set()

    c = lifeline.Client(server.url(), on_state=rec.on_state, on_message=on_message,
                        on_dropped=rec.on_dropped, **FAST)
    holder["c"] = c
    # queued before the start, so that no send of this thread races the
    # close (a send after it is refused: tested below)
    for i in range(20):  # more echoes than the one callback that closes
        c.send(echo(i))
    c.start()
    assert closed_in_callback.wait(limit(5))
    # once the loop thread has ended no callback can come any more
    wait_until(lambda: threads() == base, what="its loop thread to end")
    assert len(rec.messages()) == 1 and rec.of("dropped") == []
    with pytest.raises(lifeline.LifelineError) as e:
        c.send("after close")
    assert e.value.code == lifeline.ErrorCode.STOPPED
    c.close()  # idempotent


def test_close_in_on_state_then_the_loop_in_the_same_callback(server):
    base = threads()
    rec = Recorder()
    holder = {}
    freed = threading.Event()

    def on_state(old, new, info):
        rec.on_state(old, new, info)
        if new is State.CONNECTED and not freed.is_set():
            holder["b"].close()  # another client of the loop
            holder["a"].close()  # its own
            holder["loop"].close()  # freed after this callback returns
            freed.set()

    loop = lifeline.Loop()
    holder["loop"] = loop
    holder["a"] = a = lifeline.Client(server.url(), loop=loop, on_state=on_state, **FAST)
    holder["b"] = b = lifeline.Client(server.url(), loop=loop, **FAST)
    assert threads() == base + 1  # the one loop thread
    b.start()
    a.start()
    assert freed.wait(limit(5))
    assert a.closed and b.closed and loop.closed
    wait_until(lambda: threads() == base, what="the loop thread to end")
    # the thread has ended: what was recorded is all there will ever be
    assert rec.states()[-1] is State.CONNECTED
    loop.close()  # idempotent


def test_close_in_a_callback_while_another_thread_is_inside_stop(server):
    """stop() on another thread waits for the loop thread; close() in a
    callback there must not wait for stop(): the client goes quiet at once
    and is freed when stop() leaves."""
    rec = Recorder()
    holder = {}
    in_callback = threading.Event()

    def on_state(old, new, info):
        rec.on_state(old, new, info)
        if new is State.CLOSED:
            holder["c"].close()
            in_callback.set()

    c = lifeline.Client(server.url(), on_state=on_state, **FAST)
    holder["c"] = c
    c.start()
    rec.wait_state(State.CONNECTED)
    t0 = time.monotonic()
    c.stop()  # its on_state(closed) closes the client meanwhile
    assert time.monotonic() - t0 < 1.5  # not held up to stop's 2 s timeout
    assert in_callback.is_set()
    wait_until(lambda: c.closed, what="the free")
    assert rec.states()[-1] is State.CLOSED


def test_callbacks_that_raise_are_logged_and_the_client_carries_on(server, caplog):
    rec = Recorder()

    def on_message(data):
        rec.on_message(data)
        raise ValueError(f"app bug on {data}")

    def on_state(old, new, info):
        rec.on_state(old, new, info)
        raise RuntimeError("state bug")

    caplog.set_level(logging.ERROR, logger="lifeline")
    with lifeline.Client(server.url(), on_message=on_message, on_state=on_state, **FAST) as c:
        rec.wait_state(State.CONNECTED)
        c.send(echo(1))
        c.send(echo(2))
        rec.wait(lambda _: rec.echoes() == [1, 2], what="two echoes")
        assert c.state is State.CONNECTED
    errors = [r for r in caplog.records if r.name == "lifeline" and r.exc_info]
    assert any("on_message" in r.getMessage() and "app bug" in str(r.exc_info[1])
               for r in errors)
    assert any("on_state" in r.getMessage() for r in errors)


def test_library_log_lines_reach_on_log_or_the_logging_module(caplog):
    lines = []
    got = threading.Event()

    def on_log(level, line):
        lines.append((level, line))
        if "connecting" in line:
            got.set()

    c = lifeline.Client(URL, on_log=on_log, log_level="info", **FAST)
    c.start()
    assert got.wait(limit(5))
    c.close()
    assert all(isinstance(lv, lifeline.LogLevel) for lv, _ in lines)

    caplog.set_level(logging.INFO, logger="lifeline.native")
    c = lifeline.Client(URL, log_level=lifeline.LogLevel.INFO, **FAST)
    c.start()
    c.close()
    assert any(r.name == "lifeline.native" and "state" in r.getMessage() for r in caplog.records)


def test_overlapping_clients_with_their_own_loops_leave_no_growth():
    prev = lifeline.Client(URL, **FAST)
    for _ in range(10):
        c = lifeline.Client(URL, **FAST)
        prev.close()
        prev = c
    gc.collect()
    before = rss_kb()
    for _ in range(40):
        c = lifeline.Client(URL, **FAST)
        prev.close()  # c is alive meanwhile
        prev = c
    prev.close()
    grown = rss_kb() - before
    assert grown < 2048, f"RSS grew by {grown} kB over 40 overlapping clients"
