"""A client against lifeline-server: echo, store broadcast, stats, quality,
the callback contract, the lifecycle methods and the errors they raise."""
from __future__ import annotations

import http.server
import json
import threading

import pytest

import lifeline
from lifeline import ErrorCode, Quality, State

from conftest import FAST, Recorder, echo, limit


def test_echo_text_and_binary(server, clients, recorder):
    c = clients(server.url(), **recorder.callbacks(), **FAST)
    c.start()
    recorder.wait_state(State.CONNECTED)
    c.send(echo("hello"))
    c.send(b"\x00\x01binary\xff")
    c.send(bytearray(b"more"))
    c.send(echo("h\u00e9llo \u2713"))
    msgs = recorder.wait_messages(4)
    assert json.loads(msgs[0]) == {"type": "echo", "data": "hello"}
    assert msgs[1] == b"\x00\x01binary\xff" and isinstance(msgs[1], bytes)
    assert msgs[2] == b"more"
    assert isinstance(msgs[3], str) and json.loads(msgs[3])["data"] == "h\u00e9llo \u2713"


def test_first_states_carry_their_info(server, clients, recorder):
    c = clients(server.url(), **recorder.callbacks(), **FAST)
    assert c.state is State.IDLE
    c.start()
    _, ev = recorder.wait_state(State.CONNECTED)
    _, _, old, new, info = ev
    assert (old, new) == (State.CONNECTING, State.CONNECTED)
    assert isinstance(info, lifeline.StateInfo)
    assert info.attempt == 0 and info.error == "OK" and info.http_status == 0
    assert info.reason == "connected"
    assert recorder.states()[:2] == [State.CONNECTING, State.CONNECTED]
    assert c.state is State.CONNECTED


def test_store_broadcast_reaches_the_same_store_only(server, clients):
    a, b, other = Recorder(), Recorder(), Recorder()
    ca = clients(server.url("store-1", "alice"), **a.callbacks(), **FAST)
    cb = clients(server.url("store-1", "bob"), **b.callbacks(), **FAST)
    co = clients(server.url("store-2", "carol"), **other.callbacks(), **FAST)
    for c, r in ((ca, a), (cb, b), (co, other)):
        c.start()
        r.wait_state(State.CONNECTED)

    def broadcasts(rec):
        return [json.loads(m) for m in rec.messages()
                if isinstance(m, str) and json.loads(m).get("type") == "broadcast"]

    ca.send(json.dumps({"type": "broadcast", "data": {"n": 1}}))
    cb.send(json.dumps({"type": "broadcast", "data": {"n": 2}}))
    b.wait(lambda _: broadcasts(b), what="alice's broadcast at bob")
    a.wait(lambda _: broadcasts(a), what="bob's broadcast at alice")
    assert broadcasts(b) == [{"type": "broadcast", "store": "store-1", "from": "alice",
                              "data": {"n": 1}}]
    assert broadcasts(a) == [{"type": "broadcast", "store": "store-1", "from": "bob",
                              "data": {"n": 2}}]
    # carol's own echo comes after anything the server sent her before it
    co.send(echo("carol"))
    other.wait(lambda _: any("carol" in m for m in other.messages() if isinstance(m, str)),
               what="carol's echo")
    assert broadcasts(other) == []


def test_quality_and_stats_after_pongs(server, clients, recorder):
    c = clients(server.url(), **recorder.callbacks(), **FAST)
    s = c.stats()
    assert s.state is State.IDLE and s.quality is Quality.UNKNOWN
    assert s.since_last_pong_ms == -1
    c.start()
    recorder.wait_state(State.CONNECTED)
    # the first ping goes out on open: a graded pong within one round trip
    recorder.wait(lambda evs: sum(1 for e in evs if e[0] == "pong") >= 2, what="two pongs")
    assert all(0 <= e[2] < 300 and e[3] is Quality.EXCELLENT for e in recorder.of("pong"))
    # on_quality is told of changes only: unknown to excellent, once
    assert [e[2] for e in recorder.of("quality")] == [Quality.EXCELLENT]
    c.send(echo("x" * 10))
    recorder.wait_messages(1)
    s = c.stats()
    assert isinstance(s, lifeline.Stats)
    assert s.state is State.CONNECTED and s.quality is Quality.EXCELLENT
    assert s.pongs >= 2 and s.ping_timeouts == 0
    assert 0 <= s.rtt_min_ms <= s.rtt_max_ms < 300 and s.rtt_smoothed_ms >= 0
    assert s.since_last_pong_ms >= 0
    assert s.messages_sent == 1 and s.bytes_sent == len(echo("x" * 10))
    assert s.messages_received == 1 and s.bytes_received == s.bytes_sent
    assert s.queued_messages == 0 and s.reconnections == 0 and s.last_error == "OK"
    with pytest.raises(Exception):
        s.pongs = 0  # frozen
    # the grade is lost with the connection: on_quality without a pong
    server.stop()
    recorder.wait(lambda evs: [e[2] for e in evs if e[0] == "quality"][-1] is Quality.UNKNOWN,
                  what="quality unknown")


