"""Fixtures for lifeline-server's integration suite.

The binary comes from LIFELINE_SERVER_BIN, else build/src/server/lifeline-
server under the repository. Every server runs in its own temporary folder
(database and log), is stopped with SIGTERM at the end of the test, and
must then exit with status 0.
"""

import shutil
import sys
import tempfile

import pytest

sys.dont_write_bytecode = True  # leave no __pycache__ beside the tests

from llserver import BIN, FAST, Server


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="lifeline-server-test-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def start_server(workdir):
    """start_server(*args, db=None, tls=None) -> a running Server."""
    servers = []

    def start(*args, db=None, tls=None, fast=True):
        s = Server(workdir, (FAST if fast else []) + list(args), db=db, tls=tls)
        servers.append(s)
        return s.start()

    yield start
    failures = []
    for s in servers:
        if s.proc is not None:
            rc = s.stop()
            if rc != 0:
                failures.append(f"server exited {rc}:\n{s.log()}")
    assert not failures, "\n".join(failures)


@pytest.fixture
def server(start_server):
    return start_server()


def pytest_report_header(config):
    return f"lifeline-server: {BIN}"
