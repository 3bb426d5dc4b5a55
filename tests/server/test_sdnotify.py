"""systemd's notify protocol (src/server/sdnotify.c): with $NOTIFY_SOCKET
set, the server sends READY=1 once it listens and STOPPING=1 when it
stops (at the start of a drain, with how long the drain may take), to a
path or to an abstract socket."""

import asyncio
import json
import os
import select
import signal
import socket
import subprocess
from pathlib import Path

import pytest
import websockets

from llserver import BIN, FAST, server_env


def datagram(sock, timeout=10.0):
    """The next datagram on sock, as {key: value}."""
    ready, _, _ = select.select([sock], [], [], timeout)
    assert ready, "no notification"
    text = sock.recv(4096).decode()
    return dict(line.split("=", 1) for line in text.split("\n") if line)


def start(workdir, notify_socket, *args):
    err = open(Path(workdir) / "server.log", "wb")
    proc = subprocess.Popen([BIN, "--port", "0", "--db", str(Path(workdir) / "l.db"), "--json",
                             *FAST, *args], stdout=subprocess.PIPE, stderr=err, cwd=workdir,
                            env=server_env(NOTIFY_SOCKET=notify_socket))
    err.close()
    return proc


def log_events(workdir):
    text = (Path(workdir) / "server.log").read_text(errors="replace")
    return [json.loads(l) for l in text.splitlines() if l.startswith("{")]


def listening_port(proc):
    """The port of the listening line, which must be written already."""
    ready, _, _ = select.select([proc.stdout], [], [], 0)
    assert ready, "READY=1 came before the listening line"
    line = proc.stdout.readline()
    return json.loads(line)["port"]


def stop(proc, sig=signal.SIGTERM):
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


@pytest.fixture
def notify_path(workdir):
    path = str(Path(workdir) / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    yield sock, path
    sock.close()


def test_ready_once_listening_then_stopping_at_the_drain(workdir, notify_path):
    sock, path = notify_path
    proc = start(workdir, path, "--drain-window-ms", "1000")
    try:
        ready = datagram(sock)
        assert ready["READY"] == "1"
        port = listening_port(proc)
        assert ready["STATUS"] == f"listening on port {port}"

        async def go():
            # it does listen
            ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws?store=s&user=u",
                                          ping_interval=None)
            proc.send_signal(signal.SIGTERM)
            stopping = await asyncio.to_thread(datagram, sock)
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd.code == 1012
            return stopping
        stopping = asyncio.run(go())
        assert stopping["STOPPING"] == "1"
        assert stopping["STATUS"] == "draining 1 connections over 1000 ms"
        # the watchdog's bound: systemd's stop timeout never cuts a drain short
        assert stopping["EXTEND_TIMEOUT_USEC"] == str((1000 + 10000) * 1000)
        assert stop(proc) == 0
    finally:
        stop(proc)
    events = [e["event"] for e in log_events(workdir)]
    assert "sd_notify" not in events and "drain_ended" in events


def test_an_abstract_socket_and_sigint(workdir):
    name = f"@lifeline-server-test-{os.getpid()}-{os.urandom(4).hex()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name[1:])
    proc = start(workdir, name)
    try:
        assert datagram(sock)["READY"] == "1"
        listening_port(proc)
        proc.send_signal(signal.SIGINT)
        assert datagram(sock) == {"STOPPING": "1"}  # a stop at once: no drain
        assert stop(proc) == 0
    finally:
        stop(proc)
        sock.close()


def test_a_notify_socket_that_is_not_one_is_a_warning_not_a_failure(workdir):
    proc = start(workdir, "relative/notify.sock")
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        assert ready
        json.loads(proc.stdout.readline())
        assert stop(proc) == 0
    finally:
        stop(proc)
    warnings = [e for e in log_events(workdir) if e["event"] == "sd_notify"]
    assert warnings and warnings[0]["level"] == "warn", warnings
    assert "Invalid argument" in warnings[0]["message"]
