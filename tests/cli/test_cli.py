"""lifeline-cli, run as a user runs it: its options, its output, and its
behaviour against a real lifeline-server on loopback.

Binaries: LIFELINE_CLI_BIN (default build/examples/lifeline-cli) and
LIFELINE_SERVER_BIN (default build/src/server/lifeline-server), relative
paths taken from the repository root. Every wait is on an event the CLI
prints (with a deadline), never a fixed sleep; every process started here
is killed when its test ends.

    /usr/bin/python3 -m pytest -q tests/cli
"""

import ctypes
import ctypes.util
import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _binary(env, default):
    path = Path(os.environ.get(env, default))
    return path if path.is_absolute() else ROOT / path


CLI = _binary("LIFELINE_CLI_BIN", "build/examples/lifeline-cli")
SERVER = _binary("LIFELINE_SERVER_BIN", "build/src/server/lifeline-server")

# The defaults the README documents (lifeline_config_init()).
DOCUMENTED_DEFAULTS = {
    "url": None,
    "fallback_urls": [],  # the URLs after the first (issue 14)
    "base_delay_ms": 5000,
    "max_delay_ms": 30000,
    "jitter_ms": 1000,
    "jitter_mode": "additive",
    "max_attempts": 5,
    "stable_after_ms": 10000,
    "down_ping_interval_ms": 5000,
    "health_url": None,
    "connect_timeout_ms": 10000,
    "ping_interval_ms": 30000,
    "ping_timeout_ms": 10000,
    "rtt_good_ms": 300,
    "rtt_poor_ms": 1000,
    "seed": None,  # random, as --help says (issue 16)
    "headers": [],
    "subprotocol": None,
    "origin": None,
    "deflate": False,
    "proxy": None,
    "ca_file": None,
    "insecure": False,
    "app_ping": False,
    "max_message_bytes": 1048576,
    "queue_policy": "reject",
    "queue_max": 1000,
    "queue_max_bytes": 1048576,
    "json": False,
    "messages_only": False,
    "verbose": False,
    "exit_on_server_down": False,
    # reliable delivery, under the lifeline_config fields' names (issue 12)
    "delivery": "best_effort",
    "outbox_path": None,
    "outbox_durability": "normal",
    "ack_every": 32,
    "ack_delay_ms": 20,
}

# Short timings for the outage tests.
FAST = ["--base-delay-ms", "200", "--max-delay-ms", "800", "--jitter-ms", "50",
        "--max-attempts", "3", "--down-ping-interval-ms", "200",
        "--ping-interval-ms", "1000", "--ping-timeout-ms", "500",
        "--connect-timeout-ms", "2000"]

DEADLINE = 15.0  # seconds any single awaited event may take

needs_cli = pytest.mark.skipif(not CLI.exists(), reason=f"{CLI} not built")
needs_server = pytest.mark.skipif(not SERVER.exists(), reason=f"{SERVER} not built")
pytestmark = needs_cli


