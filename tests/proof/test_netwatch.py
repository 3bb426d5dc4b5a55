"""Reconnecting the moment the network returns (issue 14, point 4), with
the kernel's own network stack: lifeline-server in one network namespace,
lifeline-cli in another, joined by a veth pair. The client's end of the
link is brought down: the connection dies by ping timeout (pings every
1 s, 0.5 s timeout) and the client waits a long backoff (20 s, no
jitter). The link is brought up again 2 s into that wait, and

- with the network watch (the default), the reconnection attempt comes
  within a few hundred ms of the link, not at the scheduled time, with the
  attempt number it was scheduled with, and the client is connected again;
- with --no-watch-network the link alone changes nothing (nothing for a
  second), and SIGUSR1, which makes the CLI call
  lifeline_client_network_changed(), brings the attempt at once.

The delays measured are printed (pytest -s or -rP shows them).

Needs root and iproute2 (ip), as tests/proof/test_network.py does: as root
(CI) the tests must run and fail if they cannot; not root, they are
skipped, loudly."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

sys.dont_write_bytecode = True

from proc import ROOT, Server, binary
from test_network import CLIENT_ADDR, SERVER_ADDR, VETH, Netns, need, run

CLI = binary("LIFELINE_CLI_BIN", "build/examples/lifeline-cli")

BACKOFF_MS = 20000
WAIT_BEFORE_UP_S = 2.0   # the link comes back this far into the wait
WITHIN_S = 0.5           # "a few hundred ms"


class Cli:
    """lifeline-cli --json in a namespace, its stdin held open (the CLI
    ends at the end of stdin), each event read with the monotonic time it
    arrived."""

    def __init__(self, prefix, url, *extra):
        argv = [*prefix, CLI, "--json", "--log-level", "info",
                "--base-delay-ms", str(BACKOFF_MS), "--max-delay-ms", str(3 * BACKOFF_MS),
                "--jitter-ms", "0", "--max-attempts", "100",
                "--ping-interval-ms", "1000", "--ping-timeout-ms", "500", *extra, url]
        self.events = []  # (monotonic s, dict)
        self.cv = threading.Condition()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            t = time.monotonic()
            try:
                ev = json.loads(line)
            except ValueError:
                ev = {"event": "text", "line": line.rstrip("\n")}
            with self.cv:
                self.events.append((t, ev))
                self.cv.notify_all()

    def wait_for(self, pred, timeout, what):
        """The first (time, event) after index `since` that pred accepts."""
        with self.cv:
            found = self.cv.wait_for(
                lambda: next(((t, e) for t, e in self.events if pred(e)), None), timeout)
        assert found, f"no {what} within {timeout} s; events: {self.dump()}"
        return found

    def state(self, name, attempt=None):
        return lambda e: (e.get("event") == "state" and e.get("state") == name and
                          (attempt is None or e.get("attempt") == attempt))

    def dump(self):
        with self.cv:
            return "\n".join(json.dumps(e) for _, e in self.events[-40:])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()  # the end of stdin: a graceful close
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def pair(tmp_path):
    if os.geteuid() != 0 and os.environ.get("LIFELINE_NETNS_REQUIRED") != "1":
        pytest.skip(f"NETWORK WATCH TESTS SKIPPED: they need root for 'ip netns' "
                    f"(euid {os.geteuid()}); run them as root, as CI does")
    need(os.geteuid() == 0, f"they need root for 'ip netns' (euid {os.geteuid()})")
    need(shutil.which("ip"), "'ip' not found: install the Debian package iproute2")
    ns = Netns().up()
    server = Server(tmp_path, prefix=ns.prefix(ns.server), host=SERVER_ADDR)
    clis = []
    try:
        server.start()

        def cli(*extra):
            c = Cli(ns.prefix(ns.client), server.url(), *extra)
            clis.append(c)
            return c

        yield ns, cli
    finally:
        for c in clis:
            c.stop()
        server.stop()
        ns.down()


def link(ns, updown):
    run(["ip", "-n", ns.client, "link", "set", VETH, updown])


def lose_the_link(ns, cli):
    """Connected, then the link down: the connection dies by ping timeout
    and the client schedules attempt 1 after the whole backoff."""
    cli.wait_for(cli.state("connected", 0), 15, "first connection")
    link(ns, "down")
    t_lost, _ = cli.wait_for(cli.state("disconnected"), 10, "the loss")
    _, retry = cli.wait_for(lambda e: e.get("event") == "retry", 5, "the retry")
    assert retry["attempt"] == 1 and retry["delay_ms"] == BACKOFF_MS, retry
    return t_lost


def test_the_attempt_follows_the_link_not_the_backoff(pair):
    ns, start = pair
    cli = start()
    t_lost = lose_the_link(ns, cli)
    time.sleep(WAIT_BEFORE_UP_S)  # the scenario: the link is back 2 s into a 20 s wait
    t_up = time.monotonic()
    link(ns, "up")
    t_try, ev = cli.wait_for(cli.state("connecting", 1), BACKOFF_MS / 1000, "the attempt")
    delay = t_try - t_up
    scheduled_in = t_lost + BACKOFF_MS / 1000 - t_try
    print(f"link up -> attempt 1: {delay * 1000:.0f} ms "
          f"({scheduled_in:.1f} s before its scheduled time)", flush=True)
    assert delay < WITHIN_S, f"attempt {delay:.3f} s after the link; events:\n{cli.dump()}"
    assert scheduled_in > 10, scheduled_in
    t_conn, _ = cli.wait_for(cli.state("connected", 1), 5, "the reconnection")
    print(f"link up -> connected: {(t_conn - t_up) * 1000:.0f} ms", flush=True)
    # the watcher said why
    notes = [e["line"] for _, e in cli.events
             if e.get("event") == "log" and "network changed" in e.get("line", "")]
    print(f"watcher: {notes}", flush=True)
    assert notes, cli.dump()


def test_without_the_watch_the_apps_call_brings_the_attempt(pair):
    ns, start = pair
    cli = start("--no-watch-network")
    lose_the_link(ns, cli)
    time.sleep(WAIT_BEFORE_UP_S)
    link(ns, "up")
    # the link alone changes nothing here: the watch is off (a timer: the
    # absence of an event is what is checked)
    time.sleep(1.0)
    with cli.cv:
        assert not any(cli.state("connecting", 1)(e) for _, e in cli.events), cli.dump()
    t_sig = time.monotonic()
    cli.proc.send_signal(signal.SIGUSR1)  # lifeline_client_network_changed()
    t_try, _ = cli.wait_for(cli.state("connecting", 1), BACKOFF_MS / 1000, "the attempt")
    delay = t_try - t_sig
    print(f"lifeline_client_network_changed() -> attempt 1: {delay * 1000:.0f} ms", flush=True)
    assert delay < WITHIN_S, f"attempt {delay:.3f} s after the call; events:\n{cli.dump()}"
    cli.wait_for(cli.state("connected", 1), 5, "the reconnection")
