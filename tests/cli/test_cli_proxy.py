"""--proxy HOST:PORT: the WebSocket goes through an HTTP CONNECT proxy."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_cli import cli, server  # noqa: E402,F401  (fixtures)

PROXY = Path(__file__).parent / "connect_proxy.py"


@pytest.fixture
def proxy(tmp_path):
    out = tmp_path / "proxy.out"
    with open(out, "w") as o:
        proc = subprocess.Popen(["/usr/bin/python3", str(PROXY)], stdout=o,
                                stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    end = time.monotonic() + 10
    while "\n" not in out.read_text():
        assert proc.poll() is None and time.monotonic() < end, "proxy did not start"
        time.sleep(0.02)
    port = json.loads(out.read_text().split("\n", 1)[0])["port"]
    yield port, out
    proc.terminate()
    proc.wait(timeout=10)


def test_the_connection_goes_through_the_proxy(cli, server, proxy):
    port, out = proxy
    c = cli("--proxy", f"127.0.0.1:{port}", server.url())
    c.wait_state("connected")
    c.send_line('{"type":"echo","data":"via proxy"}')
    ev = c.wait_for(lambda e: e["event"] == "message", "the echo")
    assert json.loads(ev["text"]) == {"type": "echo", "data": "via proxy"}
    c.close_stdin()
    assert c.wait_exit() == 0
    tunnels = [json.loads(l) for l in out.read_text().splitlines()[1:]]
    assert tunnels == [{"event": "connect", "target": f"127.0.0.1:{server.port}"}]
