"""A database that cannot be written is a db_error in the log, with SQLite's
own message, and the server keeps serving."""

import resource
import time

from llserver import FAST, RawWS, Server, wait_until

LIMIT = 64 * 1024  # RLIMIT_FSIZE: the SQLite files cannot grow past this


def small_files():
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def db_errors(server):
    return [e for e in server.log_events() if e.get("event") == "db_error"]


def test_a_file_size_limit_is_a_db_error_and_the_server_keeps_serving(workdir):
    # the limit holds for the log file too: no line per connection (info),
    # or the log would reach it before the database does
    server = Server(workdir, FAST + ["--json", "--log-level", "warn"],
                    preexec_fn=small_files).start()
    try:
        # every new user is a new row: add users until a flush (once a
        # second) cannot write them
        deadline = time.monotonic() + 30
        n = 0
        while True:
            assert server.proc.poll() is None, "server died:\n" + server.log()
            assert time.monotonic() < deadline, "no db_error:\n" + server.log()
            for _ in range(200):
                raw = RawWS(server.port, path=f"/ws?store=s&user={n:05d}-{'u' * 100}")
                assert raw.status == 101
                raw.close()
                n += 1
            try:
                wait_until(lambda: db_errors(server) or server.proc.poll() is not None,
                           timeout=1.5, what="a db_error")
                break
            except AssertionError:
                pass  # the file had room for these: add more
        assert server.proc.poll() is None, "server died:\n" + server.log()
        message = db_errors(server)[0]["message"]
        assert message not in ("not an error", "no error recorded")
        assert "no transaction is active" not in message
        # SQLite's own words for the failed write (EFBIG), "disk I/O error",
        # with the system's "(File too large)" when SQLite kept errno
        assert message.startswith("disk I/O error"), message

        # counted in the metrics
        errors = server.metrics().value("lifeline_server_database_errors_total")
        assert errors >= 1

        # still serving: HTTP, and WebSocket connections of old and new users
        status, _, body = server.http("GET", "/api/v1/websockets/health")
        assert status == 200 and body["online"] is True
        raw = RawWS(server.port, path="/ws?store=s&user=after-the-error")
        assert raw.status == 101
        raw.send_frame(1, '{"type":"echo","data":7}')
        op, payload = raw.recv_frame()
        assert (op, payload) == (1, b'{"type":"echo","data":7}')
        raw.close()
        assert server.proc.poll() is None
    finally:
        assert server.stop() == 0, server.log()
