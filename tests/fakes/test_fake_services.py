"""The fakes enforce the rules of the services they stand for: a good request
passes, each documented limit one over fails with the service's error, the
rate limit holds, unknown webhooks are refused, SendGrid checks its key and
the shape of the mail; and the control API does what the alert tests need.

Run: /usr/bin/python3 -m pytest -q tests/fakes
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

FAKE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_services.py")
HOOK_ID = "112233445566778899"
HOOK_TOKEN = "tok_" + "A1b2C3d4" * 8
OTHER_ID = "998877665544332211"
OTHER_TOKEN = "other-token-xyz"
SG_KEY = "SG.fake-key.0123456789"


class Fake:
    """One fake_services.py process and a small HTTP client for it."""

    def __init__(self, *extra):
        self.proc = subprocess.Popen(
            [sys.executable, FAKE, "--port", "0", "--webhook", f"{HOOK_ID}/{HOOK_TOKEN}",
             "--webhook", f"{OTHER_ID}/{OTHER_TOKEN}", "--sendgrid-key", SG_KEY, *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        first = json.loads(line)
        assert first["event"] == "listening"
        self.port = first["port"]

    def request(self, method, path, body=None, headers=None, timeout=5):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            hdrs = {"Content-Type": "application/json"} if body is not None else {}
            hdrs.update(headers or {})
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            doc = None
            if data and resp.getheader("Content-Type", "").startswith("application/json"):
                doc = json.loads(data)
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, doc, data
        finally:
            conn.close()

    def discord(self, body, hook_id=HOOK_ID, token=HOOK_TOKEN, query="", **kw):
        return self.request("POST", f"/api/webhooks/{hook_id}/{token}{query}", body, **kw)

    def sendgrid(self, body, key=SG_KEY, **kw):
        headers = kw.pop("headers", {})
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return self.request("POST", "/v3/mail/send", body, headers=headers, **kw)

    def control(self, **mode):
        status, _, doc, _ = self.request("POST", "/_control", mode)
        assert status == 200, doc
        return doc

    def requests(self):
        return self.request("GET", "/_requests")[2]

    def reset(self):
        assert self.request("POST", "/_reset", {})[0] == 200

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


@pytest.fixture(scope="module")
def fake_unlimited():
    f = Fake("--rate", "100000/1")
    yield f
    f.stop()


@pytest.fixture
def fake(fake_unlimited):
    fake_unlimited.reset()
    return fake_unlimited


@pytest.fixture
def fake_limited():
    f = Fake()  # Discord's webhook default of the fake: 5 per 2 s
    yield f
    f.stop()


def good_embed(**over):
    embed = {
        "title": "Server down: pos.example.com",
        "description": "lifeline could not reach its server.",
        "color": 15158332,
        "timestamp": "2024-05-01T12:00:00.000Z",
        "fields": [{"name": "Server", "value": "wss://pos.example.com:443/ws", "inline": False}],
        "footer": {"text": "lifeline 0.1.0"},
        "author": {"name": "lifeline"},
    }
    embed.update(over)
    return embed


def form_error(doc, *path):
    """The _errors list at path of a 50035 answer."""
    assert doc["code"] == 50035 and doc["message"] == "Invalid Form Body", doc
    node = doc["errors"]
    for key in path:
        assert str(key) in node, (path, doc)
        node = node[str(key)]
    return node["_errors"]


# ---- Discord: good requests -------------------------------------------------

def test_good_webhook_call_gets_204_without_a_body(fake):
    status, headers, _, data = fake.discord({"username": "lifeline", "embeds": [good_embed()]})
    assert status == 204
    assert data == b""
    for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
                 "x-ratelimit-reset-after", "x-ratelimit-bucket"):
        assert name in headers


def test_content_alone_is_a_message(fake):
    assert fake.discord({"content": "hello"})[0] == 204


def test_wait_true_answers_200_with_the_message(fake):
    status, _, doc, _ = fake.discord({"content": "hi", "embeds": [good_embed()]},
                                     query="?wait=true")
    assert status == 200
    assert doc["webhook_id"] == HOOK_ID
    assert doc["content"] == "hi"
    assert doc["embeds"][0]["title"] == "Server down: pos.example.com"
    assert doc["id"].isdigit()


def test_versioned_path_is_accepted(fake):
    status = fake.request("POST", f"/api/v10/webhooks/{HOOK_ID}/{HOOK_TOKEN}",
                          {"content": "x"})[0]
    assert status == 204


def test_every_limit_exactly_reached_passes(fake):
    fields = [{"name": "n" * 256, "value": "v" * 1024} for _ in range(2)]
    # 256 + 1000 + 2 * 1280 + 2048 + 136 = 6000 exactly
    embed = good_embed(title="t" * 256, description="d" * 1000, fields=fields,
                       footer={"text": "f" * 2048}, author={"name": "a" * 136},
                       color=16777215)
    status, _, doc, _ = fake.discord({"content": "c" * 2000, "username": "u" * 80,
                                      "embeds": [embed]})
    assert status == 204, doc


def test_characters_are_counted_as_code_points(fake):
    # 2000 characters of 4 bytes each: within the limit
    assert fake.discord({"content": "\U0001F600" * 2000})[0] == 204
    status, _, doc, _ = fake.discord({"content": "\U0001F600" * 2001})
    assert status == 400
    assert form_error(doc, "content")[0]["code"] == "BASE_TYPE_MAX_LENGTH"


# ---- Discord: refusals ------------------------------------------------------

def test_unknown_token_is_404_unknown_webhook(fake):
    status, _, doc, _ = fake.discord({"content": "x"}, token="wrong-token")
    assert status == 404
    assert doc == {"message": "Unknown Webhook", "code": 10015}


def test_unknown_id_is_404_unknown_webhook(fake):
    status, _, doc, _ = fake.discord({"content": "x"}, hook_id="1", token=HOOK_TOKEN)
    assert status == 404
    assert doc["code"] == 10015


def test_token_of_another_webhook_is_unknown(fake):
    status, _, doc, _ = fake.discord({"content": "x"}, hook_id=HOOK_ID, token=OTHER_TOKEN)
    assert (status, doc["code"]) == (404, 10015)


def test_content_type_must_be_json(fake):
    status, _, doc, _ = fake.discord('{"content": "x"}', headers={"Content-Type": "text/plain"})
    assert status == 400
    assert form_error(doc)[0]["code"] == "CONTENT_TYPE_INVALID"


def test_json_with_charset_is_json(fake):
    status = fake.discord('{"content": "x"}',
                          headers={"Content-Type": "application/json; charset=utf-8"})[0]
    assert status == 204


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe{}"])
def test_body_must_be_a_json_object_in_utf8(fake, body):
    status, _, doc, _ = fake.discord(body)
    assert status == 400
    assert doc["code"] == 50109


@pytest.mark.parametrize("body", [{}, {"content": ""}, {"content": "   "}, {"embeds": []},
                                  {"username": "lifeline", "embeds": None}])
def test_no_content_and_no_embeds_is_an_empty_message(fake, body):
    status, _, doc, _ = fake.discord(body)
    assert status == 400
    assert doc == {"message": "Cannot send an empty message", "code": 50006}


def over(limit):
    return "x" * (limit + 1)


OVER_LIMITS = [
    ("content", {"content": over(2000)}, ["content"], "BASE_TYPE_MAX_LENGTH"),
    ("username_long", {"content": "x", "username": over(80)}, ["username"],
     "BASE_TYPE_BAD_LENGTH"),
    ("username_empty", {"content": "x", "username": ""}, ["username"], "BASE_TYPE_BAD_LENGTH"),
    ("username_discord", {"content": "x", "username": "my Discord bot"}, ["username"],
     "USERNAME_INVALID_CONTAINS"),
    ("embeds", {"embeds": [{"title": "t"}] * 11}, ["embeds"], "BASE_TYPE_MAX_LENGTH"),
    ("title", {"embeds": [good_embed(title=over(256))]}, ["embeds", 0, "title"],
     "BASE_TYPE_MAX_LENGTH"),
    ("description", {"embeds": [good_embed(description=over(4096))]},
     ["embeds", 0, "description"], "BASE_TYPE_MAX_LENGTH"),
    ("fields", {"embeds": [good_embed(fields=[{"name": "n", "value": "v"}] * 26)]},
     ["embeds", 0, "fields"], "BASE_TYPE_MAX_LENGTH"),
    ("field_name", {"embeds": [good_embed(fields=[{"name": over(256), "value": "v"}])]},
     ["embeds", 0, "fields", 0, "name"], "BASE_TYPE_MAX_LENGTH"),
    ("field_value", {"embeds": [good_embed(fields=[{"name": "n", "value": over(1024)}])]},
     ["embeds", 0, "fields", 0, "value"], "BASE_TYPE_MAX_LENGTH"),
    ("field_name_empty", {"embeds": [good_embed(fields=[{"name": "", "value": "v"}])]},
     ["embeds", 0, "fields", 0, "name"], "BASE_TYPE_REQUIRED"),
    ("field_value_missing", {"embeds": [good_embed(fields=[{"name": "n"}])]},
     ["embeds", 0, "fields", 0, "value"], "BASE_TYPE_REQUIRED"),
    ("footer", {"embeds": [good_embed(footer={"text": over(2048)})]},
     ["embeds", 0, "footer", "text"], "BASE_TYPE_MAX_LENGTH"),
    ("author", {"embeds": [good_embed(author={"name": over(256)})]},
     ["embeds", 0, "author", "name"], "BASE_TYPE_MAX_LENGTH"),
    ("color_high", {"embeds": [good_embed(color=16777216)]}, ["embeds", 0, "color"],
     "NUMBER_TYPE_MAX"),
    ("color_negative", {"embeds": [good_embed(color=-1)]}, ["embeds", 0, "color"],
     "NUMBER_TYPE_MIN"),
    ("color_text", {"embeds": [good_embed(color="red")]}, ["embeds", 0, "color"],
     "NUMBER_TYPE_COERCE"),
    ("timestamp", {"embeds": [good_embed(timestamp="yesterday")]},
     ["embeds", 0, "timestamp"], "DATE_TIME_TYPE_PARSE"),
    # 256 + 1001 + 2 * 1280 + 2048 + 136 = 6001
    ("total", {"embeds": [good_embed(title="t" * 256, description="d" * 1001,
                                     fields=[{"name": "n" * 256, "value": "v" * 1024}] * 2,
                                     footer={"text": "f" * 2048}, author={"name": "a" * 136})]},
     ["embeds"], "MAX_EMBED_SIZE_EXCEEDED"),
    # the total is over all embeds of the message
    ("total_over_embeds", {"embeds": [good_embed(title="", description="d" * 3000, fields=[],
                                                 footer={"text": "f"}, author={"name": "a"}),
                                      good_embed(title="", description="d" * 2999, fields=[],
                                                 footer={"text": "f"}, author={"name": "a"})]},
     ["embeds"], "MAX_EMBED_SIZE_EXCEEDED"),
]


@pytest.mark.parametrize("name,body,path,code", OVER_LIMITS, ids=[x[0] for x in OVER_LIMITS])
def test_one_over_a_limit_is_invalid_form_body(fake, name, body, path, code):
    status, _, doc, _ = fake.discord(body)
    assert status == 400, doc
    errors = form_error(doc, *path)
    assert code in [e["code"] for e in errors], errors
    if code == "BASE_TYPE_MAX_LENGTH":
        assert errors[0]["message"].startswith("Must be ")


def test_a_timestamp_with_an_offset_is_iso8601(fake):
    status = fake.discord({"embeds": [good_embed(timestamp="2024-05-01T14:00:00+02:00")]})[0]
    assert status == 204


def test_every_error_is_reported_at_once(fake):
    status, _, doc, _ = fake.discord({"content": over(2000),
                                      "embeds": [good_embed(title=over(256), color=-5)]})
    assert status == 400
    form_error(doc, "content")
    form_error(doc, "embeds", 0, "title")
    form_error(doc, "embeds", 0, "color")


# ---- Discord: rate limit ----------------------------------------------------

def test_rate_limit_headers_count_down_then_429(fake_limited):
    remaining = []
    for _ in range(5):
        status, headers, _, _ = fake_limited.discord({"content": "x"})
        assert status == 204
        assert headers["x-ratelimit-limit"] == "5"
        remaining.append(int(headers["x-ratelimit-remaining"]))
        assert 0 < float(headers["x-ratelimit-reset-after"]) <= 2.0
        assert abs(float(headers["x-ratelimit-reset"]) - time.time()) <= 2.5
    assert remaining == [4, 3, 2, 1, 0]
    status, headers, doc, _ = fake_limited.discord({"content": "x"})
    assert status == 429
    assert doc["message"] == "You are being rate limited."
    assert doc["global"] is False
    assert 0 < doc["retry_after"] <= 2.0
    assert int(headers["retry-after"]) >= 1
    assert headers["x-ratelimit-remaining"] == "0"
    # after the window, the bucket is full again
    time.sleep(doc["retry_after"] + 0.05)
    assert fake_limited.discord({"content": "x"})[0] == 204


def test_each_webhook_has_its_own_bucket(fake_limited):
    for _ in range(5):
        assert fake_limited.discord({"content": "x"})[0] == 204
    assert fake_limited.discord({"content": "x"})[0] == 429
    assert fake_limited.discord({"content": "x"}, hook_id=OTHER_ID, token=OTHER_TOKEN)[0] == 204


def test_rate_option_sets_the_bucket():
    f = Fake("--rate", "2/1")
    try:
        assert [f.discord({"content": "x"})[0] for _ in range(3)] == [204, 204, 429]
    finally:
        f.stop()


# ---- SendGrid ---------------------------------------------------------------

def good_mail(**over_):
    mail = {
        "personalizations": [{"to": [{"email": "ops@example.com", "name": "Ops"}]}],
        "from": {"email": "lifeline@example.com", "name": "lifeline"},
        "subject": "Server down",
        "content": [{"type": "text/plain", "value": "down"},
                    {"type": "text/html", "value": "<b>down</b>"}],
    }
    mail.update(over_)
    return mail


def test_sendgrid_good_mail_gets_202_without_a_body(fake):
    status, headers, _, data = fake.sendgrid(good_mail())
    assert status == 202
    assert data == b""
    assert headers.get("x-message-id")


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_sendgrid_needs_the_bearer_key(fake, key):
    status, _, doc, _ = fake.sendgrid(good_mail(), key=key)
    assert status == 401
    assert doc == {"errors": [{"message": "The provided authorization grant is invalid, "
                                          "expired, or revoked", "field": None, "help": None}]}


def test_sendgrid_key_without_bearer_is_refused(fake):
    status = fake.sendgrid(good_mail(), key=None, headers={"Authorization": SG_KEY})[0]
    assert status == 401


def test_sendgrid_without_a_configured_key_refuses_every_key():
    proc = subprocess.Popen([sys.executable, FAKE, "--port", "0"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        port = json.loads(proc.stdout.readline())["port"]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/v3/mail/send", json.dumps(good_mail()),
                     {"Content-Type": "application/json", "Authorization": "Bearer anything"})
        assert conn.getresponse().status == 401
        conn.close()
    finally:
        proc.terminate()
        proc.wait(5)
        proc.stdin.close()
        proc.stdout.close()


SENDGRID_BAD = [
    ("no_personalizations", {"personalizations": None}, "personalizations"),
    ("empty_personalizations", {"personalizations": []}, "personalizations"),
    ("empty_to", {"personalizations": [{"to": []}]}, "personalizations.0.to"),
    ("no_to", {"personalizations": [{"cc": [{"email": "a@example.com"}]}]},
     "personalizations.0.to"),
    ("bad_to_email", {"personalizations": [{"to": [{"email": "not-an-address"}]}]},
     "personalizations.0.to.0.email"),
    ("to_email_with_space", {"personalizations": [{"to": [{"email": "a b@example.com"}]}]},
     "personalizations.0.to.0.email"),
    ("to_email_without_domain_dot", {"personalizations": [{"to": [{"email": "a@localhost"}]}]},
     "personalizations.0.to.0.email"),
    ("second_to_bad", {"personalizations": [{"to": [{"email": "a@example.com"},
                                                    {"email": "@example.com"}]}]},
     "personalizations.0.to.1.email"),
    ("bad_cc", {"personalizations": [{"to": [{"email": "a@example.com"}],
                                      "cc": [{"email": "x@"}]}]},
     "personalizations.0.cc.0.email"),
    ("no_from", {"from": None}, "from.email"),
    ("bad_from", {"from": {"email": "lifeline"}}, "from.email"),
    ("no_subject", {"subject": None}, "subject"),
    ("empty_subject", {"subject": ""}, "subject"),
    ("no_content", {"content": None}, "content"),
    ("empty_content", {"content": []}, "content"),
    ("bad_content_type", {"content": [{"type": "text/markdown", "value": "x"}]},
     "content.0.type"),
    ("empty_content_value", {"content": [{"type": "text/plain", "value": ""}]},
     "content.0.value"),
    ("html_before_plain", {"content": [{"type": "text/html", "value": "<b>x</b>"},
                                       {"type": "text/plain", "value": "x"}]}, "content"),
]


@pytest.mark.parametrize("name,change,field", SENDGRID_BAD, ids=[x[0] for x in SENDGRID_BAD])
def test_sendgrid_refuses_a_bad_mail_naming_the_field(fake, name, change, field):
    mail = good_mail(**change)
    mail = {k: v for k, v in mail.items() if v is not None}
    status, _, doc, _ = fake.sendgrid(mail)
    assert status == 400, doc
    assert field in [e["field"] for e in doc["errors"]], doc
    for e in doc["errors"]:
        assert e["message"] and e["help"] is None


def test_sendgrid_subject_may_come_from_every_personalization(fake):
    mail = good_mail(personalizations=[{"to": [{"email": "a@example.com"}], "subject": "s"}])
    del mail["subject"]
    assert fake.sendgrid(mail)[0] == 202


def test_sendgrid_needs_json(fake):
    status, _, doc, _ = fake.sendgrid(json.dumps(good_mail()),
                                      headers={"Content-Type": "text/plain"})
    assert status == 400
    assert doc["errors"][0]["message"]
    assert fake.sendgrid("{oops")[0] == 400


# ---- control ----------------------------------------------------------------

def test_requests_are_recorded_with_arrival_time_and_status(fake):
    before = time.monotonic() * 1000
    fake.discord({"content": "one"}, headers={"X-Probe": "yes"})
    fake.discord({"content": "two"}, token="nope")
    fake.sendgrid(good_mail())
    after = time.monotonic() * 1000
    reqs = fake.requests()
    assert [r["status"] for r in reqs] == [204, 404, 202]
    assert json.loads(reqs[1]["answer"]) == {"message": "Unknown Webhook", "code": 10015}
    assert reqs[0]["answer"] == ""
    assert [r["service"] for r in reqs] == ["discord", "discord", "sendgrid"]
    assert reqs[0]["method"] == "POST"
    assert reqs[0]["path"] == f"/api/webhooks/{HOOK_ID}/{HOOK_TOKEN}"
    assert reqs[0]["headers"]["x-probe"] == "yes"
    assert json.loads(reqs[0]["body"]) == {"content": "one"}
    assert all(before <= r["arrival_ms"] <= after for r in reqs)
    assert reqs[0]["arrival_ms"] <= reqs[1]["arrival_ms"] <= reqs[2]["arrival_ms"]
    assert all(r["outcome"] == "answered" for r in reqs)
    fake.reset()
    assert fake.requests() == []


def test_status_mode_answers_the_next_deliveries_then_normal(fake):
    fake.control(mode="status", status=500, count=2)
    results = [fake.discord({"content": "x"})[:3:2] for _ in range(3)]
    assert [s for s, _ in results] == [500, 500, 204]
    assert results[0][1]["message"].startswith("500")
    fake.control(mode="status", status=503, count=1)
    status, _, doc, _ = fake.sendgrid(good_mail())
    assert status == 503 and doc["errors"][0]["message"]
    assert fake.sendgrid(good_mail())[0] == 202
    assert [r["status"] for r in fake.requests()] == [500, 500, 204, 503, 202]


def test_status_mode_404_looks_like_an_unknown_webhook(fake):
    fake.control(mode="status", status=404, count=1)
    status, _, doc, _ = fake.discord({"content": "x"})
    assert (status, doc["code"]) == (404, 10015)


@pytest.mark.parametrize("where", ["body", "header", "both"])
def test_ratelimit_mode_puts_retry_after_where_asked(fake, where):
    fake.control(mode="ratelimit", retry_after=1.5, count=1, where=where)
    status, headers, doc, _ = fake.discord({"content": "x"})
    assert status == 429
    assert doc["message"] == "You are being rate limited."
    if where in ("body", "both"):
        assert doc["retry_after"] == 1.5
    else:
        assert "retry_after" not in doc
    if where in ("header", "both"):
        assert headers["retry-after"] == "1.5"
    else:
        assert "retry-after" not in headers
    assert fake.discord({"content": "x"})[0] == 204


def test_close_mode_closes_without_answering(fake):
    fake.control(mode="close")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        fake.discord({"content": "x"})
    fake.control(mode="normal")
    assert fake.discord({"content": "x"})[0] == 204
    assert [r["outcome"] for r in fake.requests()] == ["closed", "answered"]


def test_hang_mode_never_answers_until_the_mode_changes(fake):
    fake.control(mode="hang")
    started = time.monotonic()
    with pytest.raises(socket.timeout):
        fake.discord({"content": "x"}, timeout=0.5)
    assert time.monotonic() - started >= 0.45
    reqs = fake.requests()
    assert len(reqs) == 1 and reqs[0]["status"] == 0
    fake.control(mode="normal")
    assert fake.discord({"content": "x"})[0] == 204
    deadline = time.monotonic() + 5
    while fake.requests()[0]["outcome"] != "hung" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.requests()[0]["outcome"] == "hung"


def test_bad_control_requests_are_refused(fake):
    assert fake.request("POST", "/_control", {"mode": "explode"})[0] == 400
    assert fake.request("POST", "/_control", {"mode": "status"})[0] == 400
    assert fake.request("POST", "/_control", {"mode": "ratelimit", "where": "x"})[0] == 400


def test_sigterm_exits_cleanly_with_a_request_hanging():
    f = Fake()
    f.control(mode="hang")
    sock = socket.create_connection(("127.0.0.1", f.port))
    body = b'{"content": "x"}'
    sock.sendall(b"POST /api/webhooks/%s/%s HTTP/1.1\r\nHost: x\r\nContent-Type: "
                 b"application/json\r\nContent-Length: %d\r\n\r\n%s"
                 % (HOOK_ID.encode(), HOOK_TOKEN.encode(), len(body), body))
    deadline = time.monotonic() + 5
    while not f.requests() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert f.requests()
    started = time.monotonic()
    f.proc.send_signal(signal.SIGTERM)
    assert f.proc.wait(5) == 0
    assert time.monotonic() - started < 3
    sock.close()
    f.stop()


def test_watch_stdin_exits_when_stdin_closes():
    proc = subprocess.Popen([sys.executable, FAKE, "--port", "0", "--watch-stdin"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    json.loads(proc.stdout.readline())
    proc.stdin.close()
    assert proc.wait(5) == 0
    proc.stdout.close()
