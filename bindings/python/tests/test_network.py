"""Network changes: watch_network= sets the lifeline_config field (the
library's default, read from lifeline_config_init, is on), and
network_changed() asks the library, whose rule decides: from disconnected
the pending attempt now, keeping its number."""
import socket
import threading

import lifeline


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_watch_network_is_the_librarys_default_and_can_be_turned_off():
    assert lifeline.default_options()["watch_network"] is True
    c = lifeline.Client("ws://127.0.0.1:1/ws", watch_network=False)
    try:
        assert c.state is lifeline.State.IDLE
        c.network_changed()  # idle: nothing, and no error
    finally:
        c.close()


def test_network_changed_makes_the_pending_attempt_now():
    states = []
    cv = threading.Condition()

    def on_state(old, new, info):
        with cv:
            states.append((new, info.attempt))
            cv.notify_all()

    url = f"ws://127.0.0.1:{closed_port()}/ws"
    with lifeline.Client(url, base_delay_ms=60000, max_delay_ms=60000, jitter_ms=0, on_state=on_state) as c:
        with cv:
            assert cv.wait_for(lambda: (lifeline.State.DISCONNECTED, 0) in states, 10)
        c.network_changed()
        with cv:
            assert cv.wait_for(lambda: (lifeline.State.CONNECTING, 1) in states, 2), states
            assert cv.wait_for(lambda: states.count((lifeline.State.DISCONNECTED, 1)) == 1, 10)
        assert c.stats().attempt == 1