def test_callbacks_run_on_one_thread_that_is_not_the_callers(server, clients, recorder):
    c = clients(server.url(), **recorder.callbacks(), **FAST)
    c.start()
    recorder.wait_state(State.CONNECTED)
    c.send(echo(1))
    recorder.wait_messages(1)
    assert len(recorder.threads) == 1
    assert threading.get_ident() not in recorder.threads


def test_context_manager_starts_then_stops_and_frees(server, recorder):
    with lifeline.Client(server.url(), **recorder.callbacks(), **FAST) as c:
        recorder.wait_state(State.CONNECTED)
        c.send(echo("in with"))
        recorder.wait_messages(1)
    assert c.closed and c.state is State.CLOSED
    assert recorder.states()[-1] is State.CLOSED
    with pytest.raises(lifeline.LifelineError) as e:
        c.send("after")
    assert e.value.code == ErrorCode.STOPPED
    with pytest.raises(lifeline.LifelineError):
        c.stats()
    c.close()  # idempotent


def test_lifecycle_errors_are_exceptions(clients):
    c = clients("ws://127.0.0.1:9/ws", **FAST)
    with pytest.raises(lifeline.LifelineError) as e:
        c.reconnect_now()
    assert e.value.code == ErrorCode.STATE and e.value.name == "STATE"
    assert e.value.message == lifeline.strerror(ErrorCode.STATE)
    c.start()
    with pytest.raises(lifeline.LifelineError) as e:
        c.start()
    assert e.value.code == ErrorCode.STATE
    with pytest.raises(lifeline.LifelineError) as e:
        c.alert("title", "text")
    assert e.value.code == ErrorCode.ALERTS_OFF
    with pytest.raises(lifeline.LifelineError) as e:
        c.send("x" * (1024 * 1024 + 1))
    assert e.value.code == ErrorCode.MESSAGE_TOO_BIG
    with pytest.raises(TypeError):
        c.send(42)
    c.stop()
    assert c.state is State.CLOSED
    with pytest.raises(lifeline.LifelineError) as e:
        c.send("stopped")
    assert e.value.code == ErrorCode.STOPPED


def test_reject_401_is_a_permanent_error_with_its_status(server, clients, recorder):
    assert server.fault("reject_401") == 200
    c = clients(server.url(), **recorder.callbacks(), **FAST)
    c.start()
    _, ev = recorder.wait_state(State.ERROR)
    info = ev[4]
    assert info.http_status == 401 and info.error == "HTTP_STATUS"
    assert "401" in info.reason
    assert c.stats().last_http_status == 401
    assert recorder.of("retry") == []


def test_stop_from_a_callback_returns_at_once_and_the_client_can_close_later(server, clients):
    rec = Recorder()
    done = threading.Event()
    holder = {}

    def on_message(data):
        holder["c"].stop()  # from a callback: returns at once
        done.set()

    c = clients(server.url(), on_state=rec.on_state, on_message=on_message, **FAST)
    holder["c"] = c
    c.start()
    rec.wait_state(State.CONNECTED)
    c.send(echo("stop me"))
    assert done.wait(limit(5))
    rec.wait_state(State.CLOSED)
    assert not c.closed
    c.close()
    assert c.closed


class _Webhook(http.server.BaseHTTPRequestHandler):
    bodies: list = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        type(self).bodies.append(json.loads(self.rfile.read(n)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_alert_goes_to_the_webhook_and_its_outcome_to_on_notify(clients, recorder):
    _Webhook.bodies = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    httpd.daemon_threads = False  # server_close() joins the request threads
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/api/webhooks/1/secret-token"
        c = clients("ws://127.0.0.1:9/ws", **recorder.callbacks(), **FAST,
                    discord_webhook=url, alert_labels={"Store": "12", "Till": "3"})
        c.alert("Drawer open", "till 3 left open")
        _, _, info = recorder.wait(lambda _: recorder.of("notify"), what="notify")[0]
        assert isinstance(info, lifeline.NotifyInfo)
        assert (info.channel, info.kind, info.ok, info.http_status) == ("discord", "custom", True, 204)
        assert info.attempts == 1
        body = json.dumps(_Webhook.bodies)
        assert "Drawer open" in body and "till 3 left open" in body
        assert "Store" in body and "12" in body
    finally:
        httpd.shutdown()
        httpd.server_close()
        t.join()


def test_clients_share_a_loop(server):
    recs = [Recorder() for _ in range(3)]
    with lifeline.Loop() as loop:
        cs = [lifeline.Client(server.url(user=f"u{i}"), loop=loop, **r.callbacks(), **FAST)
              for i, r in enumerate(recs)]
        assert cs[0].loop is loop
        for c in cs:
            c.start()
        for i, (c, r) in enumerate(zip(cs, recs)):
            r.wait_state(State.CONNECTED)
            c.send(echo(i))
        for i, r in enumerate(recs):
            r.wait(lambda _: r.echoes(), what="an echo")
            assert r.echoes() == [i]
        threads = set().union(*(r.threads for r in recs))
        assert len(threads) == 1  # one service thread for all three
        with pytest.raises(lifeline.LifelineError) as e:
            loop.close()  # clients still use it
        assert e.value.code == ErrorCode.STATE
        for c in cs:
            c.close()
    assert loop.closed
