"""lifeline-gtk, the till's status window, driven headless under Xvfb.

Each app runs as `xvfb-run -a lifeline-gtk --self-test ...`: it prints a
JSON line each time what its window shows changes, read back from the
widgets (pill text and colour, detail line, quality, RTT, heartbeat dot,
Reconnect button, log), and takes commands on stdin (reconnect, send TEXT,
screenshot PATH, quit). lifeline-server runs on a free port, is killed
(SIGKILL) and restarted on the same port. Every wait is on a line the app
prints, with a deadline; never a fixed sleep.

Binaries: LIFELINE_GTK_BIN (default build/examples/lifeline-gtk/lifeline-gtk)
and LIFELINE_SERVER_BIN (default build/src/server/lifeline-server). Missing
GTK (the binary was not built), xvfb-run or the server skip these tests,
unless LIFELINE_GTK_REQUIRED=1 (CI), which makes them fail.
LIFELINE_GTK_SCREENSHOTS=DIR copies the connected, retrying and server-down
screenshots there (docs/ holds the committed ones: scripts/gtk-screenshots).

    /usr/bin/python3 -m pytest -q tests/gtk
"""

import json
import os
import queue
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# lifeline-server on a free port, killable (stop: SIGKILL) and restartable
# on that port, and how binaries are found: the CLI suite's (one source)
sys.path.insert(0, str(ROOT / "tests" / "cli"))
from test_cli import SERVER, Server, _binary  # noqa: E402

GTK_APP = _binary("LIFELINE_GTK_BIN", "build/examples/lifeline-gtk/lifeline-gtk")
REQUIRED = os.environ.get("LIFELINE_GTK_REQUIRED") == "1"
SCREENSHOTS = os.environ.get("LIFELINE_GTK_SCREENSHOTS")
XVFB_RUN = shutil.which("xvfb-run")

DEADLINE = 15.0  # seconds any single awaited view may take
TILL = "store=S1&user=till-1"  # the query of the URLs it connects to


def _missing():
    if not GTK_APP.exists():
        return f"{GTK_APP} not built (GTK 4 not found: apt-get install libgtk-4-dev, -Dgtk=enabled)"
    if not XVFB_RUN:
        return "xvfb-run not found (apt-get install xvfb xauth)"
    if not SERVER.exists():
        return f"{SERVER} not built"
    return None


@pytest.fixture(autouse=True)
def _prerequisites():
    why = _missing()
    if why:
        if REQUIRED:
            pytest.fail(f"LIFELINE_GTK_REQUIRED=1 but {why}")
        pytest.skip(why)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def png_size(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])




@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path).start()
    yield s
    s.stop()


# --------------------------------------------------------------------------
# The app under Xvfb, its views read as they come.
# --------------------------------------------------------------------------

