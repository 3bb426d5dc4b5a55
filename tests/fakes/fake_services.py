#!/usr/bin/python3
"""Fakes of the services lifeline's alerts call: a Discord webhook and
SendGrid's mail send, enforcing the rules the real services document, plus a
control API so that tests can make them fail on purpose.

    fake_services.py [--host 127.0.0.1] [--port 0] [--webhook ID/TOKEN ...]
                     [--sendgrid-key KEY] [--rate N/SECONDS] [--watch-stdin]
                     [--verbose]

The first line on stdout is {"event":"listening","port":N}. Standard library
only (http.server), one thread per connection, HTTP/1.1 with keep-alive and
"Expect: 100-continue" as libcurl uses them. SIGTERM (or SIGINT) stops it
cleanly, requests left hanging included; --watch-stdin also stops it when
its stdin closes, so it never outlives the test process that started it.

Discord (https://discord.com/developers/docs/resources/webhook#execute-webhook)
  POST /api/webhooks/{id}/{token}[?wait=true]   (also /api/v10/webhooks/...)
  - an id/token pair not given with --webhook: 404 {"message": "Unknown
    Webhook", "code": 10015}
  - Content-Type other than application/json: 400 Invalid Form Body (code
    50035, CONTENT_TYPE_INVALID). Discord also takes form bodies; lifeline
    never sends them, so the fake refuses them.
  - a body that is not UTF-8 JSON, or not an object: 400 code 50109
  - every documented limit, counted in Unicode code points: content 2000,
    username 1 to 80 (and not containing "discord" or "clyde"), 10 embeds,
    per embed title 256, description 4096, 25 fields, field name 256 and
    value 1024 (both required, not empty), footer.text 2048, author.name 256,
    color an integer 0..16777215, timestamp ISO 8601, and 6000 characters
    over all embeds (titles, descriptions, field names and values, footer
    texts, author names): 400 {"code": 50035, "errors": {path: {"_errors":
    [{"code": ..., "message": ...}]}}, "message": "Invalid Form Body"}
  - no content and no embeds: 400 {"message": "Cannot send an empty
    message", "code": 50006}
  - success: 204 without a body, or 200 and a message object with ?wait=true
  - rate limit: one bucket per webhook, N requests per window (default
    5 per 2 s, --rate N/SECONDS); every answer carries X-RateLimit-Limit,
    -Remaining, -Reset (epoch seconds, fractional), -Reset-After (seconds)
    and -Bucket; over the limit: 429, Retry-After (seconds) and {"message":
    "You are being rate limited.", "retry_after": seconds, "global": false}

SendGrid (https://www.twilio.com/docs/sendgrid/api-reference/mail-send)
  POST /v3/mail/send
  - Authorization: Bearer KEY (KEY from --sendgrid-key; without the option
    no key is valid), else 401 {"errors": [{"message": "The provided
    authorization grant is invalid, expired, or revoked", "field": null,
    "help": null}]}
  - personalizations: 1 to 1000, each with a non-empty "to" of {"email"}
    objects (cc and bcc checked alike); from.email; subject a non-empty string
    (or one in every personalization); content: at least one {"type":
    "text/plain" | "text/html", "value": non-empty}, text/plain first;
    addresses must be syntactically valid; any violation: 400 {"errors":
    [{"message": ..., "field": path, "help": null}]}
  - success: 202 without a body, with X-Message-Id

Control (for tests only; neither real service has it)
  POST /_control {"mode": "normal"}
                 {"mode": "status", "status": N, "count": K}
                     the next K deliveries are answered N with a plausible
                     body (K defaults to 1)
                 {"mode": "ratelimit", "retry_after": S, "count": K,
                  "where": "body" | "header" | "both"}
                     the next K deliveries are answered 429
                 {"mode": "hang"[, "count": K]}
                     accept, read the request and never answer until the
                     mode changes (then the connection is closed unanswered)
                 {"mode": "close"[, "count": K]}
                     read the request and close the connection unanswered
                 hang and close last until changed unless count is given.
                 Any control request releases the requests left hanging.
  GET  /_requests  every delivery (any request not under /_), in order:
                   {"method", "path" (with the query), "query",
                    "headers" (names in lower case), "header_list",
                    "body" (text), "arrival_ms" (CLOCK_MONOTONIC, ms, as a
                    float: comparable with the tests' own clock),
                    "service" ("discord" | "sendgrid" | null),
                    "status" (0 when unanswered), "answer" (the body sent back),
                    "outcome" ("answered" | "closed" | "hung" | "hanging")}
  POST /_reset     forget the deliveries, the buckets and the mode, release
                   hanging requests
"""
import argparse
import datetime
import hashlib
import json
import math
import os
import re
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

