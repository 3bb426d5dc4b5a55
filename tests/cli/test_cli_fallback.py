"""Fallback servers: the URLs after the first (issue 14, point 3). The
first URL is a closed port (bound and never listening: refused, and no other
process can take it meanwhile), the second a live lifeline-server; the CLI
lands on the second and its state events say so. Synchronised on the CLI's
events, never on sleeps."""
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_cli import (CLI, DEADLINE, FAST, cli, needs_server, print_config,  # noqa: E402,F401
                      run_cli, server)


@pytest.fixture
def closed_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))  # held, never listening: refused
        yield f"ws://127.0.0.1:{s.getsockname()[1]}/ws?token=dead-secret"


def test_print_config_lists_the_fallback_urls_redacted():
    cfg = print_config("ws://a.example/ws", "wss://b.example/ws?token=t0k3n", "ws://c.example/")
    assert cfg["url"] == "ws://a.example/ws"
    assert cfg["fallback_urls"] == ["wss://b.example/ws?token=***", "ws://c.example/"]
    assert print_config("ws://a.example/ws")["fallback_urls"] == []


@pytest.mark.parametrize("args,number", [
    (["ws://a/ws", "http://b/ws?token=s3cr3t"], 2),
    (["ws://a/ws", "ws://b/ws", "ws://:80/?token=s3cr3t"], 3),
])
def test_a_bad_fallback_url_exits_2_naming_its_position_not_its_text(args, number):
    r = run_cli(*args)
    assert r.returncode == 2
    assert r.stderr.startswith(f"lifeline-cli: URL (number {number}): fallback_urls "), r.stderr
    assert "s3cr3t" not in r.stderr


def test_more_fallback_urls_than_the_library_takes_exit_2():
    r = run_cli("ws://a/ws", *["ws://b/ws"] * 33)
    assert r.returncode == 2
    assert r.stderr.startswith("lifeline-cli: URL: fallback_urls "), r.stderr


@needs_server
def test_a_dead_first_url_lands_on_the_second_and_the_events_say_which(cli, server, closed_url):
    c = cli(*FAST, closed_url, server.url())
    first = c.wait_state("connecting")
    assert first["url_index"] == 0
    assert "dead-secret" not in first["url"] and "token=***" in first["url"]
    failed = c.wait_state("disconnected")
    assert failed["url_index"] == 0 and failed["error"] == "CONNECTION_REFUSED"
    retry = c.wait_for(lambda e: e["event"] == "retry", "retry")
    assert retry["attempt"] == 1
    landed = c.wait_state("connected")
    assert landed["url_index"] == 1
    assert landed["url"] == server.url().replace("store=S1&user=U1", "store=***&user=***")
    c.send_line('{"type":"echo","data":"via the fallback"}')
    c.wait_for(lambda e: e["event"] == "message" and "via the fallback" in e.get("text", ""),
               "the echo")
    c.close_stdin()
    assert c.wait_exit() == 0
    assert not any("dead-secret" in line for line in c.raw)


@needs_server
def test_every_url_down_is_server_down_after_max_attempts_passes(cli, server, closed_url):
    port = server.port
    c = cli(*FAST, "--exit-on-server-down", server.url(), closed_url)
    c.wait_state("connected")
    server.stop()
    down = c.wait_state("server_down")
    # --max-attempts 3 passes over 2 URLs
    assert down["attempt"] == 6
    tried = [e["url_index"] for e in c.events
             if e["event"] == "state" and e["state"] == "connecting" and e["attempt"] > 0]
    assert tried == [0, 1, 0, 1, 0, 1]  # the lost server first, then round the list
    assert c.wait_exit() == 4
    assert port  # the server stays stopped: nothing listens on either URL


def test_readable_state_lines_name_the_url_when_there_are_fallbacks(closed_url):
    # stdin stays open (an ended stdin ends the run): server_down ends it
    p = subprocess.Popen([str(CLI), "--max-attempts", "1", "--base-delay-ms", "1",
                          "--jitter-ms", "0", "--exit-on-server-down", closed_url, closed_url],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(DEADLINE, p.kill)  # a hung CLI fails the test
    watchdog.start()
    try:
        out = p.stdout.read()  # until it exits
        p.wait()
    finally:
        watchdog.cancel()
        p.kill()
        p.wait()
        for f in (p.stdin, p.stdout, p.stderr):
            f.close()
    assert p.returncode == 4, out
    assert " state idle -> connecting (attempt 0, url 0 ws://127.0.0.1:" in out
    assert "(attempt 1, url 1 ws://127.0.0.1:" in out
    assert "(attempt 2, url 0 ws://127.0.0.1:" in out
    assert "dead-secret" not in out
