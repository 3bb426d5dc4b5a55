"""lifeline-server's status alerts, to a fake Discord and a fake SendGrid
(tests/fakes) that enforce the services' rules: the server starting, no
clients for --down-after-ms, clients back, the server stopping; a channel
without its variables is off and says so once."""
import asyncio
import json
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from llserver import wait_until

FAKES = Path(__file__).resolve().parents[1] / "fakes" / "fake_services.py"
TOKEN = "server-hook-token-9c2e"
KEY = "SG.fake-key-for-tests"


@pytest.fixture
def fakes(workdir):
    out = Path(workdir) / "fakes.out"
    with open(out, "w") as o:
        proc = subprocess.Popen(["/usr/bin/python3", str(FAKES), "--port", "0",
                                 "--webhook", f"7/{TOKEN}", "--sendgrid-key", KEY],
                                stdout=o, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    wait_until(lambda: "\n" in out.read_text(), timeout=10, what="the fakes to listen")
    port = json.loads(out.read_text().split("\n", 1)[0])["port"]
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def deliveries(base):
    with urllib.request.urlopen(f"{base}/_requests", timeout=5) as r:
        return json.loads(r.read())


def discord_titles(base):
    return [json.loads(r["body"])["embeds"][0]["title"] for r in deliveries(base)
            if "/api/webhooks/" in r["path"]]


def emails(base):
    return [json.loads(r["body"]) for r in deliveries(base) if r["path"] == "/v3/mail/send"]


@pytest.fixture
def alerting_env(monkeypatch, fakes):
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", f"{fakes}/api/webhooks/7/{TOKEN}")
    monkeypatch.setenv("SENDGRID_API_URL", f"{fakes}/v3/mail/send")
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)
    monkeypatch.setenv("ADMIN_EMAIL", "ops@example.com")
    monkeypatch.setenv("FROM_EMAIL", "lifeline@example.com")
    return fakes


def test_status_changes_reach_discord_and_email(start_server, alerting_env):
    fakes = alerting_env
    s = start_server("--down-after-ms", "300", "--json")
    # starting, then nobody connects for 300 ms
    wait_until(lambda: discord_titles(fakes)[:2] == ["lifeline-server started", "No clients connected"],
               timeout=10, what="the start and no-clients alerts")
    async def visit():
        ws = await s.connect("shop", "till-1")
        wait_until(lambda: "Clients back" in discord_titles(fakes), timeout=10, what="clients back")
        await ws.close()

    asyncio.run(visit())
    assert s.stop() == 0
    # the stopping alert was delivered before the server exited
    titles = discord_titles(fakes)
    assert titles[-1] == "lifeline-server stopping", titles
    mails = emails(fakes)
    assert [m["subject"] for m in mails] == titles  # the same changes by email
    for m in mails:
        assert m["personalizations"][0]["to"] == [{"email": "ops@example.com"}]
        assert m["from"] == {"email": "lifeline@example.com"}
        assert m["content"][0]["type"] == "text/plain"
    # every delivery was accepted: Discord 204, SendGrid 202 (the fakes
    # refuse a body that breaks the rules, and a wrong bearer key)
    assert {r["status"] for r in deliveries(fakes)} <= {202, 204}
    back = next(json.loads(r["body"]) for r in deliveries(fakes)
                if "/api/webhooks/" in r["path"] and "Clients back" in r["body"])
    fields = {f["name"]: f["value"] for f in back["embeds"][0]["fields"]}
    assert fields["Server"] == f"127.0.0.1:{s.port}"
    log = s.log()
    assert TOKEN not in log and KEY not in log
    sent = [e for e in s.log_events() if e.get("event") == "alert"]
    assert len(sent) == 2 * len(titles) and all(e["ok"] for e in sent), sent


def test_a_channel_without_its_variables_is_off_and_says_so_once(start_server, monkeypatch):
    for v in ("DISCORD_WEBHOOK_URL", "SENDGRID_API_KEY", "ADMIN_EMAIL", "FROM_EMAIL",
              "SENDGRID_API_URL"):
        monkeypatch.delenv(v, raising=False)
    s = start_server("--down-after-ms", "100")
    wait_until(lambda: "no_clients" in s.log(), timeout=5, what="the no-clients change")
    assert s.stop() == 0
    log = s.log()
    assert log.count("discord alerts off") == 1
    assert log.count("email alerts off") == 1
    assert "alert_delivery" not in log


def test_alert_outcomes_are_counted_in_the_metrics(start_server, alerting_env, monkeypatch):
    fakes = alerting_env
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.not-the-key")  # the fake answers 401: not retried
    s = start_server("--json")

    def counts():
        m = s.metrics()
        return {(c, r): m.value("lifeline_server_alerts_total", channel=c, result=r)
                for c in ("discord", "email") for r in ("sent", "failed")}
    # the start: delivered to Discord, refused by SendGrid
    wait_until(lambda: counts()[("discord", "sent")] >= 1 and counts()[("email", "failed")] >= 1,
               timeout=10, what="the start alert's outcomes")
    assert discord_titles(fakes)[0] == "lifeline-server started"
    got = counts()
    outcomes = [e for e in s.log_events() if e.get("event") == "alert"]
    assert got[("discord", "sent")] == sum(e["ok"] and e["channel"] == "discord" for e in outcomes)
    assert got[("email", "failed")] == sum(not e["ok"] and e["channel"] == "email"
                                           for e in outcomes)
    assert got[("discord", "failed")] == 0 and got[("email", "sent")] == 0
