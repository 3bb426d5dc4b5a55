"""Out of descriptors (RLIMIT_NOFILE): a connection the server cannot
accept is closed at once, the server does not spin on it, the episode is
one warning in the log, the connections already open go on working, and
new connections are accepted again as soon as descriptors are free
(docs/server.md, Limits and resources; src/server/listener.h)."""

import os
import resource
import socket
import time

from llserver import OP_TEXT, RawWS, Server, wait_until

NOFILE = 64   # the server's descriptor limit, soft and hard
EXTRA = 5     # connections opened past it at once
WINDOW = 2.0  # seconds over which the server's CPU time is measured


def small_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def cpu_seconds(pid):
    """utime + stime of pid (proc(5): fields 14 and 15, after the name)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def handshake_bytes(user):
    return (f"GET /ws?store=x&user={user} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n").encode()


def closed_by_server(sock, timeout):
    """True once the server closed sock (EOF or reset); False if it is
    still open, unanswered, after timeout (the connection hangs)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            data = sock.recv(4096)
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
        if not data:
            return True
        raise AssertionError(f"an answer from a server out of descriptors: {data!r}")


def events(server, name):
    return [e for e in server.log_events() if e.get("event") == name]


def stats_or_none(server):
    """The stats, or None when the request itself was closed unanswered
    (the server still out of descriptors: one more connection refused;
    http.client's RemoteDisconnected is a ConnectionError)."""
    try:
        return server.http("GET", "/api/v1/websockets/stats")[2]
    except ConnectionError:
        return None


def test_out_of_descriptors_closes_new_connections_without_spinning(workdir):
    server = Server(workdir, ["--json"], preexec_fn=small_nofile).start()
    held, extra = [], []
    try:
        # fill the server's descriptors with WebSocket connections, one at
        # a time, until one is closed instead of answered (a store each:
        # no presence notices)
        refused = 0
        while len(held) < NOFILE:
            try:
                held.append(RawWS(server.port, path=f"/ws?store=s{len(held)}&user=u"))
            except (ConnectionError, OSError) as e:
                assert not isinstance(e, TimeoutError), "a connection left hanging"
                refused = 1
                break
        assert refused == 1, f"{len(held)} connections and still descriptors left"
        assert len(held) > NOFILE // 2
        assert all(w.status == 101 for w in held)

        # more connections, at once; the server must not spin on them
        for i in range(EXTRA):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.sendall(handshake_bytes(f"extra{i}"))
            extra.append(s)
        cpu0, t0 = cpu_seconds(server.proc.pid), time.monotonic()
        time.sleep(WINDOW)  # the measured window
        ratio = (cpu_seconds(server.proc.pid) - cpu0) / (time.monotonic() - t0)
        assert ratio < 0.2, f"the server used {ratio:.0%} of a CPU out of descriptors"

        # each was closed, not left hanging
        for s in extra:
            assert closed_by_server(s, timeout=2.0), "a refused connection left hanging"
        refused += EXTRA

        # the connections already open still work: a text message comes back
        held[0].send_frame(OP_TEXT, "still here")
        assert held[0].recv_until({OP_TEXT}) == (OP_TEXT, b"still here")
        held[-1].send_frame(OP_TEXT, "me too")
        assert held[-1].recv_until({OP_TEXT}) == (OP_TEXT, b"me too")

        # one warning for the episode, none of libwebsockets' accept lines
        warnings = events(server, "out_of_descriptors")
        assert len(warnings) == 1, warnings
        assert warnings[0]["level"] == "warn"
        assert "Too many open files" in warnings[0]["message"]
        assert f"RLIMIT_NOFILE {NOFILE}" in warnings[0]["message"]
        assert not [e for e in events(server, "lws") if "accept" in e.get("message", "")]

        # some connections go: new ones are accepted again
        for w in held[-3:]:
            w.close()
        del held[-3:]

        def stats():
            nonlocal refused
            got = stats_or_none(server)
            if got is None:
                refused += 1  # asked before the server saw the closes
            return got
        body = wait_until(stats, timeout=5, what="stats once descriptors are free")
        wait_until(lambda: stats()["active_connections"] == len(held),
                   what=f"{len(held)} active connections")
        again = RawWS(server.port, path="/ws?store=s&user=again")
        assert again.status == 101
        again.close()

        body = server.stats()
        assert body["refused_no_descriptors"] == refused
        assert (server.metrics().value(
            "lifeline_server_connections_refused_no_descriptors_total") == refused)
        ended = events(server, "descriptors_free")
        assert len(ended) == 1, ended
        assert ended[0]["level"] == "info"
        assert f"accepting again: {refused} connections refused" in ended[0]["message"]
        assert len(events(server, "out_of_descriptors")) == 1
    finally:
        for w in held:
            w.close()
        for s in extra:
            s.close()
        rc = server.stop()
    assert rc == 0, server.log()
