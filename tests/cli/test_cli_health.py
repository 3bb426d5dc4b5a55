"""Probes behind a health check (--health-url): in server_down the client
asks the health URL first and connects only when it answers 2xx."""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from test_cli import FAST, cli, server  # noqa: E402,F401  (fixtures)


def test_a_probe_connects_only_after_the_health_check_answers_2xx(cli, server):
    port = server.port
    health = f"http://127.0.0.1:{port}/api/v1/websockets/health"
    c = cli(*FAST, "--health-url", health, server.url())
    c.wait_state("connected")
    server.stop()
    c.wait_state("server_down")
    server.start(port)
    c.wait_state("connected")  # the health check passed, then the probe connected
    c.close_stdin()
    assert c.wait_exit() == 0


def test_a_failing_health_check_keeps_the_client_in_server_down(cli, server):
    port = server.port
    bad = f"http://127.0.0.1:{port}/api/v1/no-such-health"  # 404 while /ws works
    c = cli(*FAST, "--health-url", bad, server.url())
    c.wait_state("connected")
    server.stop()
    c.wait_state("server_down")
    server.start(port)
    # the WebSocket endpoint is back, but the health check answers 404: the
    # probes keep coming and none connects
    probes = 0
    end = time.monotonic() + 3
    while time.monotonic() < end:
        ev = c.wait_for(lambda e: e["event"] in ("retry", "state"), "a probe or a state",
                        deadline=max(0.1, end - time.monotonic() + 1))
        assert ev["event"] == "retry" and ev.get("probe") is True, ev
        probes += 1
        if probes >= 5:
            break
    assert probes >= 5
    c.close_stdin()
    assert c.wait_exit() == 0