def run_cli(*args, stdin="", timeout=10):
    return subprocess.run([str(CLI), *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout)


def print_config(*args):
    r = run_cli("--print-config", *args)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1, r.stdout
    return json.loads(lines[0])


def free_port():
    """A port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# A running CLI whose JSON events are read as they come.
# --------------------------------------------------------------------------

class Cli:
    def __init__(self, args, tmp_path):
        self.stderr_path = tmp_path / f"cli-{time.monotonic_ns()}.err"
        self._stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(
            [str(CLI), "--json", *args], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._stderr, text=True, bufsize=1)
        self.events = []        # every event read so far, in order
        self.raw = []           # every stdout line, as printed
        self._queue = queue.Queue()
        self._next = 0          # index of the first event not yet consumed
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.raw.append(line)
            try:
                self._queue.put(json.loads(line))
            except ValueError:
                # kept as an event without ts_ms: check_event_shapes() fails on it
                self._queue.put({"event": "not-json", "line": line})
        self._queue.put(None)

    def _pump(self, timeout):
        item = self._queue.get(timeout=timeout)
        if item is None:
            raise EOFError("lifeline-cli closed its stdout")
        self.events.append(item)

    def wait_for(self, pred, what, deadline=DEADLINE):
        """The first event not yet consumed that satisfies pred; the events
        before it are consumed too."""
        end = time.monotonic() + deadline
        while True:
            while self._next < len(self.events):
                ev = self.events[self._next]
                self._next += 1
                if pred(ev):
                    return ev
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {what} within {deadline}s; events: {self.events}")
            try:
                self._pump(left)
            except queue.Empty:
                continue
            except EOFError:
                raise AssertionError(f"CLI ended before {what}; events: {self.events}; "
                                     f"stderr: {self.stderr()}") from None

    def wait_state(self, state, deadline=DEADLINE):
        return self.wait_for(lambda e: e["event"] == "state" and e["state"] == state,
                             f"state {state}", deadline)

    def send_line(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close_stdin(self):
        self.proc.stdin.close()

    def wait_exit(self, deadline=DEADLINE):
        code = self.proc.wait(timeout=deadline)
        self._reader.join(timeout=deadline)
        while True:  # everything it printed, for the caller to inspect
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                self.events.append(item)
        return code

    def stderr(self):
        self._stderr.flush()
        return self.stderr_path.read_text()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        self._stderr.close()


@pytest.fixture
def cli(tmp_path):
    started = []

    def start(*args):
        c = Cli(list(args), tmp_path)
        started.append(c)
        return c

    yield start
    for c in started:
        c.kill()


# --------------------------------------------------------------------------
# lifeline-server on a free port, stoppable and restartable on that port.
# --------------------------------------------------------------------------

class Server:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.proc = None
        self.port = 0
        self._runs = 0

    def start(self, port=0):
        """Start on port (0: a free one) and return once it listens."""
        end = time.monotonic() + DEADLINE
        while True:
            self._runs += 1
            out = self.tmp_path / f"server-{self._runs}.out"
            err = self.tmp_path / f"server-{self._runs}.err"
            with open(out, "w") as o, open(err, "w") as e:
                self.proc = subprocess.Popen(
                    [str(SERVER), "--host", "127.0.0.1", "--port", str(port),
                     "--db", str(self.tmp_path / "server.db")],
                    stdout=o, stderr=e, stdin=subprocess.DEVNULL)
            line = self._first_line(out, end)
            if line is not None:
                ev = json.loads(line)
                assert ev["event"] == "listening", line
                self.port = ev["port"]
                return self
            # it exited without listening: the port may still be held
            if time.monotonic() > end:
                raise AssertionError(f"lifeline-server did not start: {err.read_text()}")
            time.sleep(0.1)  # between two start attempts, not a synchronisation

    def _first_line(self, out, end):
        while time.monotonic() < end:
            text = out.read_text()
            if "\n" in text:
                return text.split("\n", 1)[0]
            if self.proc.poll() is not None:
                return None
            time.sleep(0.02)
        raise AssertionError("lifeline-server printed nothing")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def url(self, query="store=S1&user=U1"):
        return f"ws://127.0.0.1:{self.port}/ws?{query}"

    def fault(self, mode, duration_ms=60000):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1/admin/fault",
            data=json.dumps({"mode": mode, "duration_ms": duration_ms}).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            assert 200 <= r.status < 300

    def stats(self):
        """GET /api/v1/websockets/stats: messages_in, messages_out..."""
        url = f"http://127.0.0.1:{self.port}/api/v1/websockets/stats"
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.loads(r.read())


@pytest.fixture
def server(tmp_path):
    if not SERVER.exists():
        pytest.skip(f"{SERVER} not built")
    s = Server(tmp_path).start()
    yield s
    s.stop()


# --------------------------------------------------------------------------
# Options and --print-config
# --------------------------------------------------------------------------

def test_help_exits_0_and_shows_the_defaults():
    r = run_cli("--help")
    assert r.returncode == 0
    assert r.stdout.startswith("Usage: lifeline-cli")
    assert "--base-delay-ms N         first retry delay (default 5000)" in r.stdout
    assert "Exit status" in r.stdout
    assert run_cli("-h").returncode == 0


def test_seed_default_is_random_in_help_and_print_config():
    # issue 16: --help said "default: random", --print-config "seed":0
    assert "(default: random," in run_cli("--help").stdout
    assert print_config()["seed"] is None


def test_version_exits_0():
    r = run_cli("--version")
    assert r.returncode == 0
    assert r.stdout.startswith("lifeline-cli ")


def test_print_config_defaults_are_the_documented_defaults():
    cfg = print_config()
    for key, value in DOCUMENTED_DEFAULTS.items():
        assert cfg[key] == value, key


@pytest.mark.parametrize("args, key, value", [
    (["--base-delay-ms", "100"], "base_delay_ms", 100),
    (["--max-delay-ms", "60000"], "max_delay_ms", 60000),
    (["--jitter-ms", "0"], "jitter_ms", 0),
    (["--jitter-mode", "full"], "jitter_mode", "full"),
    (["--max-attempts", "8"], "max_attempts", 8),
    (["--stable-after-ms", "500"], "stable_after_ms", 500),
    (["--down-ping-interval-ms", "700"], "down_ping_interval_ms", 700),
    (["--health-url", "http://h:8080/health"], "health_url", "http://h:8080/health"),
    (["--connect-timeout-ms", "3000"], "connect_timeout_ms", 3000),
    (["--ping-interval-ms", "2000", "--ping-timeout-ms", "1000"], "ping_interval_ms", 2000),
    (["--ping-interval-ms", "2000", "--ping-timeout-ms", "1000"], "ping_timeout_ms", 1000),
    (["--rtt-good-ms", "100"], "rtt_good_ms", 100),
    (["--rtt-poor-ms", "2000"], "rtt_poor_ms", 2000),
    (["--seed", "18446744073709551615"], "seed", 18446744073709551615),
    (["--seed", "1"], "seed", 1),
    (["--seed", "0"], "seed", None),  # 0 asks for a random seed
    (["--header", "X-Store: 1", "-H", "X-Lane: 2"], "headers", ["X-Store: ***", "X-Lane: ***"]),
    (["--subprotocol", "pos.v1"], "subprotocol", "pos.v1"),
    (["--origin", "https://pos.example"], "origin", "https://pos.example"),
    (["--proxy", "proxy.local:3128"], "proxy", "proxy.local:3128"),
    (["--insecure"], "insecure", True),
    (["--app-ping"], "app_ping", True),
    (["--max-message-bytes", "4096"], "max_message_bytes", 4096),
    (["--queue-policy", "drop-oldest"], "queue_policy", "drop-oldest"),
    (["--queue-policy", "drop_oldest"], "queue_policy", "drop-oldest"),  # the C name
    (["--queue-policy", "off"], "queue_policy", "off"),
    (["--queue-max", "5"], "queue_max", 5),
    (["--queue-max-bytes", "65536"], "queue_max_bytes", 65536),
    (["--json"], "json", True),
    (["--messages-only"], "messages_only", True),
    (["-m"], "messages_only", True),
    (["--verbose"], "verbose", True),
    (["--verbose"], "log_level", "debug"),
    (["--log-level", "info"], "log_level", "info"),
    (["--exit-on-server-down"], "exit_on_server_down", True),
    (["ws://pos.example:8080/ws"], "url", "ws://pos.example:8080/ws"),
])
def test_print_config_reflects_overrides(args, key, value):
    assert print_config(*args)[key] == value


def _lws_version():
    lws = ctypes.CDLL(ctypes.util.find_library("websockets"))
    lws.lws_get_library_version.restype = ctypes.c_char_p
    return tuple(int(x) for x in lws.lws_get_library_version().decode().split(".")[:2])


def test_deflate_is_printed_or_refused_as_the_library_would():
    # lifeline_config_validate() refuses it on libwebsockets 4.1 (whose
    # client stalls with it), so the CLI does before it prints anything
    if _lws_version() >= (4, 2):
        assert print_config("--deflate")["deflate"] is True
    else:
        r = run_cli("--print-config", "--deflate")
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr.startswith("lifeline-cli: --deflate: "), r.stderr


def test_print_config_reads_ca_file(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    assert print_config("--ca-file", str(ca))["ca_file"] == str(ca)


@pytest.mark.parametrize("args, named", [
    (["--base-delay-ms", "0"], "--base-delay-ms"),
    (["--base-delay-ms", "-1"], "--base-delay-ms"),
    (["--base-delay-ms", "abc"], "--base-delay-ms"),
    (["--base-delay-ms", "99999999999"], "--base-delay-ms"),
    (["--max-delay-ms", "10"], "--max-delay-ms"),
    (["--base-delay-ms", "60000"], "--base-delay-ms"),
    (["--jitter-ms", "-5"], "--jitter-ms"),
    (["--jitter-mode", "half"], "--jitter-mode"),
    (["--max-attempts", "0"], "--max-attempts"),
    (["--stable-after-ms", "-1"], "--stable-after-ms"),
    (["--down-ping-interval-ms", "0"], "--down-ping-interval-ms"),
    (["--health-url", "ftp://h/"], "--health-url"),
    (["--connect-timeout-ms", "0"], "--connect-timeout-ms"),
    (["--ping-interval-ms", "0"], "--ping-interval-ms"),
    (["--ping-interval-ms", "5000"], "--ping-interval-ms"),
    (["--ping-timeout-ms", "0"], "--ping-timeout-ms"),
    (["--ping-timeout-ms", "40000"], "--ping-timeout-ms"),
    (["--rtt-good-ms", "0"], "--rtt-good-ms"),
    (["--rtt-poor-ms", "100"], "--rtt-poor-ms"),
    (["--rtt-good-ms", "2000"], "--rtt-good-ms"),
    (["--alert-min-interval-ms", "-1"], "--alert-min-interval-ms"),
    (["--discord-webhook", "ftp://hook"], "--discord-webhook"),
    (["--alert-label", "no colon"], "--alert-label"),
    (["--seed", "-1"], "--seed"),
    (["--header", "no colon here"], "--header"),
    (["--header", ": empty name"], "--header"),
    (["--proxy", "nohostport"], "--proxy"),
    (["--proxy", "h:99999"], "--proxy"),
    (["--ca-file", "/nonexistent/ca.pem"], "--ca-file"),
    (["--max-message-bytes", "0"], "--max-message-bytes"),
    (["--max-message-bytes", "-1"], "--max-message-bytes"),
    (["--queue-policy", "sometimes"], "--queue-policy"),
    (["--queue-max", "0"], "--queue-max"),
    (["--queue-max-bytes", "0"], "--queue-max-bytes"),
    (["--log-level", "loud"], "--log-level"),
    (["--max-attempts"], "--max-attempts"),
    (["--json=yes"], "--json"),
    (["--no-such-option"], "--no-such-option"),
    (["-x"], "-x"),
])
def test_bad_option_exits_2_naming_it(args, named):
    r = run_cli(*args, "ws://127.0.0.1:9/ws")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith(f"lifeline-cli: {named}"), r.stderr
    assert r.stdout == ""


def test_config_errors_use_the_library_message():
    r = run_cli("--ping-timeout-ms", "40000", "ws://127.0.0.1:9/ws")
    assert r.stderr == ("lifeline-cli: --ping-timeout-ms: ping_timeout_ms must be "
                        "greater than zero and below ping_interval_ms\n")


@pytest.mark.parametrize("args", [
    [],                                   # no URL
    ["http://127.0.0.1/ws"],             # not ws:// or wss://
    ["ws://"],                            # no host
    ["ws://a/ws", "http://b/ws"],         # a second URL (a fallback) that is bad
])
def test_bad_url_exits_2(args):
    r = run_cli(*args)
    assert r.returncode == 2
    assert "URL" in r.stderr


SECRET_HEADER = "Bearer hdr-secret-4f2a9c"
SECRET_TOKEN = "tok-secret-7d1e0b"
SECRET_PASSWORD = "pw-secret-93ab61"


def test_print_config_redacts_header_values_and_url_secrets():
    r = run_cli("--print-config", "--header", f"Authorization: {SECRET_HEADER}",
                "--health-url", f"http://127.0.0.1:9/health?key={SECRET_TOKEN}",
                f"ws://kiosk:{SECRET_PASSWORD}@127.0.0.1:9/ws?store=S1&token={SECRET_TOKEN}")
    assert r.returncode == 0
    for secret in (SECRET_HEADER, "hdr-secret", SECRET_TOKEN, SECRET_PASSWORD):
        assert secret not in r.stdout
    cfg = json.loads(r.stdout)
    assert cfg["headers"] == ["Authorization: ***"]
    assert cfg["url"] == "ws://***@127.0.0.1:9/ws?store=***&token=***"
    assert cfg["health_url"] == "http://127.0.0.1:9/health?key=***"


def test_bad_header_is_not_echoed():
    r = run_cli("--header", f"Authorization {SECRET_HEADER}", "ws://127.0.0.1:9/ws")
    assert r.returncode == 2
    assert "hdr-secret" not in r.stderr


# --------------------------------------------------------------------------
# Without a server
# --------------------------------------------------------------------------

def test_refused_connection_retries_then_exit_on_server_down_gives_4(cli):
    c = cli(*FAST, "--exit-on-server-down", f"ws://127.0.0.1:{free_port()}/ws")
    c.wait_state("server_down")
    assert c.wait_exit() == 4


def test_sends_refused_while_offline_are_reported(cli):
    c = cli("--queue-policy", "off", f"ws://127.0.0.1:{free_port()}/ws")
    c.send_line("hello")
    ev = c.wait_for(lambda e: e["event"] == "dropped", "dropped")
    assert ev == {**ev, "count": 1, "reason": "NOT_CONNECTED", "refused": True}
    c.close_stdin()
    assert c.wait_exit() == 4  # a line was not delivered (issue 16)


def test_a_line_longer_than_max_message_bytes_is_refused(cli):
    c = cli("--max-message-bytes", "8", f"ws://127.0.0.1:{free_port()}/ws")
    c.send_line("x" * 9)
    ev = c.wait_for(lambda e: e["event"] == "dropped", "dropped")
    assert ev["reason"] == "MESSAGE_TOO_BIG" and ev["refused"] is True
    c.close_stdin()
    assert c.wait_exit() == 4  # a line was not delivered (issue 16)


def test_messages_still_queued_at_eof_are_reported_dropped(cli):
    c = cli(f"ws://127.0.0.1:{free_port()}/ws")
    c.send_line("one")
    c.send_line("two")
    c.close_stdin()
    assert c.wait_exit() == 4  # issue 16: dropped lines are not a success
    assert "2 messages not delivered" in c.stderr()
    dropped = [e for e in c.events if e["event"] == "dropped"]
    assert [e["reason"] for e in dropped] == ["STOPPED", "STOPPED"]
    assert [e for e in c.events if e["event"] == "state"][-1]["state"] == "closed"


def test_sigterm_closes_gracefully(cli):
    c = cli(f"ws://127.0.0.1:{free_port()}/ws")
    c.wait_state("connecting")
    c.proc.send_signal(signal.SIGTERM)
    assert c.wait_exit() == 128 + signal.SIGTERM
    assert [e for e in c.events if e["event"] == "state"][-1]["state"] == "closed"


# --------------------------------------------------------------------------
# Against lifeline-server
# --------------------------------------------------------------------------

def check_event_shapes(events):
    last = -1
    for e in events:
        assert isinstance(e["event"], str) and isinstance(e["ts_ms"], int), e
        assert e["ts_ms"] >= last, "ts_ms goes back"
        last = e["ts_ms"]
        if e["event"] == "state":
            assert {"state", "from", "attempt", "reason"} <= e.keys(), e
            assert e["state"] in ("idle", "connecting", "connected", "disconnected",
                                  "error", "server_down", "closed")
        elif e["event"] == "retry":
            assert isinstance(e["attempt"], int) and isinstance(e["delay_ms"], int), e
        elif e["event"] == "pong":
            assert isinstance(e["rtt_ms"], int) and e["quality"] in (
                "unknown", "excellent", "good", "poor"), e


@needs_server
def test_connect_echo_and_close_on_eof(cli, server):
    c = cli(server.url())
    c.wait_state("connected")
    c.send_line('{"type":"echo","data":"hi"}')
    msg = c.wait_for(lambda e: e["event"] == "message", "message")
    assert json.loads(msg["text"])["data"] == "hi"
    c.close_stdin()
    closed = c.wait_state("closed")
    assert closed["from"] == "connected"
    assert c.wait_exit() == 0
    check_event_shapes(c.events)
    assert not [e for e in c.events if e["event"] == "dropped"]


@needs_server
def test_lines_sent_before_the_connection_opens_are_delivered(cli, server):
    c = cli(server.url())
    c.send_line('{"type":"echo","data":"early"}')
    msg = c.wait_for(lambda e: e["event"] == "message", "message")
    assert json.loads(msg["text"])["data"] == "early"
    c.close_stdin()
    assert c.wait_exit() == 0


@needs_server
def test_pongs_grade_the_connection(cli, server):
    c = cli("--ping-interval-ms", "300", "--ping-timeout-ms", "200", server.url())
    c.wait_state("connected")
    pong = c.wait_for(lambda e: e["event"] == "pong", "pong")
    assert pong["rtt_ms"] >= 0
    c.wait_for(lambda e: e["event"] == "quality" and e["quality"] == "excellent",
               "quality excellent")
    c.close_stdin()
    assert c.wait_exit() == 0


def expected_delay(attempt, base=200, cap=800):
    return min(base * 2 ** (attempt - 1), cap)


@needs_server
def test_server_killed_retries_on_schedule_then_down_then_recovers(cli, server):
    c = cli(*FAST, server.url())
    c.wait_state("connected")
    server.stop()

    down = c.wait_state("server_down")
    events = c.events[:c.events.index(down)]
    lost = max(i for i, e in enumerate(events)
               if e["event"] == "state" and e["from"] == "connected")
    retries = [e for e in events[lost:] if e["event"] == "retry"]
    assert [r["attempt"] for r in retries] == [1, 2, 3]
    for r in retries:
        base = expected_delay(r["attempt"])
        assert base <= r["delay_ms"] < base + 50, r
        assert "probe" not in r
    # each retry's attempt is tried, and the last failure is judged down
    attempts = [e["attempt"] for e in events[lost:]
                if e["event"] == "state" and e["state"] == "connecting"]
    assert attempts == [1, 2, 3]
    assert down["attempt"] == 3 and down.get("error")

    probe = c.wait_for(lambda e: e["event"] == "retry" and e.get("probe"), "probe")
    assert probe["delay_ms"] == 200

    server.start(port=server.port)
    back = c.wait_state("connected")
    assert back["from"] == "server_down"
    c.send_line('{"type":"echo","data":"back"}')
    msg = c.wait_for(lambda e: e["event"] == "message", "message")
    assert json.loads(msg["text"])["data"] == "back"
    c.close_stdin()
    assert c.wait_exit() == 0
    check_event_shapes(c.events)


@needs_server
def test_a_restart_with_a_drain_is_retried_and_recovers(cli, server):
    # SIGTERM: lifeline-server drains, closing with 1012 ("service
    # restart"), which the client takes as a lost connection (never an
    # error) and retries on schedule until the server is back
    c = cli(*FAST, server.url())
    c.wait_state("connected")
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(DEADLINE) == 0  # one connection: closed at once
    lost = c.wait_state("disconnected")
    assert lost["from"] == "connected" and lost["error"] == "CLOSED_BY_PEER", lost
    retry = c.wait_for(lambda e: e["event"] == "retry", "retry")
    assert retry["attempt"] == 1 and not retry.get("probe")
    server.start(port=server.port)
    back = c.wait_state("connected")
    assert not [e for e in c.events if e["event"] == "state" and e["state"] == "error"]
    assert back["from"] in ("connecting", "server_down"), back
    c.close_stdin()
    assert c.wait_exit() == 0
    check_event_shapes(c.events)


@needs_server
def test_upgrade_refused_with_401_exits_3(cli, server):
    server.fault("reject_401", 60000)
    c = cli(*FAST, server.url())
    err = c.wait_state("error")
    assert err["http_status"] == 401
    assert err["error"] == "HTTP_STATUS"
    assert c.wait_exit() == 3
    assert c.events[-1]["event"] in ("state", "quality")
    assert [e for e in c.events if e["event"] == "state"][-1]["state"] == "closed"
    assert "401" in c.stderr()


@needs_server
def test_secrets_never_printed_with_json_verbose(cli, server):
    c = cli("--verbose", "--header", f"Authorization: {SECRET_HEADER}",
            "--header", f"X-Api-Key: {SECRET_TOKEN}",
            server.url(f"store=S1&user=U1&token={SECRET_TOKEN}"))
    c.wait_state("connected")
    c.send_line('{"type":"echo","data":"hi"}')
    c.wait_for(lambda e: e["event"] == "message", "message")
    server.stop()  # the failure paths log too
    c.wait_state("disconnected")
    c.close_stdin()
    assert c.wait_exit() == 0
    printed = "".join(c.raw) + c.stderr()
    assert any(e["event"] == "log" for e in c.events), "--verbose printed no log"
    for secret in (SECRET_HEADER, "hdr-secret", SECRET_TOKEN):
        assert secret not in printed


@needs_server
def test_a_secret_inside_a_longer_one_leaves_no_tail(cli, server):
    # The header value is the start of the token: the library must replace
    # the token whole (the longest secret), not the header value in it
    # followed by the token's tail (issue 10, item 18).
    short, tail = "pfx-secret-1a", "-tail-9c4e"
    c = cli("--verbose", "--header", f"X-Key: {short}",
            server.url(f"store=S1&user=U1&token={short}{tail}"))
    c.wait_state("connected")
    c.close_stdin()
    assert c.wait_exit() == 0
    printed = "".join(c.raw) + c.stderr()
    assert any("token=***" in e.get("line", "") for e in c.events if e["event"] == "log")
    assert short not in printed
    assert tail not in printed


@needs_server
def test_readable_output_names_each_transition(tmp_path, server):
    proc = subprocess.Popen([str(CLI), server.url()], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        second = proc.stdout.readline()
        assert " state idle -> connecting (attempt 0)" in first
        assert " state connecting -> connected (attempt 0)" in second
        assert "\033[" not in first + second  # no status line on a pipe
        out, _ = proc.communicate(input="", timeout=DEADLINE)
        assert proc.returncode == 0
        assert "-> closed" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@needs_server
@pytest.mark.parametrize("json_events", [False, True])
def test_messages_only_puts_the_messages_alone_on_stdout(server, json_events):
    # issue 16: `lifeline-cli -m URL | jq` must see message bodies only
    args = ["-m", "--json"] if json_events else ["--messages-only"]
    lines = ['{"type":"echo","data":"one"}', '{"type":"echo","data":"two"}']
    proc = subprocess.Popen([str(CLI), *args, server.url()], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in lines:
            proc.stdin.write(line + "\n")
        proc.stdin.flush()
        got = [proc.stdout.readline(), proc.stdout.readline()]
        out, err = proc.communicate(input=None, timeout=DEADLINE)
        assert proc.returncode == 0, err
        assert out == ""
        assert [json.loads(g)["data"] for g in got] == ["one", "two"]
        assert all(json.loads(g)["type"] == "echo" for g in got)
        if json_events:
            events = [json.loads(e) for e in err.splitlines()]
            assert [e["state"] for e in events if e["event"] == "state"][-1] == "closed"
            assert not [e for e in events if e["event"] == "message"]
        else:
            assert "state connecting -> connected" in err
            assert "message:" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@needs_server
def test_a_refused_upgrade_says_its_status_once(server):
    # issue 16: "(HTTP 401) [HTTP_STATUS] [http 401]" said it three times
    server.fault("reject_401", 60000)
    # stdin stays open: the error alone ends the CLI
    proc = subprocess.Popen([str(CLI), *FAST, server.url()], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.wait(timeout=DEADLINE)
        out, err = proc.stdout.read(), proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for f in (proc.stdin, proc.stdout, proc.stderr):
            f.close()
    assert proc.returncode == 3
    line = next(l for l in out.splitlines() if "-> error" in l)
    assert line.count("401") == 1, line
    assert "HTTP_STATUS" not in line and "[http" not in line, line
    # and the server's body, which says why (issue 16)
    assert line.endswith('server refused the WebSocket upgrade (HTTP 401): '
                         'the server said "{"error":"rejected (fault injection)"}"'), line
    assert err.count("401") == 1, err


def test_status_line_counts_the_next_retry_down_on_a_terminal():
    # issue 16: "next in 2000 ms" stayed at 2000 until the retry
    import pty
    import re
    import select
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(CLI), "--base-delay-ms", "2000", "--jitter-ms", "0",
                             f"ws://127.0.0.1:{free_port()}/ws"],
                            stdin=subprocess.PIPE, stdout=slave, stderr=subprocess.DEVNULL)
    os.close(slave)
    try:
        text, first_at = b"", None
        end = time.monotonic() + DEADLINE
        # read for one second from the first "next in": within the first
        # retry's 2000 ms wait, the redraws must count down
        while time.monotonic() < (first_at + 1.0 if first_at else end):
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    text += os.read(master, 4096)
                except OSError:
                    break
            if first_at is None and b"next in" in text:
                first_at = time.monotonic()
        seen = [int(v) for v in re.findall(rb"next in (\d+) ms", text)]
        assert len(set(seen)) >= 4, text
        assert seen == sorted(seen, reverse=True), seen
        assert seen[0] <= 2000 and seen[-1] >= 800, seen
    finally:
        proc.kill()
        proc.wait()
        proc.stdin.close()
        os.close(master)


# Issue 16: at the end of stdin, the exit status says whether what was sent
# was written and whether the connection opened.

@needs_server
def test_empty_stdin_against_a_refused_upgrade_exits_3(server):
    r = run_cli(f"ws://127.0.0.1:{server.port}/ws", stdin="")  # no store: HTTP 400
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert "-> error" in r.stdout and "400" in r.stderr


def test_a_line_sent_to_nobody_exits_4():
    r = run_cli(f"ws://127.0.0.1:{free_port()}/ws", stdin="hi\n")
    assert r.returncode == 4, (r.stdout, r.stderr)
    assert "dropped 1 message: STOPPED" in r.stdout
    assert "lifeline-cli: 1 message not delivered" in r.stderr


def test_empty_stdin_when_the_connection_never_opens_exits_4():
    r = run_cli(f"ws://127.0.0.1:{free_port()}/ws", stdin="")
    assert r.returncode == 4, (r.stdout, r.stderr)
    assert "lifeline-cli: the connection never opened" in r.stderr


@needs_server
def test_empty_stdin_waits_for_the_connection_then_exits_0(server):
    r = run_cli("--json", server.url(), stdin="")
    assert r.returncode == 0, (r.stdout, r.stderr)
    states = [json.loads(l)["state"] for l in r.stdout.splitlines()
              if json.loads(l)["event"] == "state"]
    assert states == ["connecting", "connected", "closed"]


@needs_server
def test_many_lines_piped_at_once_all_reach_the_server_then_exit_0(server):
    # issue 16: at the end of stdin the CLI waits for the connection only;
    # the stop writes what is still queued before its close. The burst
    # arrives before the connection opens, so the queue must hold it all
    # (--queue-max). Broadcasts to a store where the CLI is alone are
    # answered by nothing, so the count is the server's (messages_in), not
    # echoes: the library reports no message once its stop has begun.
    n = 2000
    lines = "".join(f'{{"type":"broadcast","data":{i}}}\n' for i in range(n))
    r = run_cli("--json", "--queue-max", str(n), server.url(), stdin=lines, timeout=DEADLINE)
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr)
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert not [e for e in events if e["event"] == "dropped"], r.stderr
    assert [e["state"] for e in events if e["event"] == "state"] == [
        "connecting", "connected", "closed"]
    assert server.stats()["messages_in"] == n
