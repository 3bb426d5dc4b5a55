"""lifeline-cli --reliable and --outbox (issue 12): lifeline.v1, acknowledged
delivery, against the Node reference server (examples/node-reference,
which speaks lifeline.v1 and echoes) and tests/integration/peer.py (a
server that does not speak it).

The Node server needs /usr/bin/node and Debian's node-ws in
/usr/share/nodejs (NODE_PATH); its tests are skipped without them. Every
wait is on a line a process prints (with a deadline), never a fixed sleep;
every process started here is killed when its test ends, and every file is
in the test's temporary folder.

    /usr/bin/python3 -m pytest -q tests/cli/test_cli_reliable.py
"""
import json
import os
import selectors
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_cli import (CLI, DEADLINE, FAST, ROOT, check_event_shapes,  # noqa: E402,F401
                      cli, free_port, needs_cli, print_config, run_cli)

pytestmark = needs_cli

NODE = Path("/usr/bin/node")
NODE_PATH = "/usr/share/nodejs"
NODE_SERVER = ROOT / "examples" / "node-reference" / "server.js"
PEER = ROOT / "tests" / "integration" / "peer.py"

# FAST, with one attempt before server_down: a server that is not there ends
# the wait at the end of stdin at once.
ONE_ATTEMPT = [*FAST, "--max-attempts", "1"]