WEBHOOK_PATH = re.compile(r"^/api(?:/v\d+)?/webhooks/([^/]+)/([^/]+)/?$")
SENDGRID_PATH = "/v3/mail/send"

DISCORD_LIMITS = {
    "content": 2000,
    "username": 80,
    "embeds": 10,
    "title": 256,
    "description": 4096,
    "fields": 25,
    "field_name": 256,
    "field_value": 1024,
    "footer": 2048,
    "author": 256,
    "total": 6000,
}
COLOR_MAX = 0xFFFFFF

SENDGRID_AUTH_ERROR = {
    "errors": [{
        "message": "The provided authorization grant is invalid, expired, or revoked",
        "field": None,
        "help": None,
    }]
}

EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+(?<!\.)"
    r"@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def monotonic_ms():
    return time.monotonic() * 1000.0  # CLOCK_MONOTONIC on Linux


def dumps(doc):
    return json.dumps(doc, separators=(",", ":")).encode()


# ---- Discord's validation --------------------------------------------------

class FormErrors:
    """Discord's nested error object: {"embeds": {"0": {"title":
    {"_errors": [...]}}}}."""

    def __init__(self):
        self.tree = {}

    def add(self, path, code, message):
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def __bool__(self):
        return bool(self.tree)


def max_length(errors, path, value, limit):
    if len(value) > limit:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def check_string(errors, path, value, limit=None, required=False):
    """A string field: its type, presence and length. Returns the string
    ("" when absent or wrong)."""
    if value is None:
        if required:
            errors.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        return ""
    if not isinstance(value, str):
        errors.add(path, "BASE_TYPE_STRING", f"Could not interpret \"{value!r}\" as string.")
        return ""
    if required and value == "":
        errors.add(path, "BASE_TYPE_REQUIRED", "This field is required")
    if limit is not None:
        max_length(errors, path, value, limit)
    return value


