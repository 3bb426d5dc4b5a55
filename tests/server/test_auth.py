"""Auth tokens: --make-token, and upgrades with a valid, missing, tampered,
expired or other-store token."""

import asyncio
import base64
import hashlib
import hmac
import json
import subprocess
import time
import urllib.parse

import pytest
import websockets

from llserver import BIN, RawWS, recv_json, server_env

SECRET = "test-secret"


def make_token(user, store, ttl=3600, secret=SECRET):
    out = subprocess.run([BIN, "--make-token", "--user", user, "--store", store,
                          "--ttl", str(ttl), "--auth-secret", secret],
                         capture_output=True, text=True, timeout=10,
                         env=server_env())
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(claims, secret=SECRET):
    """A token signed like the server's, for claims it would never issue."""
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return payload + "." + b64url(sig)


@pytest.fixture
def auth_server(start_server):
    return start_server("--auth-secret", SECRET)


def status_of(server, **query):
    raw = RawWS(server.port, handshake=False)
    try:
        return raw.handshake("/ws?" + urllib.parse.urlencode(query))
    finally:
        raw.close()


def test_make_token_prints_a_verifiable_token():
    before = int(time.time())
    tok = make_token("alice", "s1", ttl=60)
    payload, sig = tok.split(".")
    want = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).digest()
    assert b64url(want) == sig
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["u"] == "alice" and claims["s"] == "s1"
    assert before + 60 <= claims["exp"] <= int(time.time()) + 60


def test_make_token_needs_its_options():
    out = subprocess.run([BIN, "--make-token", "--user", "u", "--store", "s"],
                         capture_output=True, text=True, timeout=10,
                         env=server_env())
    assert out.returncode == 2 and "--auth-secret" in out.stderr


def test_a_valid_token_connects_as_its_user_and_store(auth_server):
    async def go():
        tok = make_token("alice", "s1")
        ws = await websockets.connect(
            f"ws://127.0.0.1:{auth_server.port}/ws?token={tok}", ping_interval=None)
        await ws.send(json.dumps({"type": "echo", "data": 1}))
        assert await recv_json(ws) == {"type": "echo", "data": 1}
        assert (await auth_server.astats())["stores"] == {"s1": 1}
        status, _, body = await auth_server.ahttp("GET", "/api/v1/users/alice")
        assert status == 200 and body["store"] == "s1"
        await ws.close()
    asyncio.run(go())


def test_store_and_user_parameters_do_not_replace_the_token(auth_server):
    assert status_of(auth_server, store="s1", user="alice") == 401


def test_a_missing_token_is_401(auth_server):
    assert status_of(auth_server) == 401
    assert status_of(auth_server, token="") == 401


def test_a_tampered_token_is_401(auth_server):
    tok = make_token("alice", "s1")
    payload, sig = tok.split(".")
    other_payload = make_token("alice", "s2").split(".")[0]
    assert status_of(auth_server, token=other_payload + "." + sig) == 401
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert status_of(auth_server, token=payload + "." + flipped) == 401
    assert status_of(auth_server, token=make_token("alice", "s1", secret="other")) == 401
    assert status_of(auth_server, token="garbage") == 401


def test_an_expired_token_is_401(auth_server):
    tok = forge({"u": "alice", "s": "s1", "exp": int(time.time()) - 1})
    assert status_of(auth_server, token=tok) == 401
    fresh = forge({"u": "alice", "s": "s1", "exp": int(time.time()) + 60})
    assert status_of(auth_server, token=fresh) == 101


def test_a_token_for_another_store_gets_no_way_in(auth_server):
    async def go():
        tok = make_token("mallory", "s1")
        # asking for store s2 with a token for s1
        assert status_of(auth_server, token=tok, store="s2") == 403
        # and with the token alone, mallory lands in s1, never in s2
        victim = await websockets.connect(
            f"ws://127.0.0.1:{auth_server.port}/ws?token={make_token('vic', 's2')}",
            ping_interval=None)
        m = await websockets.connect(f"ws://127.0.0.1:{auth_server.port}/ws?token={tok}",
                                     ping_interval=None)
        await m.send(json.dumps({"type": "broadcast", "data": "psst"}))
        await victim.send(json.dumps({"type": "echo", "data": "first"}))
        assert await recv_json(victim) == {"type": "echo", "data": "first"}
        await m.close()
        await victim.close()
    asyncio.run(go())


def challenge_of(server, **query):
    """The status and WWW-Authenticate header (None when absent) of an upgrade."""
    raw = RawWS(server.port, handshake=False)
    try:
        status = raw.handshake("/ws?" + urllib.parse.urlencode(query))
        for line in raw.headers.decode().split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "www-authenticate":
                return status, value.strip()
        return status, None
    finally:
        raw.close()


def test_a_401_carries_a_bearer_challenge(auth_server):
    # no token: the realm alone (RFC 6750 3.1); a refused one: invalid_token
    assert challenge_of(auth_server) == (401, 'Bearer realm="lifeline"')
    assert challenge_of(auth_server, token="") == (401, 'Bearer realm="lifeline"')
    invalid = 'Bearer realm="lifeline", error="invalid_token"'
    assert challenge_of(auth_server, token="garbage") == (401, invalid)
    expired = forge({"u": "alice", "s": "s1", "exp": int(time.time()) - 1})
    assert challenge_of(auth_server, token=expired) == (401, invalid)
    # other refusals challenge nothing
    tok = make_token("alice", "s1")
    assert challenge_of(auth_server, token=tok, store="s2") == (403, None)


def test_refusals_answer_with_a_json_body(auth_server):
    raw = RawWS(auth_server.port, handshake=False)
    assert raw.handshake("/ws") == 401
    head = raw.headers.decode().lower()
    assert "content-type: application/json" in head
    raw.close()