def _first_line(proc, what):
    """The first stdout line of proc, within DEADLINE (proc.stdout binary)."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    end = time.monotonic() + DEADLINE
    data = b""
    try:
        while b"\n" not in data:
            left = end - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise AssertionError(f"{what} printed no line within {DEADLINE}s")
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                raise AssertionError(f"{what} ended before it listened")
            data += chunk
    finally:
        sel.close()
    return json.loads(data.split(b"\n", 1)[0])


class Listener:
    """A server process whose first stdout line is
    {"event":"listening","port":N}; killed by stop()."""

    def __init__(self, argv, what, env=None):
        self.what = what
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env)
        try:
            ev = _first_line(self.proc, what)
        except BaseException:
            self.stop()
            raise
        assert ev["event"] == "listening", ev
        self.port = ev["port"]

    def url(self):
        return f"ws://127.0.0.1:{self.port}/ws"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            f.close()


def _node_available():
    if not NODE.exists() or not (Path(NODE_PATH) / "ws").exists():
        return False
    return NODE_SERVER.exists()


needs_node = pytest.mark.skipif(not _node_available(),
                                reason="no /usr/bin/node with ws in /usr/share/nodejs")


@pytest.fixture
def node_server():
    """Start the Node reference server: start(port=0) returns it; every
    one started is stopped at the end of the test."""
    started = []

    def start(port=0):
        s = Listener([str(NODE), str(NODE_SERVER), "--port", str(port)], "server.js",
                     env={**os.environ, "NODE_PATH": NODE_PATH})
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def no_v1_peer():
    """peer.py --mode no_subprotocol: it echoes and selects no subprotocol."""
    p = Listener(["/usr/bin/python3", str(PEER), "--mode", "no_subprotocol", "--quiet"],
                 "peer.py")
    yield p
    p.stop()


def events_of(stdout):
    return [json.loads(line) for line in stdout.splitlines()]


def of(events, name):
    return [e for e in events if e["event"] == name]


def check_reliable_shapes(events):
    check_event_shapes(events)
    for e in events:
        if e["event"] == "acked":
            assert isinstance(e["id"], int) and e["id"] >= 1, e
        elif e["event"] == "resumed":
            assert isinstance(e["recovered"], bool) and isinstance(e["replayed"], int), e


def lines(n, tag="line"):
    return [f"{tag}-{i}" for i in range(1, n + 1)]


def kept_message(n, path):
    return (f"lifeline-cli: {n} message{'' if n == 1 else 's'} not acknowledged: kept in "
            f"the outbox file {path}; the next run with --outbox {path} sends them")


# --------------------------------------------------------------------------
# Options, --print-config, configuration errors
# --------------------------------------------------------------------------

def test_help_lists_the_reliable_options():
    out = run_cli("--help").stdout
    for option in ("--reliable", "--outbox PATH", "--durability D", "--ack-every N",
                   "--ack-delay-ms N"):
        assert f"  {option} " in out, option
    assert "normal or full (default normal)" in out


@pytest.mark.parametrize("args, key, value", [
    (["--reliable"], "delivery", "reliable"),
    (["--outbox", "till.db"], "outbox_path", "till.db"),
    (["--outbox", "till.db"], "delivery", "reliable"),  # --outbox implies --reliable
    (["--durability", "full"], "outbox_durability", "full"),
    (["--durability", "normal"], "outbox_durability", "normal"),
    (["--ack-every", "4"], "ack_every", 4),
    (["--ack-delay-ms", "0"], "ack_delay_ms", 0),
])
def test_print_config_shows_the_reliable_fields(args, key, value):
    assert print_config(*args)[key] == value


@pytest.mark.parametrize("args, named", [
    (["--ack-every", "0"], "--ack-every"),
    (["--ack-every", "x"], "--ack-every"),
    (["--ack-delay-ms", "-1"], "--ack-delay-ms"),
    (["--durability", "half"], "--durability"),
    (["--reliable", "--subprotocol", "pos.v1"], "--subprotocol"),
    (["--reliable", "--app-ping"], "--app-ping"),
    (["--outbox", "x.db", "--queue-policy", "off"], "--queue-policy"),
])
def test_a_bad_reliable_option_exits_2_naming_it(args, named, tmp_path):
    r = run_cli(*args, f"ws://127.0.0.1:{free_port()}/ws")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith(f"lifeline-cli: {named}: "), r.stderr
    assert r.stdout == ""


def test_a_damaged_outbox_exits_2_with_the_library_words_and_is_left_alone(tmp_path):
    path = tmp_path / "outbox.db"
    garbage = b"not an outbox, not even SQLite\n" * 64
    path.write_bytes(garbage)
    r = run_cli("--outbox", str(path), f"ws://127.0.0.1:{free_port()}/ws", stdin="hi\n")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""  # no client: nothing connected, nothing sent
    first = r.stderr.splitlines()[0]
    assert first.startswith("lifeline-cli: --outbox: "), r.stderr
    assert str(path) in first  # lifeline_outbox_check() names the file
    assert path.read_bytes() == garbage


def test_a_sqlite_file_that_is_not_an_outbox_exits_2(tmp_path):
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE sales (id INTEGER)")
    r = run_cli("--outbox", str(path), f"ws://127.0.0.1:{free_port()}/ws", stdin="")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("lifeline-cli: --outbox: "), r.stderr
    assert str(path) in r.stderr
    assert r.stdout == ""


def test_an_outbox_that_cannot_be_created_exits_2(tmp_path):
    path = tmp_path / "no-such-folder" / "outbox.db"
    r = run_cli("--outbox", str(path), f"ws://127.0.0.1:{free_port()}/ws", stdin="")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("lifeline-cli: --outbox: "), r.stderr
    assert r.stdout == ""
    assert not path.parent.exists()


# --------------------------------------------------------------------------
# Against the Node reference server
# --------------------------------------------------------------------------

@needs_node
def test_n_lines_are_acknowledged_and_echoed_then_exit_0(node_server):
    s = node_server()
    n = 50
    sent = lines(n)
    r = run_cli("--json", "--reliable", s.url(), stdin="".join(f"{x}\n" for x in sent),
                timeout=DEADLINE)
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr)
    assert r.stderr == ""
    events = events_of(r.stdout)
    check_reliable_shapes(events)
    acked = [e["id"] for e in of(events, "acked")]
    assert acked and acked[-1] == n and acked == sorted(set(acked)), acked
    assert [e["text"] for e in of(events, "message")] == sent
    resumed = of(events, "resumed")
    assert resumed[0]["recovered"] is False and resumed[0]["replayed"] == 0  # a new session
    assert not of(events, "dropped")
    assert [e["state"] for e in of(events, "state")] == ["connecting", "connected", "closed"]


@needs_node
def test_readable_lines_for_acked_and_resumed(node_server):
    s = node_server()
    r = run_cli("--reliable", s.url(), stdin="a\nb\nc\n", timeout=DEADLINE)
    assert r.returncode == 0, (r.stdout, r.stderr)
    out = r.stdout.splitlines()
    assert any(line.endswith(" resumed: not recovered, 0 replayed") for line in out), out
    assert any(line.endswith(" message: c") for line in out), out
    assert [line.split(" ", 1)[1] for line in out if " acked " in line][-1] == "acked up to id 3"


@needs_node
def test_empty_stdin_waits_for_the_session_then_exits_0(node_server):
    s = node_server()
    r = run_cli("--json", "--reliable", s.url(), stdin="", timeout=DEADLINE)
    assert r.returncode == 0, (r.stdout, r.stderr)
    events = events_of(r.stdout)
    assert len(of(events, "resumed")) == 1
    assert not of(events, "acked")


@needs_node
def test_an_outbox_keeps_what_a_down_server_missed_for_the_next_run(node_server, tmp_path):
    outbox = tmp_path / "till.db"
    sent = lines(3, "sale")

    # 1. nobody listens: the lines stay in the outbox file, exit 4
    r = run_cli("--json", *ONE_ATTEMPT, "--outbox", str(outbox),
                f"ws://127.0.0.1:{free_port()}/ws",
                stdin="".join(f"{x}\n" for x in sent), timeout=DEADLINE)
    assert r.returncode == 4, (r.stdout, r.stderr)
    assert r.stderr.splitlines() == [kept_message(3, outbox)]
    events = events_of(r.stdout)
    assert "server_down" in [e["state"] for e in of(events, "state")]
    assert not of(events, "acked") and not of(events, "dropped")
    assert outbox.exists()

    # 2. the same --outbox, empty stdin, a server: they are delivered, exit 0
    s = node_server()
    r = run_cli("--json", "--outbox", str(outbox), s.url(), stdin="", timeout=DEADLINE)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stderr == ""
    events = events_of(r.stdout)
    check_reliable_shapes(events)
    assert [e["id"] for e in of(events, "acked")][-1] == 3
    assert [e["text"] for e in of(events, "message")] == sent

    # 3. nothing is left: nothing is sent again
    r = run_cli("--json", "--outbox", str(outbox), s.url(), stdin="", timeout=DEADLINE)
    assert r.returncode == 0, (r.stdout, r.stderr)
    events = events_of(r.stdout)
    assert not of(events, "acked") and not of(events, "message")
    assert len(of(events, "resumed")) == 1


@needs_node
def test_ids_go_on_from_the_previous_run_of_an_outbox(node_server, tmp_path):
    outbox = tmp_path / "till.db"
    s = node_server()
    r = run_cli("--json", "--outbox", str(outbox), s.url(), stdin="a\nb\n", timeout=DEADLINE)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert [e["id"] for e in of(events_of(r.stdout), "acked")][-1] == 2
    r = run_cli("--json", "--outbox", str(outbox), s.url(), stdin="c\n", timeout=DEADLINE)
    assert r.returncode == 0, (r.stdout, r.stderr)
    events = events_of(r.stdout)
    assert [e["id"] for e in of(events, "acked")] == [3]
    assert of(events, "resumed")[0]["recovered"] is True  # the server knows the session


@needs_node
def test_the_end_of_stdin_waits_across_reconnections(node_server, cli):
    # The server is not there yet when stdin ends: the CLI keeps retrying
    # (a disconnection does not end the wait) and delivers once it comes.
    port = free_port()
    c = cli(*FAST, "--max-attempts", "20", "--connect-timeout-ms", "10000",
            "--reliable", f"ws://127.0.0.1:{port}/ws")
    for x in lines(3):
        c.send_line(x)
    c.close_stdin()
    c.wait_for(lambda e: e["event"] == "retry", "a retry")
    node_server(port)
    c.wait_for(lambda e: e["event"] == "acked" and e["id"] == 3, "acked 3")
    assert c.wait_exit() == 0, c.stderr()
    assert [e["text"] for e in of(c.events, "message")] == lines(3)


# --------------------------------------------------------------------------
# Without a server, or against one that does not speak lifeline.v1
# --------------------------------------------------------------------------

def test_without_an_outbox_unacknowledged_lines_are_lost_and_said_so():
    r = run_cli("--json", *ONE_ATTEMPT, "--reliable", f"ws://127.0.0.1:{free_port()}/ws",
                stdin="a\nb\n", timeout=DEADLINE)
    assert r.returncode == 4, (r.stdout, r.stderr)
    assert r.stderr.splitlines() == [
        "lifeline-cli: 2 messages not acknowledged, lost (no --outbox)"]
    dropped = of(events_of(r.stdout), "dropped")
    assert [e["reason"] for e in dropped] == ["STOPPED", "STOPPED"]


def test_a_server_without_lifeline_v1_is_a_permanent_failure(no_v1_peer):
    r = run_cli("--json", "--reliable", no_v1_peer.url(), stdin="hi\n", timeout=DEADLINE)
    assert r.returncode == 3, (r.stdout, r.stderr)
    events = events_of(r.stdout)
    error = [e for e in of(events, "state") if e["state"] == "error"]
    assert error and error[0]["error"] == "NOT_LIFELINE", events
    assert "server does not speak lifeline.v1" in error[0]["reason"]
    assert r.stderr.startswith("lifeline-cli: permanent failure (NOT_LIFELINE): "
                               "server does not speak lifeline.v1"), r.stderr
    assert not of(events, "message")  # no plain-WebSocket fallback: nothing echoed


def test_a_permanent_failure_with_an_outbox_says_the_lines_are_kept(no_v1_peer, tmp_path):
    outbox = tmp_path / "till.db"
    r = run_cli("--outbox", str(outbox), no_v1_peer.url(), stdin="a\nb\n", timeout=DEADLINE)
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert kept_message(2, outbox) in r.stderr.splitlines(), r.stderr
