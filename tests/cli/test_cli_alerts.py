"""lifeline-cli's Discord alerts against the fake Discord (tests/fakes):
--discord-webhook (or DISCORD_WEBHOOK_URL) turns them on, --json prints a
notify event per delivery, and the webhook's token is printed nowhere."""
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_cli import CLI, FAST, cli, free_port, server  # noqa: E402,F401  (fixtures)

FAKES = Path(__file__).resolve().parents[1] / "fakes" / "fake_services.py"
TOKEN = "cli-webhook-token-4f1d9a"


@pytest.fixture
def discord(tmp_path):
    out = tmp_path / "fake.out"
    with open(out, "w") as o:
        proc = subprocess.Popen(["/usr/bin/python3", str(FAKES), "--port", "0",
                                 "--webhook", f"42/{TOKEN}"],
                                stdout=o, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    end = time.monotonic() + 10
    while "\n" not in out.read_text():
        assert proc.poll() is None and time.monotonic() < end, "fake Discord did not start"
        time.sleep(0.02)
    port = json.loads(out.read_text().split("\n", 1)[0])["port"]
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def requests_seen(base):
    with urllib.request.urlopen(f"{base}/_requests", timeout=5) as r:
        return json.loads(r.read())


def test_an_outage_prints_a_down_and_a_recovered_notify_event(cli, server, discord):
    hook = f"{discord}/api/webhooks/42/{TOKEN}"
    c = cli(*FAST, "--verbose", "--discord-webhook", hook, "--alert-label", "Store: 12",
            server.url())
    c.wait_state("connected")
    port = server.port
    server.stop()
    c.wait_state("server_down")
    down = c.wait_for(lambda e: e["event"] == "notify", "down notify")
    assert down == {**down, "channel": "discord", "kind": "down", "ok": True, "status": 204}
    server.start(port)
    c.wait_state("connected")
    up = c.wait_for(lambda e: e["event"] == "notify", "recovered notify")
    assert up == {**up, "channel": "discord", "kind": "recovered", "ok": True, "status": 204}
    c.close_stdin()
    assert c.wait_exit() == 0
    bodies = [json.loads(r["body"]) for r in requests_seen(discord)]
    assert [b["embeds"][0]["title"].split(":")[0] for b in bodies] == ["Server down", "Server recovered"]
    fields = {f["name"]: f["value"] for f in bodies[0]["embeds"][0]["fields"]}
    assert fields["Store"] == "12"
    assert "?" not in fields["Server"]  # no query string (store, user) in the alert
    assert TOKEN not in "".join(c.raw) and TOKEN not in c.stderr()


def test_the_webhook_comes_from_the_environment(tmp_path, discord):
    hook = f"{discord}/api/webhooks/42/{TOKEN}"
    r = subprocess.run([str(CLI), "--print-config", f"ws://127.0.0.1:{free_port()}/ws"],
                       env={**os.environ, "DISCORD_WEBHOOK_URL": hook},
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0
    cfg = json.loads(r.stdout)
    assert cfg["discord_webhook"] == f"{discord}/api/webhooks/42/***"
    assert TOKEN not in r.stdout


def test_a_bad_webhook_url_exits_2_naming_the_option():
    r = subprocess.run([str(CLI), "--discord-webhook", "ftp://x/y", "ws://127.0.0.1:9/ws"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    assert "--discord-webhook" in r.stderr
