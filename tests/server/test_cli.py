"""The command line and the process: bad options exit 2 naming the option,
--help, JSON logs, SIGINT closing every connection with 1001 and SIGTERM
with 1012 (a drain: test_drain.py) and exiting 0, and the status monitor's
events."""

import asyncio
import json
import re
import signal
import subprocess

import pytest

from llserver import BIN, ROOT, closed_code, server_env, wait_until


@pytest.mark.parametrize("args, option", [
    (["--port", "http"], "--port"),
    (["--port", "65536"], "--port"),
    (["--ping-interval-ms", "0"], "--ping-interval-ms"),
    (["--ping-timeout-ms", "soon"], "--ping-timeout-ms"),
    (["--max-message-bytes", "-1"], "--max-message-bytes"),
    (["--down-after-ms", "1.5"], "--down-after-ms"),
    (["--tls-cert", "cert.pem"], "--tls-key"),
    (["--db"], "--db"),
    (["--no-such-option"], "--no-such-option"),
    (["--json=yes"], "--json"),
    (["--log-level", "verbose"], "--log-level"),
    (["--log-level"], "--log-level"),
    (["--drain-window-ms", "-1"], "--drain-window-ms"),
    (["--drain-window-ms", "3600001"], "--drain-window-ms"),
    (["--rate-limit", "fast"], "--rate-limit"),
    (["--rate-limit", "10:0"], "--rate-limit"),
    (["--rate-limit-close-ms", "100"], "--rate-limit-close-ms"),
    (["--metrics-max-stores", "-1"], "--metrics-max-stores"),
])
def test_bad_options_exit_2_naming_the_option(args, option):
    out = subprocess.run([BIN] + args, capture_output=True, text=True, timeout=10,
                         env=server_env())
    assert out.returncode == 2
    assert option in out.stderr
    assert out.stdout == ""


def test_help_lists_every_option():
    out = subprocess.run([BIN, "--help"], capture_output=True, text=True, timeout=10,
                         env=server_env())
    assert out.returncode == 0
    for option in ("--host", "--port", "--ping-interval-ms", "--ping-timeout-ms", "--db",
                   "--auth-secret", "--admin-token", "--max-message-bytes", "--tls-cert",
                   "--tls-key", "--down-after-ms", "--drain-window-ms", "--json", "--log-level",
                   "--make-token", "--version", "--rate-limit", "--rate-limit-burst-ms",
                   "--rate-limit-close-ms", "--metrics-max-stores"):
        assert option in out.stdout


def project_version():
    """The one version there is: project(version:) in meson.build."""
    text = (ROOT / "meson.build").read_text()
    return re.search(r"project\([^)]*?version:\s*'([^']+)'", text, re.S).group(1)


def test_version_prints_the_project_version_and_exits_0():
    out = subprocess.run([BIN, "--version"], capture_output=True, text=True, timeout=10,
                         env=server_env())
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"lifeline-server {project_version()}\n"
    assert out.stderr == ""


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 1001), (signal.SIGTERM, 1012)])
def test_a_signal_closes_connections_and_exits_0(start_server, sig, code):
    server = start_server()  # --drain-window-ms 0: SIGTERM's drain closes all at once

    async def go():
        conns = [await server.connect("s", f"u{i}") for i in range(3)]
        await asyncio.to_thread(server.proc.send_signal, sig)
        codes = await asyncio.gather(*(closed_code(ws) for ws in conns))
        assert codes == [code, code, code]
    asyncio.run(go())
    assert server.stop(sig) == 0


def test_json_logs_are_one_object_per_line(start_server):
    server = start_server("--json")

    async def go():
        ws = await server.connect("s", "logged")
        await ws.close()
    asyncio.run(go())
    server.wait_active(0)
    assert server.stop() == 0
    lines = [l for l in server.log().splitlines() if l.strip()]
    events = [json.loads(l) for l in lines]  # every line parses
    assert all({"ts", "level", "event"} <= set(e) for e in events)
    names = [e["event"] for e in events]
    assert names[0] == "server_starting" and "server_stopping" in names
    assert events[0]["port"] == server.port


def test_start_and_stop_lines_say_something_useful(start_server):
    # text: server_starting does not repeat its own timestamp (no at=);
    # server_stopped says how long the server ran and how many it served
    server = start_server()

    async def go():
        for i in range(2):
            ws = await server.connect("s", f"u{i}")
            await ws.close()
    asyncio.run(go())
    server.wait_active(0)
    assert server.stop() == 0
    lines = server.log().splitlines()
    start = next(l for l in lines if " server_starting " in l)
    assert " at=" not in start, start
    assert f" port={server.port} " in start + " " and f" version={project_version()} " in start + " "
    stop = next(l for l in lines if " server_stopped" in l)
    assert "bye" not in stop and "message=" not in stop, stop
    assert re.search(r" uptime_ms=\d+( |$)", stop) and " total_connections=2" in stop + " ", stop