def valid_iso8601(text):
    if not isinstance(text, str) or not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def check_embed(errors, i, embed):
    """One embed; returns its characters toward the 6000 total."""
    path = ["embeds", i]
    if not isinstance(embed, dict):
        errors.add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        return 0
    total = 0
    total += len(check_string(errors, path + ["title"], embed.get("title"),
                              DISCORD_LIMITS["title"]))
    total += len(check_string(errors, path + ["description"], embed.get("description"),
                              DISCORD_LIMITS["description"]))
    check_string(errors, path + ["url"], embed.get("url"))
    if "timestamp" in embed and embed["timestamp"] is not None:
        ts = embed["timestamp"]
        if not valid_iso8601(ts):
            errors.add(path + ["timestamp"], "DATE_TIME_TYPE_PARSE",
                       f"Could not parse {ts}. Should be ISO8601.")
    if "color" in embed and embed["color"] is not None:
        color = embed["color"]
        if isinstance(color, bool) or not isinstance(color, int):
            errors.add(path + ["color"], "NUMBER_TYPE_COERCE", f"Value \"{color}\" is not int.")
        elif color > COLOR_MAX:
            errors.add(path + ["color"], "NUMBER_TYPE_MAX",
                       f"int value should be less than or equal to {COLOR_MAX}.")
        elif color < 0:
            errors.add(path + ["color"], "NUMBER_TYPE_MIN",
                       "int value should be greater than or equal to 0.")
    for key, limit, sub in (("footer", DISCORD_LIMITS["footer"], "text"),
                            ("author", DISCORD_LIMITS["author"], "name")):
        if key in embed and embed[key] is not None:
            obj = embed[key]
            if not isinstance(obj, dict):
                errors.add(path + [key], "MODEL_TYPE_CONVERT",
                           "Only dictionaries may be used in a ModelType")
            else:
                total += len(check_string(errors, path + [key, sub], obj.get(sub), limit,
                                          required=True))
    if "fields" in embed and embed["fields"] is not None:
        fields = embed["fields"]
        if not isinstance(fields, list):
            errors.add(path + ["fields"], "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        else:
            max_length(errors, path + ["fields"], fields, DISCORD_LIMITS["fields"])
            for j, field in enumerate(fields):
                fpath = path + ["fields", j]
                if not isinstance(field, dict):
                    errors.add(fpath, "MODEL_TYPE_CONVERT",
                               "Only dictionaries may be used in a ModelType")
                    continue
                total += len(check_string(errors, fpath + ["name"], field.get("name"),
                                          DISCORD_LIMITS["field_name"], required=True))
                total += len(check_string(errors, fpath + ["value"], field.get("value"),
                                          DISCORD_LIMITS["field_value"], required=True))
                if "inline" in field and not isinstance(field["inline"], bool):
                    errors.add(fpath + ["inline"], "BOOLEAN_TYPE_COERCE",
                               f"Value \"{field['inline']}\" is not bool.")
    return total


def validate_discord(doc):
    """(status, body) of the answer to an execute-webhook body, or None when
    the message is acceptable."""
    if not isinstance(doc, dict):
        return 400, {"message": "The request body contains invalid JSON.", "code": 50109}
    errors = FormErrors()
    content = check_string(errors, ["content"], doc.get("content"), DISCORD_LIMITS["content"])
    if "username" in doc and doc["username"] is not None:
        name = doc["username"]
        if not isinstance(name, str):
            errors.add(["username"], "BASE_TYPE_STRING",
                       f"Could not interpret \"{name!r}\" as string.")
        elif not 1 <= len(name) <= DISCORD_LIMITS["username"]:
            errors.add(["username"], "BASE_TYPE_BAD_LENGTH",
                       f"Must be between 1 and {DISCORD_LIMITS['username']} in length.")
        else:
            for banned in ("discord", "clyde"):
                if banned in name.lower():
                    errors.add(["username"], "USERNAME_INVALID_CONTAINS",
                               f"Username cannot contain \"{banned}\"")
    check_string(errors, ["avatar_url"], doc.get("avatar_url"))
    if "tts" in doc and not isinstance(doc["tts"], bool):
        errors.add(["tts"], "BOOLEAN_TYPE_COERCE", f"Value \"{doc['tts']}\" is not bool.")
    embeds = doc.get("embeds")
    n_embeds = 0
    if embeds is not None:
        if not isinstance(embeds, list):
            errors.add(["embeds"], "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        else:
            n_embeds = len(embeds)
            max_length(errors, ["embeds"], embeds, DISCORD_LIMITS["embeds"])
            total = sum(check_embed(errors, i, e) for i, e in enumerate(embeds))
            if total > DISCORD_LIMITS["total"]:
                errors.add(["embeds"], "MAX_EMBED_SIZE_EXCEEDED",
                           f"Embed size exceeds maximum size of {DISCORD_LIMITS['total']}")
    if errors:
        return 400, {"code": 50035, "errors": errors.tree, "message": "Invalid Form Body"}
    if not content.strip() and n_embeds == 0:
        return 400, {"message": "Cannot send an empty message", "code": 50006}
    return None


# ---- SendGrid's validation -------------------------------------------------

def validate_sendgrid(doc):
    """The list of SendGrid errors for a mail/send body ([] when fine)."""
    errs = []

    def err(field, message):
        errs.append({"message": message, "field": field, "help": None})

    def check_address(field, item, required_message):
        if not isinstance(item, dict) or "email" not in item:
            err(field, required_message)
            return
        email = item["email"]
        if not isinstance(email, str) or not EMAIL.match(email):
            err(field + ".email", "Does not contain a valid address.")

    if not isinstance(doc, dict):
        err(None, "Bad Request")
        return errs
    pers = doc.get("personalizations")
    every_has_subject = False
    if not isinstance(pers, list) or not pers:
        err("personalizations", "The personalizations field is required and must have at "
            "least one personalization.")
    elif len(pers) > 1000:
        err("personalizations", "The personalizations field must have 1000 or fewer items.")
    else:
        every_has_subject = True
        for i, p in enumerate(pers):
            base = f"personalizations.{i}"
            if not isinstance(p, dict):
                err(base, "Each personalization must be an object.")
                every_has_subject = False
                continue
            to = p.get("to")
            if not isinstance(to, list) or not to:
                err(base + ".to", "The to array is required for all personalization objects, "
                    "and must have at least one email object with a valid email address.")
            else:
                for j, item in enumerate(to):
                    check_address(f"{base}.to.{j}", item, "The email parameter is required.")
            for key in ("cc", "bcc"):
                if key in p:
                    lst = p[key]
                    if not isinstance(lst, list):
                        err(f"{base}.{key}", f"The {key} field must be an array.")
                        continue
                    for j, item in enumerate(lst):
                        check_address(f"{base}.{key}.{j}", item,
                                      "The email parameter is required.")
            subj = p.get("subject")
            if "subject" in p and not isinstance(subj, str):
                err(base + ".subject", "The subject must be a string.")
            if not (isinstance(subj, str) and subj):
                every_has_subject = False
    frm = doc.get("from")
    if not isinstance(frm, dict) or "email" not in frm:
        err("from.email", "The from object must be provided for every email send. It is an "
            "object that requires the email parameter, but may also contain a name parameter.")
    elif not isinstance(frm["email"], str) or not EMAIL.match(frm["email"]):
        err("from.email", "The from email does not contain a valid address.")
    if "reply_to" in doc:
        check_address("reply_to", doc["reply_to"], "The reply_to email parameter is required.")
    subject = doc.get("subject")
    if "subject" in doc and not isinstance(subject, str):
        err("subject", "The subject must be a string.")
    elif not (isinstance(subject, str) and subject) and not every_has_subject:
        err("subject", "The subject is required. You can get around this requirement if you "
            "use a template with a subject defined or if every personalization has a subject "
            "defined.")
    content = doc.get("content")
    if not isinstance(content, list) or not content:
        err("content", "Unless a valid template_id is provided, the content parameter is "
            "required. There must be at least one defined content block.")
    else:
        types = []
        for i, block in enumerate(content):
            if not isinstance(block, dict):
                err(f"content.{i}", "Each content block must be an object.")
                continue
            ctype = block.get("type")
            if ctype not in ("text/plain", "text/html"):
                err(f"content.{i}.type", "The content type must be text/plain or text/html.")
            else:
                types.append(ctype)
            value = block.get("value")
            if not isinstance(value, str) or not value:
                err(f"content.{i}.value",
                    "The content value must be a string at least one character in length.")
        if "text/plain" in types and "text/html" in types and \
                types.index("text/html") < types.index("text/plain"):
            err("content", "If present, text/plain and text/html may only be provided in "
                "order of text/plain first, then text/html.")
    return errs


# ---- shared state ----------------------------------------------------------

class State:
    def __init__(self, webhooks, sendgrid_key, rate_n, rate_s, verbose):
        self.cv = threading.Condition()
        self.webhooks = set(webhooks)
        self.sendgrid_key = sendgrid_key
        self.rate_n = rate_n
        self.rate_s = rate_s
        self.verbose = verbose
        self.reset_locked()
        self.stopping = False

    def reset_locked(self):
        self.requests = []
        self.buckets = {}          # webhook key -> [window start (monotonic s), count]
        self.mode = {"mode": "normal"}
        self.left = None           # deliveries left in the mode, None: until changed
        self.generation = getattr(self, "generation", 0) + 1  # wakes hanging requests

    def set_mode(self, mode):
        with self.cv:
            self.mode = mode
            count = mode.get("count")
            if mode["mode"] in ("status", "ratelimit"):
                self.left = 1 if count is None else count
            else:
                self.left = count
            self.generation += 1
            self.cv.notify_all()

    def reset(self):
        with self.cv:
            self.reset_locked()
            self.cv.notify_all()

    def take_mode(self):
        """The mode that applies to this delivery (normal when used up)."""
        with self.cv:
            mode = self.mode
            if mode["mode"] == "normal":
                return mode, self.generation
            if self.left is not None:
                if self.left <= 0:
                    return {"mode": "normal"}, self.generation
                self.left -= 1
            return mode, self.generation

    def hang(self, generation):
        """Block until the mode changes or the fake stops."""
        with self.cv:
            while self.generation == generation and not self.stopping:
                self.cv.wait(1.0)

    def stop(self):
        with self.cv:
            self.stopping = True
            self.cv.notify_all()

    def bucket(self, key):
        """Count one request against key's bucket: (allowed, limit,
        remaining, reset epoch s, reset-after s)."""
        now = time.monotonic()
        with self.cv:
            b = self.buckets.get(key)
            if b is None or now >= b[0] + self.rate_s:
                b = self.buckets[key] = [now, 0]
            reset_after = max(0.0, b[0] + self.rate_s - now)
            allowed = b[1] < self.rate_n
            if allowed:
                b[1] += 1
            remaining = self.rate_n - b[1]
        return allowed, self.rate_n, remaining, time.time() + reset_after, reset_after

    def record(self, rec):
        with self.cv:
            self.requests.append(rec)

    def snapshot(self):
        with self.cv:
            return [dict(r) for r in self.requests]


# ---- the HTTP side ---------------------------------------------------------

PHRASES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 413: "Payload Too Large", 415: "Unsupported Media Type",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}


def plausible_body(service, status):
    """(content type, body bytes) a real service could answer with status."""
    if 200 <= status < 300:
        return None, b""
    phrase = PHRASES.get(status, "Error")
    if service == "sendgrid":
        return "application/json", dumps({"errors": [{"message": phrase, "field": None,
                                                      "help": None}]})
    if status == 404:
        return "application/json", dumps({"message": "Unknown Webhook", "code": 10015})
    if status == 400:
        return "application/json", dumps({"code": 50035, "errors": {}, "message": "Invalid Form Body"})
    if status == 403:
        return "application/json", dumps({"message": "Missing Access", "code": 50001})
    if status == 502:  # Cloudflare in front of Discord answers in HTML
        return "text/html", b"<html><head><title>502 Bad Gateway</title></head><body>" \
                            b"<center><h1>502 Bad Gateway</h1></center></body></html>"
    return "application/json", dumps({"message": f"{status}: {phrase}", "code": 0})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-services/1"

    @property
    def state(self):
        return self.server.state

    def log_message(self, fmt, *args):
        if self.state.verbose:
            sys.stderr.write("fake: " + (fmt % args) + "\n")

    # -- plumbing

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def answer(self, status, body=b"", content_type="application/json", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status != 204 and not (100 <= status < 200):
            if body:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and status != 204:
            self.wfile.write(body)
        self.wfile.flush()

    def answer_json(self, status, doc, headers=()):
        self.answer(status, dumps(doc), "application/json", headers)

    # -- dispatch

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def dispatch(self, method):
        arrival = monotonic_ms()
        body = self.read_body()
        url = urlsplit(self.path)
        if url.path.startswith("/_"):
            return self.control(method, url.path, body)
        m = WEBHOOK_PATH.match(url.path)
        service = "discord" if m else "sendgrid" if url.path == SENDGRID_PATH else None
        rec = {
            "method": method,
            "path": self.path,
            "query": url.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "header_list": [[k, v] for k, v in self.headers.items()],
            "body": body.decode("utf-8", errors="replace"),
            "arrival_ms": arrival,
            "service": service,
            "status": 0,
            "outcome": "hanging",
        }
        self.state.record(rec)
        if service is None:
            return self.finish_with(rec, 404, dumps({"message": "404: Not Found", "code": 0}))
        mode, generation = self.state.take_mode()
        kind = mode["mode"]
        if kind == "hang":
            self.state.hang(generation)
            with self.state.cv:
                rec["outcome"] = "hung"
            self.close_connection = True
            return None
        if kind == "close":
            with self.state.cv:
                rec["outcome"] = "closed"
            self.close_connection = True
            return None
        if kind == "status":
            status = int(mode["status"])
            ctype, data = plausible_body(service, status)
            headers = []
            if status == 429:
                headers.append(("Retry-After", "1"))
                if service == "discord":
                    data = dumps({"message": "You are being rate limited.", "retry_after": 1.0,
                                  "global": False})
            if service == "discord":
                headers += self.rate_headers(m, count=False)[2]
            return self.finish_with(rec, status, data, ctype or "application/json", headers)
        if kind == "ratelimit":
            return self.forced_ratelimit(rec, service, m, mode)
        if service == "discord":
            return self.discord(rec, method, m, url, body)
        return self.sendgrid(rec, method, body)

    def finish_with(self, rec, status, body=b"", content_type="application/json", headers=()):
        # recorded before the answer leaves: a test that has its answer
        # finds it in /_requests
        with self.state.cv:
            rec["status"] = status
            rec["answer"] = body.decode("utf-8", errors="replace")
            rec["outcome"] = "answered"
        self.answer(status, body, content_type, headers)

    # -- Discord

    def rate_headers(self, m, count=True, retry_after=None):
        key = m.group(1) + "/" + m.group(2)
        if count:
            allowed, limit, remaining, reset, reset_after = self.state.bucket(key)
        else:
            allowed, limit, remaining = True, self.state.rate_n, 0
            reset_after = retry_after or 0.0
            reset = time.time() + reset_after
        bucket = hashlib.sha1(m.group(1).encode()).hexdigest()[:32]
        headers = [
            ("X-RateLimit-Limit", str(limit)),
            ("X-RateLimit-Remaining", str(max(0, remaining))),
            ("X-RateLimit-Reset", f"{reset:.3f}"),
            ("X-RateLimit-Reset-After", f"{reset_after:.3f}"),
            ("X-RateLimit-Bucket", bucket),
        ]
        return allowed, reset_after, headers

    def forced_ratelimit(self, rec, service, m, mode):
        retry_after = float(mode.get("retry_after", 1.0))
        where = mode.get("where", "body")
        headers = []
        if where in ("header", "both"):
            headers.append(("Retry-After", f"{retry_after:g}"))
        if service == "discord":
            doc = {"message": "You are being rate limited.", "global": False}
            if where in ("body", "both"):
                doc["retry_after"] = retry_after
            headers += self.rate_headers(m, count=False, retry_after=retry_after)[2]
            headers.append(("X-RateLimit-Scope", "shared"))
        else:
            doc = {"errors": [{"message": "too many requests", "field": None, "help": None}]}
        self.finish_with(rec, 429, dumps(doc), "application/json", headers)

    def discord(self, rec, method, m, url, body):
        if method != "POST":
            return self.finish_with(rec, 405, dumps({"message": "405: Method Not Allowed",
                                                     "code": 0}))
        allowed, reset_after, headers = self.rate_headers(m)
        if not allowed:
            retry_after = math.ceil(reset_after * 1000) / 1000.0
            headers += [("Retry-After", str(max(1, math.ceil(reset_after)))),
                        ("X-RateLimit-Scope", "shared")]
            return self.finish_with(rec, 429, dumps({"message": "You are being rate limited.",
                                                     "retry_after": retry_after,
                                                     "global": False}),
                                    "application/json", headers)
        if m.group(1) + "/" + m.group(2) not in self.state.webhooks:
            return self.finish_with(rec, 404, dumps({"message": "Unknown Webhook", "code": 10015}),
                                    "application/json", headers)
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            doc = {"code": 50035, "errors": {"_errors": [{
                "code": "CONTENT_TYPE_INVALID",
                "message": "Expected \"Content-Type\" header to be one of {'application/json'}."}]},
                "message": "Invalid Form Body"}
            return self.finish_with(rec, 400, dumps(doc), "application/json", headers)
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self.finish_with(rec, 400, dumps({"message": "The request body contains "
                                                     "invalid JSON.", "code": 50109}),
                                    "application/json", headers)
        refused = validate_discord(doc)
        if refused:
            return self.finish_with(rec, refused[0], dumps(refused[1]), "application/json", headers)
        wait = parse_qs(url.query).get("wait", ["false"])[-1].lower() in ("true", "1")
        if not wait:
            return self.finish_with(rec, 204, b"", headers=headers)
        message = {
            "id": str(int(time.time() * 1000) << 22),
            "type": 0,
            "content": doc.get("content") or "",
            "channel_id": "100000000000000001",
            "author": {"id": m.group(1), "username": doc.get("username") or "Captain Hook",
                       "avatar": None, "discriminator": "0000", "bot": True},
            "embeds": doc.get("embeds") or [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "mention_everyone": False,
            "tts": False,
            "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "edited_timestamp": None,
            "flags": 0,
            "components": [],
            "webhook_id": m.group(1),
        }
        return self.finish_with(rec, 200, dumps(message), "application/json", headers)

    # -- SendGrid

    def sendgrid(self, rec, method, body):
        if method != "POST":
            return self.finish_with(rec, 405, dumps({"errors": [{
                "message": "method not allowed", "field": None, "help": None}]}))
        auth = self.headers.get("Authorization", "")
        key = self.state.sendgrid_key
        if not key or auth != "Bearer " + key:
            return self.finish_with(rec, 401, dumps(SENDGRID_AUTH_ERROR))
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return self.finish_with(rec, 400, dumps({"errors": [{
                "message": "Content-Type should be application/json.", "field": None,
                "help": None}]}))
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self.finish_with(rec, 400, dumps({"errors": [{
                "message": "Bad Request", "field": None, "help": None}]}))
        errs = validate_sendgrid(doc)
        if errs:
            return self.finish_with(rec, 400, dumps({"errors": errs}))
        return self.finish_with(rec, 202, b"", headers=[("X-Message-Id", uuid.uuid4().hex[:22])])

    # -- control

    def control(self, method, path, body):
        if path == "/_requests" and method == "GET":
            return self.answer_json(200, self.state.snapshot())
        if path == "/_reset" and method == "POST":
            self.state.reset()
            return self.answer_json(200, {"ok": True})
        if path == "/_control" and method == "POST":
            try:
                mode = json.loads(body.decode("utf-8") or "{}")
                mode = check_mode(mode)
            except (ValueError, TypeError, KeyError) as e:
                return self.answer_json(400, {"ok": False, "error": str(e)})
            self.state.set_mode(mode)
            return self.answer_json(200, {"ok": True, "mode": mode})
        return self.answer_json(404, {"ok": False, "error": "unknown control path"})


def check_mode(mode):
    if not isinstance(mode, dict):
        raise ValueError("the control body must be an object")
    kind = mode.get("mode")
    if kind not in ("normal", "status", "ratelimit", "hang", "close"):
        raise ValueError(f"unknown mode {kind!r}")
    out = {"mode": kind}
    if "count" in mode and mode["count"] is not None:
        count = int(mode["count"])
        if count < 0:
            raise ValueError("count must not be negative")
        out["count"] = count
    if kind == "status":
        status = int(mode["status"])
        if not 100 <= status <= 599:
            raise ValueError("status must be 100..599")
        out["status"] = status
    if kind == "ratelimit":
        out["retry_after"] = float(mode.get("retry_after", 1.0))
        where = mode.get("where", "body")
        if where not in ("body", "header", "both"):
            raise ValueError("where must be body, header or both")
        out["where"] = where
    return out


class Server(ThreadingHTTPServer):
    daemon_threads = True       # a hanging request never blocks the exit
    allow_reuse_address = True


def parse_rate(text):
    m = re.match(r"^(\d+)/(\d+(?:\.\d+)?)$", text)
    if not m or int(m.group(1)) < 1 or float(m.group(2)) <= 0:
        raise argparse.ArgumentTypeError("--rate is N/SECONDS, e.g. 5/2")
    return int(m.group(1)), float(m.group(2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--webhook", action="append", default=[], metavar="ID/TOKEN",
                    help="a webhook that exists (repeatable)")
    ap.add_argument("--sendgrid-key", default=None)
    ap.add_argument("--rate", type=parse_rate, default=(5, 2.0), metavar="N/SECONDS",
                    help="requests per window per webhook (default 5/2)")
    ap.add_argument("--watch-stdin", action="store_true",
                    help="exit when stdin closes")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    for w in args.webhook:
        if w.count("/") != 1 or not all(w.split("/")):
            ap.error(f"--webhook {w!r} is not ID/TOKEN")

    server = Server((args.host, args.port), Handler)
    server.state = State(args.webhook, args.sendgrid_key, args.rate[0], args.rate[1],
                         args.verbose)
    stopped = threading.Event()

    def stop(*_):
        if not stopped.is_set():
            stopped.set()
            server.state.stop()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.watch_stdin:
        def watch():
            try:
                while os.read(sys.stdin.fileno(), 4096):
                    pass
            except OSError:
                pass
            stop()
        threading.Thread(target=watch, daemon=True).start()

    port = server.server_address[1]
    print(json.dumps({"event": "listening", "port": port}, separators=(",", ":")), flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    finally:
        server.state.stop()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