class App:
    def __init__(self, args, tmp_path):
        self.tmp_path = tmp_path
        self.stderr_path = tmp_path / f"gtk-{time.monotonic_ns()}.err"
        self._stderr = open(self.stderr_path, "w")
        env = dict(os.environ, GTK_A11Y="none", NO_AT_BRIDGE="1")
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
        # xvfb-run, Xvfb and the app in a process group of their own, so that
        # a test that fails half-way leaves none of them behind
        self.proc = subprocess.Popen(
            [XVFB_RUN, "-a", "-s", "-screen 0 1024x768x24",
             str(GTK_APP), "--self-test", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            text=True, bufsize=1, env=env, start_new_session=True)
        self.lines = []         # every JSON line, in order
        self._queue = queue.Queue()
        self._next = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                self._queue.put(json.loads(line))
            except ValueError:
                self._queue.put({"event": "not-json", "line": line})
        self._queue.put(None)

    def wait_for(self, pred, what, deadline=DEADLINE):
        """The first line not yet consumed that satisfies pred; the lines
        before it are consumed too."""
        end = time.monotonic() + deadline
        while True:
            while self._next < len(self.lines):
                ev = self.lines[self._next]
                self._next += 1
                assert ev["event"] != "not-json", f"not JSON: {ev['line']!r}"
                if pred(ev):
                    return ev
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {what} within {deadline}s; last lines: "
                                     f"{self.lines[-8:]}; stderr: {self.stderr()}")
            try:
                item = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            if item is None:
                raise AssertionError(f"lifeline-gtk ended before {what}; last lines: "
                                     f"{self.lines[-8:]}; stderr: {self.stderr()}")
            self.lines.append(item)

    def view(self, what, deadline=DEADLINE, **want):
        """The next view whose fields equal want (a compiled regex matches)."""
        def match(ev):
            if ev["event"] != "view":
                return False
            for k, v in want.items():
                if isinstance(v, re.Pattern):
                    if not v.search(str(ev[k])):
                        return False
                elif callable(v):
                    if not v(ev[k]):
                        return False
                elif ev[k] != v:
                    return False
            return True
        return self.wait_for(match, what, deadline)

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def ack(self, name, deadline=DEADLINE):
        return self.wait_for(lambda e: e["event"] == "command" and e["command"] == name,
                             f"the answer to {name}", deadline)

    def screenshot(self, name):
        path = self.tmp_path / f"{name}.png"
        self.command(f"screenshot {path}")
        ev = self.wait_for(lambda e: e["event"] == "screenshot", f"screenshot {name}")
        assert ev["ok"], ev
        assert png_size(path) == (ev["width"], ev["height"])
        assert ev["width"] >= 300 and ev["height"] >= 200, ev
        if SCREENSHOTS:
            shutil.copyfile(path, Path(SCREENSHOTS) / f"gtk-{name}.png")
        return path

    def quit(self, deadline=DEADLINE):
        self.command("quit")
        self.ack("quit")
        code = self.proc.wait(timeout=deadline)
        self._reader.join(timeout=deadline)
        return code

    def stderr(self):
        self._stderr.flush()
        return self.stderr_path.read_text()

    def kill(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # the app quits at the end of stdin
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # Xvfb too, if still there
        except ProcessLookupError:
            pass
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        self._stderr.close()


@pytest.fixture
def app(tmp_path):
    started = []

    def start(*args):
        a = App(list(args), tmp_path)
        started.append(a)
        return a

    yield start
    for a in started:
        a.kill()


def assert_quiet(a):
    """No GLib or GTK warning or critical on stderr."""
    err = a.stderr()
    assert not re.search(r"(CRITICAL|WARNING) \*\*", err), err


# The heartbeat fast (pings every 300 ms), the waits short and exact.
FAST = ["--ping-interval-ms", "300", "--ping-timeout-ms", "250",
        "--connect-timeout-ms", "2000", "--stable-after-ms", "300", "--jitter-ms", "0"]

DETAIL_RETRY = re.compile(r"^attempt (\d+)/(\d+), next try in (\d+) s$")


# --------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------

def test_window_shows_connected_outage_server_down_and_recovery(server, app):
    a = app(*FAST, "--base-delay-ms", "1000", "--max-delay-ms", "4000", "--max-attempts", "3",
            "--down-ping-interval-ms", "1000", server.url(TILL))

    # connected: the green pill, a grade, an RTT, and the heartbeat blinking
    v = a.view("Connected with a pong", pill="Connected", pill_color="green",
               rtt_ms=lambda r: r is not None)
    assert v["quality"] in ("Excellent", "Good", "Poor"), v
    assert v["detail"].startswith("connected since "), v
    assert v["server"].startswith(f"ws://127.0.0.1:{server.port}/ws"), v
    assert "till-1" not in v["server"], "the query's values are redacted"
    assert not v["reconnect_enabled"], v
    on = a.view("the heartbeat dot lit", heartbeat="on")
    off = a.view("the heartbeat dot off again", heartbeat="off")
    again = a.view("the next pong lights it again", heartbeat="on",
                   pongs=lambda n: n > on["pongs"])
    assert off["t_ms"] <= again["t_ms"]

    # the send box: the message goes out and the server's echo comes back
    a.command("send hello from till 1")
    a.ack("send")
    a.view("the echo in the log", log_last=re.compile(r"\u2190 hello from till 1$"))
    a.screenshot("connected")

    # the server dies: Disconnected, the backoff doubling (1 s, 2 s, 4 s),
    # each wait counted down live
    server.stop()
    lost = a.view("Disconnected", pill="Disconnected", pill_color="orange",
                  detail=DETAIL_RETRY)
    assert lost["quality"] == "-", "no grade without a connection"
    assert lost["reconnect_enabled"], lost
    assert lost["detail"] == "attempt 1/3, next try in 1 s", lost
    a.view("attempt 2/3 after 2 s", pill="Disconnected", detail="attempt 2/3, next try in 2 s")
    a.view("attempt 2/3 counting down", detail="attempt 2/3, next try in 1 s")
    first = a.view("attempt 3/3 after 4 s", pill="Disconnected",
                   detail="attempt 3/3, next try in 4 s")
    a.screenshot("retrying")
    seen = {4: first["t_ms"]}
    for left in (3, 2, 1):
        v = a.view(f"attempt 3/3, next try in {left} s",
                   detail=f"attempt 3/3, next try in {left} s")
        assert v["pill"] == "Disconnected" and v["pill_color"] == "orange", v
        seen[left] = v["t_ms"]
    # one a second, as the clock goes (the screenshot may delay a line a bit)
    assert 2500 <= seen[1] - seen[4] <= 3600, seen
    assert seen[4] < seen[3] < seen[2] < seen[1], seen

    # the retry budget spent: Server down, probing
    down = a.view("Server down", pill="Server down", pill_color="darkred",
                  detail=re.compile(r"^3/3 attempts failed, probe \d+ in \d+ s$"))
    assert down["reconnect_enabled"], down
    a.view("a probe scheduled", detail=re.compile(r"^3/3 attempts failed, probe [2-9]"))
    a.screenshot("server-down")

    # the server is back on the same port: a probe lands, Connected again
    server.start(server.port)
    back = a.view("Connected again", pill="Connected", pill_color="green")
    assert back["detail"].startswith("connected since "), back
    a.view("pongs on the new connection", rtt_ms=lambda r: r is not None, quality="Excellent")

    assert a.quit() == 0
    assert_quiet(a)


def test_reconnect_now_tries_at_once(server, app):
    a = app(*FAST, "--base-delay-ms", "60000", "--max-delay-ms", "60000", "--max-attempts", "5",
            server.url(TILL))
    a.view("Connected", pill="Connected")

    # a click while connected does nothing: the button is greyed out
    a.command("reconnect")
    assert not a.ack("reconnect")["ok"]

    server.stop()
    lost = a.view("a minute to wait", pill="Disconnected",
                  detail="attempt 1/5, next try in 60 s")
    assert lost["reconnect_enabled"]

    # Reconnect now with the server still down: attempt 1 goes at once,
    # fails, and attempt 2 is the one counted down
    a.command("reconnect")
    assert a.ack("reconnect")["ok"]
    nxt = a.view("attempt 2 scheduled", pill="Disconnected",
                 detail="attempt 2/5, next try in 60 s", deadline=5)
    assert nxt["t_ms"] - lost["t_ms"] < 5000, "the attempt did not wait its minute"
    assert "reconnect now" in "\n".join(str(ln.get("log_last")) for ln in a.lines)

    # the server back, Reconnect now: Connected well before the minute
    server.start(server.port)
    a.command("reconnect")
    assert a.ack("reconnect")["ok"]
    back = a.view("Connected at once", pill="Connected", deadline=5)
    assert back["t_ms"] - nxt["t_ms"] < 10000

    assert a.quit() == 0
    assert_quiet(a)


def test_window_says_which_server_it_is_on(server, app):
    dead = f"ws://127.0.0.1:{free_port()}/ws"
    a = app(*FAST, "--base-delay-ms", "200", "--max-attempts", "3", dead, server.url(TILL))
    v = a.view("Connected to the fallback", pill="Connected")
    assert v["server"].startswith(f"server 2 of 2: ws://127.0.0.1:{server.port}/ws"), v
    assert a.quit() == 0
    assert_quiet(a)


def test_messages_sent_offline_wait_in_the_queue(server, app):
    a = app(*FAST, "--base-delay-ms", "60000", "--max-delay-ms", "60000", server.url(TILL))
    a.view("Connected", pill="Connected")
    server.stop()
    a.view("Disconnected", pill="Disconnected", detail=DETAIL_RETRY)
    a.command("send written while offline")
    a.view("queued in the log", log_last=re.compile(r"written while offline \(queued"))
    server.start(server.port)
    a.command("reconnect")
    a.view("the queued message echoed once connected",
           log_last=re.compile(r"\u2190 written while offline$"))
    assert a.quit() == 0


def test_a_refused_upgrade_shows_the_error_and_reconnect_starts_again(server, app):
    a = app(*FAST, f"ws://127.0.0.1:{server.port}/ws")  # no store, no user: 400
    v = a.view("Error", pill="Error", pill_color="red")
    assert "HTTP 400" in v["detail"], v
    assert v["reconnect_enabled"], "Reconnect now starts again from error"
    a.command("reconnect")
    assert a.ack("reconnect")["ok"]
    # the click and the second refusal each add a line to the log
    again = a.view("refused again", pill="Error", log_lines=lambda n: n >= v["log_lines"] + 2)
    assert "HTTP 400" in again["detail"], again
    assert a.quit() == 0
    assert_quiet(a)


def test_a_bad_url_is_refused_before_any_window():
    r = subprocess.run([str(GTK_APP), "http://example.com/"], capture_output=True, text=True,
                       timeout=10, env=dict(os.environ, DISPLAY=""))
    assert r.returncode == 2, r
    assert "url" in r.stderr, r.stderr