def test_start_and_stop_lines_in_json(start_server):
    server = start_server("--json")
    assert server.stop() == 0
    events = {e["event"]: e for e in server.log_events()}
    start, stop = events["server_starting"], events["server_stopped"]
    assert "at" not in start  # ts is the event's time
    assert start["port"] == server.port and start["version"] == project_version()
    assert "message" not in stop
    assert isinstance(stop["uptime_ms"], int) and stop["total_connections"] == 0


def test_log_level_drops_the_less_severe_lines(start_server):
    # info (the default) logs the start; warn drops it but keeps warnings
    # (no_clients, due 50 ms after the start); error drops both
    def events(*args, wait_for="no_clients"):
        server = start_server("--json", "--down-after-ms", "50", *args)
        if wait_for:
            wait_until(lambda: wait_for in server.log(), timeout=5, what=wait_for)
        else:
            wait_until(lambda: server.stats()["uptime_ms"] > 300, timeout=5, what="uptime")
        assert server.stop() == 0
        return [e["event"] for e in server.log_events()]

    default = events()
    assert "server_starting" in default and "server_stopped" in default
    warn = events("--log-level", "warn")
    assert "server_starting" not in warn and "server_stopped" not in warn
    assert events("--log-level", "error", wait_for=None) == []


def test_the_monitor_reports_no_clients_and_clients_back(start_server):
    server = start_server("--json", "--down-after-ms", "300")

    def event(name):
        return [e for e in server.log_events() if e["event"] == name]

    down = wait_until(lambda: event("no_clients"), timeout=5, what="no_clients")[0]
    assert down["status"] == "no clients connected" and down["duration_ms"] >= 300

    async def go():
        ws = await server.connect("s", "back")
        back = await asyncio.to_thread(
            wait_until, lambda: event("clients_back"), 5, 0.01, "clients_back")
        assert back[0]["status"] == "clients back"
        assert back[0]["duration_ms"] >= down["duration_ms"]
        await ws.close()
    asyncio.run(go())
    # and again once the last one has gone for 300 ms
    wait_until(lambda: len(event("no_clients")) == 2, timeout=5, what="a second no_clients")


def listen_failed(*args):
    """Starts a server that cannot listen; returns its listen_failed message."""
    out = subprocess.run([BIN, "--db", ":memory:", "--json"] + list(args),
                         capture_output=True, text=True, timeout=10, env=server_env())
    assert out.returncode == 1, out.stderr
    # only the JSON lines: under ASan, LSan reports its suppressions after them
    events = [json.loads(l) for l in out.stderr.splitlines() if l.startswith("{")]
    return next(e for e in events if e["event"] == "listen_failed")["message"]


def test_the_port_in_use_is_an_error_that_says_so(start_server):
    server = start_server()
    out = subprocess.run([BIN, "--port", str(server.port), "--db", ":memory:"],
                         capture_output=True, text=True, timeout=10,
                         env=server_env())
    assert out.returncode == 1
    line = next(l for l in out.stderr.splitlines() if " listen_failed " in l)
    assert f"cannot listen on 127.0.0.1 port {server.port}: address already in use" in \
        line.lower(), line
    # the JSON form carries the same message
    assert listen_failed("--port", str(server.port)) == \
        f"cannot listen on 127.0.0.1 port {server.port}: Address already in use"


def test_an_address_not_on_this_host_is_an_error_that_says_so():
    # 192.0.2.1 is TEST-NET-1 (RFC 5737): no interface has it
    assert listen_failed("--host", "192.0.2.1", "--port", "0") == \
        "cannot listen on 192.0.2.1 port 0: Cannot assign requested address"


@pytest.mark.parametrize("host, connect", [("localhost", "127.0.0.1"), ("::1", "::1")])
def test_host_takes_names_and_ipv6(start_server, host, connect):
    import http.client
    import socket
    if ":" in connect:
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
        except OSError:
            pytest.skip("no IPv6 loopback here")
    server = start_server("--host", host)
    conn = http.client.HTTPConnection(connect, server.port, timeout=5)
    conn.request("GET", "/api/v1/websockets/health")
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["online"] is True
    conn.close()
