"""Stopping: a signal ends the process within SRV_STOP_GRACE_MS even when
the server's one loop is stuck (src/server/loop.c, the watchdog); SIGTERM,
which drains, within that grace plus --drain-window-ms."""

import fcntl
import http.client
import json
import os
import select
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from llserver import BIN, server_env

GRACE_S = 10  # SRV_STOP_GRACE_MS
F_SETPIPE_SZ = 1031


def listening_port(proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        ready, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
        assert ready, "no listening line"
        chunk = os.read(proc.stdout.fileno(), 4096)
        assert chunk, "server exited early"
        buf += chunk
    return json.loads(buf.split(b"\n", 1)[0])["port"]


def answered(port, timeout):
    """POSTs a fault request (the server logs a line for each); False when
    no answer comes within timeout."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/api/v1/admin/fault", body=b'{"mode":"none"}')
        return conn.getresponse().status == 200
    except (socket.timeout, TimeoutError):
        return False
    finally:
        conn.close()


@pytest.mark.parametrize("sig, grace_s", [
    (signal.SIGTERM, GRACE_S + 3),  # a drain's: the window (3000 ms) more
    (signal.SIGINT, GRACE_S),       # a stop at once's: the window is not added
])
def test_a_signal_ends_a_server_whose_loop_is_stuck_in_a_log_write(workdir, sig, grace_s):
    # the log goes to a pipe nobody reads: once it is full the server's next
    # log line blocks its only loop thread, a real wedge that no signal ends
    r, w = os.pipe()
    fcntl.fcntl(w, F_SETPIPE_SZ, 4096)
    proc = subprocess.Popen([BIN, "--port", "0", "--db", str(Path(workdir) / "l.db"),
                             "--drain-window-ms", "3000"],
                            stdout=subprocess.PIPE, stderr=w, cwd=workdir, env=server_env())
    os.close(w)
    try:
        port = listening_port(proc)
        for _ in range(1000):
            if not answered(port, 2.0):
                break
        else:
            raise AssertionError("the log never filled")
        start = time.monotonic()
        proc.send_signal(sig)
        rc = proc.wait(grace_s + 5)
        elapsed = time.monotonic() - start
        assert rc == 1, rc
        # + up to 1 s: forced_exit gives the stuck stderr a second for its line
        assert grace_s - 0.5 <= elapsed <= grace_s + 2.5, elapsed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        os.close(r)


def test_sigterm_under_load_stops_cleanly_well_within_the_grace(start_server):
    server = start_server()
    socks = []
    for i in range(20):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.sendall(b"GET /api/v1/websockets/health HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(s)
    for s in socks:
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
    start = time.monotonic()
    proc = server.proc
    proc.send_signal(signal.SIGTERM)
    assert server.stop() == 0
    assert time.monotonic() - start < GRACE_S
    assert "forced_exit" not in server.log()
    for s in socks:
        s.close()
