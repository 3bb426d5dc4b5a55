"""Fixtures for the lifeline.v1 conformance suite (docs/protocol.md).

`server` is each lifeline.v1 server under test, a fresh process per test,
on port 0 (the port comes from its first stdout line) in its own temporary
folder, stopped with SIGTERM at the end, which must then exit 0:

- "node": examples/node-reference/server.js, always. node and node-ws are
  required: without them the suite fails (Debian: nodejs, node-ws).
- "lifeline-server": LIFELINE_SERVER_BIN, else build/src/server/lifeline-
  server, when a probe shows that it selects the subprotocol. While
  LIFELINE_SERVER_V1_PENDING is true, one that does not is xfailed, loudly.
"""

import asyncio
import os
import shutil
import subprocess
import sys

import pytest

sys.dont_write_bytecode = True  # leave no __pycache__ beside the tests

from v1client import SUBPROTOCOL, Connection
from v1servers import NODE, SERVER_BIN, lifeline_server, node_env, node_server

# lifeline-server speaks lifeline.v1 (issue 12): one that does not select
# the subprotocol fails every test. (True would xfail it, for a server whose
# lifeline.v1 is being written.)
LIFELINE_SERVER_V1_PENDING = False


# ---- what is on this machine ------------------------------------------------------

@pytest.fixture(scope="session")
def node_ready():
    """Fails (never skips) when node or node-ws is missing."""
    if not shutil.which(NODE):
        pytest.fail(f"{NODE!r} is not installed: the Node reference server cannot run "
                    "(Debian: apt-get install nodejs node-ws)", pytrace=False)
    check = subprocess.run([NODE, "-e", "require('ws')"], env=node_env(),
                           capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        pytest.fail("node cannot load the ws module (Debian: apt-get install node-ws):\n"
                    + check.stderr, pytrace=False)


_probe = {}


@pytest.fixture(scope="session")
def lifeline_server_speaks_v1():
    """Starts lifeline-server once and offers it lifeline.v1 alone. Returns
    None when it selects the subprotocol, else why not."""
    if not os.access(SERVER_BIN, os.X_OK):
        pytest.fail(f"lifeline-server is not at {SERVER_BIN}: build it (ninja -C build) or "
                    "set LIFELINE_SERVER_BIN; -k node runs the Node reference alone",
                    pytrace=False)
    s = lifeline_server().start()

    async def probe():
        conn = await Connection.open(s.url())
        try:
            return conn.subprotocol
        finally:
            await conn.close()
    try:
        selected = asyncio.run(probe())
        why = None if selected == SUBPROTOCOL else f"it selected {selected!r}"
    except Exception as e:  # libwebsockets 4.1 drops an upgrade it cannot serve
        why = f"the upgrade failed: {type(e).__name__}: {e}"
    finally:
        s.stop()
    _probe["why"] = why
    return why


@pytest.fixture(params=["node", "lifeline-server"])
def server(request):
    """A lifeline.v1 server under test, running, fresh for this test."""
    if request.param == "node":
        request.getfixturevalue("node_ready")
        s = node_server()
    else:
        why = request.getfixturevalue("lifeline_server_speaks_v1")
        if why and LIFELINE_SERVER_V1_PENDING:
            pytest.xfail(f"LIFELINE-SERVER DOES NOT SPEAK lifeline.v1 YET ({why})")
        assert not why, f"lifeline-server does not speak lifeline.v1: {why}"
        s = lifeline_server()
    s.start()
    yield s
    rc = s.stop()
    assert rc == 0, f"{s.name} exited {rc}:\n{s.last_log}"


@pytest.fixture
def start_node(node_ready):
    """start_node(*options) -> a running Node reference server."""
    started = []

    def start(*options):
        s = node_server(*options).start()
        started.append(s)
        return s

    yield start
    failures = [f"node exited {rc}:\n{s.last_log}" for s in started
                if (rc := s.stop()) != 0]
    assert not failures, "\n".join(failures)


def pytest_terminal_summary(terminalreporter):
    if _probe.get("why"):
        terminalreporter.write_sep("!", "lifeline-server does NOT speak lifeline.v1 yet: "
                                   "its cases are xfailed", red=True, bold=True)
        terminalreporter.write_line(f"probe: {_probe['why']} ({SERVER_BIN})")
