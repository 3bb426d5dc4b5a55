"""--tls-cert/--tls-key: the same service over wss and https."""

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from llserver import recv_json


@pytest.fixture
def cert(workdir):
    if not shutil.which("openssl"):
        pytest.skip("no openssl command to make a certificate")
    key, crt = Path(workdir) / "key.pem", Path(workdir) / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return str(crt), str(key)


def test_wss_and_https_serve_as_plain_ones_do(start_server, cert):
    server = start_server(tls=cert)

    async def go():
        a = await server.connect("s", "a")
        b = await server.connect("s", "b")
        assert await recv_json(a) == {"type": "user_joined", "store": "s", "user": "b"}
        await a.send(json.dumps({"type": "echo", "data": "secure"}))
        assert await recv_json(a) == {"type": "echo", "data": "secure"}
        status, _, body = await server.ahttp("GET", "/api/v1/websockets/stats")
        assert status == 200 and body["active_connections"] == 2
        await a.close()
        await b.close()
    asyncio.run(go())


def test_under_tls_blackhole_drops_new_upgrades_and_serves_the_api(start_server, cert):
    import websockets
    server = start_server(tls=cert)

    async def go():
        ws = await server.connect("s", "early")
        await server.afault("blackhole")
        # the request cannot be peeked at under TLS: the upgrade is dropped
        # without an answer (docs/server.md)
        with pytest.raises((websockets.exceptions.InvalidMessage, ConnectionError, EOFError)):
            await server.connect("s", "late", open_timeout=5)
        status, _, body = await server.ahttp("GET", "/api/v1/websockets/health")
        assert status == 200 and body["active_connections"] == 1
        await server.afault("none")
        await ws.send("still here")
        assert await asyncio.wait_for(ws.recv(), 5) == "still here"
        await ws.close()
    asyncio.run(go())
