"""send(block=True, timeout=) and send_async(): waiting for room in a full
queue instead of QUEUE_FULL (issue 16), against lifeline-server."""
from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request

import pytest

import lifeline
from lifeline import ErrorCode, State

from conftest import FAST, Recorder, echo, limit

THREADS = 8
PER_THREAD = 2000


def server_messages_in(server) -> int:
    url = f"http://127.0.0.1:{server.port}/api/v1/websockets/stats"
    with urllib.request.urlopen(url, timeout=limit(5)) as resp:
        return int(json.load(resp)["messages_in"])


def wait_for(pred, timeout=5.0, what=""):
    deadline = time.monotonic() + limit(timeout)
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)  # polling figures; the deadline is the failure limit


def offline_with_a_full_queue(server, clients, recorder, n):
    """A client whose server is gone, with n echoes filling its queue of n."""
    c = clients(server.url(), queue_max_messages=n, **recorder.callbacks(), **FAST)
    c.start()
    recorder.wait_state(State.CONNECTED)
    server.stop()
    recorder.wait_state(State.DISCONNECTED)
    for i in range(n):
        c.send(echo(i))
    with pytest.raises(lifeline.LifelineError) as e:
        c.send(echo("one too many"))
    assert e.value.code == ErrorCode.QUEUE_FULL
    return c


def test_eight_busy_threads_with_block_lose_nothing(server, clients, recorder, monkeypatch):
    """The issue's load: 8 threads x 2000 sends. Without block=True most of
    them were refused with QUEUE_FULL; with it every one is accepted, and
    every one reaches the server. Broadcasts to a store of one are answered
    with nothing, so what is counted is the client's sending alone (8 x 2000
    echoes would fill the server's 1024-message queue towards this client)."""
    waits = []
    real_sleep = time.sleep

    def counting_sleep(seconds):
        waits.append(seconds)
        real_sleep(seconds)

    c = clients(server.url("bp-store", "till-1"), **recorder.callbacks())
    c.start()
    recorder.wait_state(State.CONNECTED)
    before = server_messages_in(server)
    errors = []

    def sender(k):
        try:
            for i in range(PER_THREAD):
                c.send(json.dumps({"type": "broadcast", "data": [k, i]}), block=True)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            errors.append(e)

    monkeypatch.setattr(time, "sleep", counting_sleep)
    threads = [threading.Thread(target=sender, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(limit(60))
    monkeypatch.undo()
    assert not any(t.is_alive() for t in threads)
    assert errors == []  # no QUEUE_FULL, nor anything else
    assert waits, "the queue never filled: the test did not test waiting"
    assert max(waits) <= lifeline._client.RETRY_MAX_S
    total = THREADS * PER_THREAD
    wait_for(lambda: c.stats().messages_sent == total, what=f"{total} messages written")
    wait_for(lambda: server_messages_in(server) - before == total,
             what=f"{total} messages at the server")
    s = c.stats()
    assert (s.messages_dropped, s.queued_messages, s.reconnections) == (0, 0, 0)
    assert recorder.states() == [State.CONNECTING, State.CONNECTED]


def test_block_waits_through_an_outage_and_timeout_gives_queue_full(server, clients, recorder):
    c = offline_with_a_full_queue(server, clients, recorder, 3)
    t0 = time.monotonic()
    with pytest.raises(lifeline.LifelineError) as e:
        c.send(echo("late"), block=True, timeout=0.2)
    assert e.value.code == ErrorCode.QUEUE_FULL
    assert time.monotonic() - t0 >= 0.2
    with pytest.raises(lifeline.LifelineError):
        c.send(echo("late"), block=True, timeout=0)  # one try, no wait

    done = threading.Event()
    raised = []

    def blocked():
        try:
            c.send(echo(3), block=True)  # no timeout: until there is room
        except BaseException as e:  # noqa: BLE001
            raised.append(e)
        done.set()

    t = threading.Thread(target=blocked)
    t.start()
    assert not done.wait(0.1)  # still waiting: the server is down
    server.start()
    assert done.wait(limit(10))
    t.join()
    assert raised == []
    recorder.wait(lambda _: recorder.echoes() == [0, 1, 2, 3], what="the four echoes")


@pytest.mark.parametrize("how", ["stop", "close"])
def test_a_waiting_send_ends_with_stopped_when_the_client_is(server, clients, recorder, how):
    c = offline_with_a_full_queue(server, clients, recorder, 1)
    raised = []
    t = threading.Thread(target=lambda: raised.append(_error_of(c.send, "x", block=True)))
    t.start()
    time.sleep(0.05)  # let it start waiting (it waits either way)
    getattr(c, how)()
    t.join(limit(5))
    assert not t.is_alive()
    assert [e.code for e in raised] == [ErrorCode.STOPPED]


def _error_of(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except lifeline.LifelineError as e:
        return e
    return None


def test_other_errors_are_not_waited_on(clients):
    c = clients("ws://127.0.0.1:9/ws", queue_policy="off", **FAST)
    c.start()
    t0 = time.monotonic()
    e = _error_of(c.send, "x", block=True, timeout=5)
    assert e is not None and e.code == ErrorCode.NOT_CONNECTED
    assert time.monotonic() - t0 < 1


def test_block_in_a_callback_of_its_own_loop_raises_in_callback(server, clients):
    got = []
    ready = threading.Event()

    def on_message(data):
        got.append(_error_of(c.send, "again", block=True))
        ready.set()

    c = clients(server.url(), on_message=on_message, **FAST)
    c.start()
    c.send(echo("hi"))
    assert ready.wait(limit(5))
    assert got[0] is not None and got[0].code == ErrorCode.IN_CALLBACK


def test_the_arguments_of_block_and_timeout(clients):
    c = clients("ws://127.0.0.1:9/ws", **FAST)
    with pytest.raises(ValueError, match="timeout= needs block=True"):
        c.send("x", timeout=1)
    with pytest.raises(ValueError, match="timeout"):
        c.send("x", block=True, timeout=-1)
    with pytest.raises(ValueError, match="timeout"):
        c.send("x", block=True, timeout=float("nan"))
    with pytest.raises(TypeError, match="timeout"):
        c.send("x", block=True, timeout="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        c.send("x", True)  # type: ignore[misc]  # block is keyword-only
    c.send("queued while idle", block=True, timeout=0)
    assert c.stats().queued_messages == 1


def test_send_async_waits_without_blocking_the_event_loop(server, clients, recorder):
    c = offline_with_a_full_queue(server, clients, recorder, 2)

    async def main():
        with pytest.raises(lifeline.LifelineError) as e:
            await c.send_async(echo("late"), timeout=0.1)
        assert e.value.code == ErrorCode.QUEUE_FULL
        task = asyncio.ensure_future(c.send_async(echo(2)))
        ticks = 0
        for _ in range(10):  # the loop runs while the send waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert not task.done() and ticks == 10
        await asyncio.get_running_loop().run_in_executor(None, server.start)
        await asyncio.wait_for(task, limit(10))

    asyncio.run(main())
    recorder.wait(lambda _: recorder.echoes() == [0, 1, 2], what="the three echoes")
