"""lifeline-server's status page, in a real browser: Debian's chromium,
headless, driven by chromedriver through selenium (python3-selenium).

The page is opened, a store's clients connect and drop, the process that
holds them is killed (the store goes away), a fault mode is set, and the
page must show each change without a reload: the connections per store,
the status monitor's state and history, the fault mode, the alert
deliveries (to a fake Discord, tests/fakes) and the chart. The browser's
console must hold no error. The admin parts follow the admin rule.

Without chromium, chromedriver or selenium these tests are skipped, loudly;
with LIFELINE_BROWSER_REQUIRED=1 (scripts/test, as CI runs it) they fail
instead. LIFELINE_STATUS_SCREENSHOT=PATH also saves the page's screenshot
there (docs/status-page.png is made so); otherwise it goes to the test's
temporary folder only.
"""

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llserver import non_loopback_address, wait_until

HERE = Path(__file__).resolve().parent
FAKES = HERE.parent / "fakes" / "fake_services.py"
HOOK_TOKEN = "status-page-hook-9d1f"
CHROMIUM = os.environ.get("LIFELINE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("LIFELINE_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT_S = 15  # the page polls once a second: every change shows within 1-2 s


def _missing():
    """What the browser tests lack, or None."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found: install the Debian package chromium"
    if not Path(CHROMEDRIVER).exists():
        return f"{CHROMEDRIVER} not found: install the Debian package chromium-driver"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium not importable: install the Debian package python3-selenium"
    return None


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    why = _missing()
    if why:
        if os.environ.get("LIFELINE_BROWSER_REQUIRED") == "1":
            pytest.fail(f"BROWSER TESTS CANNOT RUN: {why}", pytrace=False)
        pytest.skip(f"BROWSER TESTS SKIPPED: {why} (LIFELINE_BROWSER_REQUIRED=1 makes this "
                    "a failure)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--disable-gpu", "--window-size=1280,1200",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", "--lang=en-GB",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(arg)
    if os.geteuid() == 0:
        opts.add_argument("--no-sandbox")  # chromium refuses to run as root with it
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    d.set_window_size(1280, 1200)
    yield d
    d.quit()


@pytest.fixture
def fake_discord(workdir, monkeypatch):
    """A fake Discord (tests/fakes), and the server's environment pointed at
    it: the status alerts are delivered there."""
    out = Path(workdir) / "fakes.out"
    with open(out, "w") as o:
        proc = subprocess.Popen([sys.executable, str(FAKES), "--port", "0",
                                 "--webhook", f"7/{HOOK_TOKEN}"],
                                stdout=o, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: "\n" in out.read_text(), timeout=10, what="the fakes to listen")
        port = json.loads(out.read_text().split("\n", 1)[0])["port"]
        monkeypatch.setenv("DISCORD_WEBHOOK_URL",
                           f"http://127.0.0.1:{port}/api/webhooks/7/{HOOK_TOKEN}")
        for name in ("SENDGRID_API_KEY", "ADMIN_EMAIL", "FROM_EMAIL"):
            monkeypatch.delenv(name, raising=False)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Store:
    """A store's clients in a process of their own (store_clients.py)."""

    def __init__(self, port, store, users):
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "store_clients.py"), str(port), store, *users],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.expect("ready")

    def expect(self, event):
        line = self.proc.stdout.readline()
        assert line and json.loads(line)["event"] == event, line

    def close(self, user):
        self.proc.stdin.write(f"close {user}\n")
        self.proc.stdin.flush()
        self.expect("closed")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


@pytest.fixture
def stores():
    made = []

    def start(port, store, *users):
        s = Store(port, store, users)
        made.append(s)
        return s

    yield start
    for s in made:
        if s.proc.poll() is None:
            s.kill()


# What the page shows, read from its DOM.
READ_PAGE = """
const q = (s) => document.querySelector(s);
const all = (s) => [...document.querySelectorAll(s)];
const stores = {};
for (const tr of all('#stores tbody tr'))
  stores[tr.dataset.store] = Number(tr.querySelector('.count').textContent);
return {
  state: document.body.dataset.state,
  active: q('#active').textContent,
  stores: stores,
  no_stores_shown: !q('#no-stores').hidden,
  fault: q('#fault-mode').dataset.mode || null,
  fault_detail: q('#fault-detail').textContent,
  admin: q('#monitor-card').dataset.admin,
  admin_note: q('#admin-card').hidden ? null : q('#admin-note').textContent,
  monitor: q('#monitor').dataset.state,
  monitor_text: q('#monitor-text').textContent,
  history: all('#history li').map((li) => li.dataset.event),
  alerts: all('#alerts tbody tr').map((tr) => [tr.dataset.channel, tr.dataset.kind, tr.dataset.ok]),
  chart_points: Number(q('#chart').dataset.points),
  chart_last: q('#chart').dataset.last,
  chart_max: Number(q('#chart').dataset.max || 0),
};
"""


def page(d):
    return d.execute_script(READ_PAGE)


def wait_page(d, predicate, what):
    """Waits until predicate(what the page shows) holds (a DOM condition,
    polled by WebDriverWait); fails with the page's last state."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait
    seen = {}

    def check(drv):
        seen["page"] = page(drv)
        return predicate(seen["page"])

    try:
        WebDriverWait(d, WAIT_S, poll_frequency=0.05).until(check)
    except TimeoutException:
        raise AssertionError(f"the page never showed {what}; it shows:\n"
                             f"{json.dumps(seen.get('page'), indent=1)}") from None
    return seen["page"]


def console_errors(d, allowed=()):
    """The browser console's SEVERE entries, but those matching one of
    allowed (substrings)."""
    return [e for e in d.get_log("browser")
            if e["level"] == "SEVERE" and not any(a in e["message"] for a in allowed)]


def open_page(d, server, path="/"):
    d.get_log("browser")  # forget the previous test's entries
    # each server has a port of its own, so an origin (and a sessionStorage) of its own
    d.get(f"http://127.0.0.1:{server.port}{path}")
    return wait_page(d, lambda p: p["state"] == "live", "itself live")


def save_screenshot(d, workdir):
    png = Path(workdir) / "status-page.png"
    d.save_screenshot(str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    target = os.environ.get("LIFELINE_STATUS_SCREENSHOT")
    if target:
        shutil.copyfile(png, target)


def test_the_page_follows_stores_the_monitor_faults_and_alerts_live(
        driver, start_server, stores, fake_discord, workdir):
    t0 = time.monotonic()
    server = start_server("--down-after-ms", "1500")
    p = open_page(driver, server)
    assert p["active"] == "0" and p["stores"] == {} and p["no_stores_shown"]
    assert p["admin"] == "ok" and p["admin_note"] is None  # loopback, no --admin-token
    assert p["fault"] == "none"
    # nobody connected for --down-after-ms: the monitor says so, and Discord is told
    p = wait_page(driver, lambda p: p["monitor"] == "no_clients" and "no_clients" in p["history"]
                  and ["discord", "no_clients", "true"] in p["alerts"],
                  "no clients connected, in the history and delivered")
    assert p["history"][-1] == "server_starting"
    assert ["discord", "server_starting", "true"] in p["alerts"]

    # two stores' clients connect
    shop7 = stores(server.port, "shop-7", "till-1", "till-2", "till-3")
    shop9 = stores(server.port, "shop-9", "till-1", "till-2")
    depot2 = stores(server.port, "depot-2", "scanner-1")
    p = wait_page(driver, lambda p: p["stores"] == {"shop-7": 3, "shop-9": 2, "depot-2": 1}
                  and p["active"] == "6" and p["monitor"] == "clients"
                  and p["history"][0] == "clients_back" and p["chart_last"] == "6",
                  "the three stores, clients back and the chart at 6")
    wait_page(driver, lambda p: ["discord", "clients_back", "true"] in p["alerts"],
              "the clients_back alert delivered")

    # one till closes its connection
    shop7.close("till-2")
    wait_page(driver, lambda p: p["stores"].get("shop-7") == 2 and p["active"] == "5"
              and p["chart_last"] == "5", "shop-7 down to 2")

    # a fault mode, shown while it lasts
    server.fault("refuse", duration_ms=60000)
    p = wait_page(driver, lambda p: p["fault"] == "refuse", "fault mode refuse")
    assert p["fault_detail"].startswith("ends in")
    save_screenshot(driver, workdir)  # stores, chart, history, alerts, a fault
    server.fault("none")
    wait_page(driver, lambda p: p["fault"] == "none", "fault mode none again")

    # the store goes away: its process is killed, its connections drop
    shop7.kill()
    p = wait_page(driver, lambda p: "shop-7" not in p["stores"] and p["active"] == "3",
                  "shop-7 gone")
    assert p["stores"] == {"shop-9": 2, "depot-2": 1}
    shop9.kill()
    depot2.kill()
    # no clients at all: the monitor counts --down-after-ms, then says so again
    p = wait_page(driver, lambda p: p["active"] == "0" and p["no_stores_shown"]
                  and p["monitor"] in ("empty", "no_clients"), "no connection left")
    p = wait_page(driver, lambda p: p["monitor"] == "no_clients"
                  and p["history"][:3] == ["no_clients", "clients_back", "no_clients"],
                  "no clients connected a second time")
    assert "No clients since" in p["monitor_text"]
    wait_page(driver, lambda p: [a[1] for a in p["alerts"]].count("no_clients") == 2,
              "the second no_clients alert delivered")

    # a reload draws the chart's past from the server's samples
    driver.refresh()
    p = wait_page(driver, lambda p: p["state"] == "live" and p["chart_points"] > 3,
                  "the chart's past after a reload")
    assert p["chart_max"] == 6
    assert console_errors(driver) == []
    print(f"browser test: {time.monotonic() - t0:.1f} s")


def test_admin_parts_need_the_token_and_say_so(driver, start_server):
    server = start_server("--admin-token", "s3cr3t-page")
    p = open_page(driver, server)
    # the public parts are there; the admin parts say admin only
    p = wait_page(driver, lambda p: p["admin"] == "token" and p["admin_note"], "admin only")
    assert "admin token" in p["admin_note"]
    assert p["active"] == "0" and p["fault"] == "none"
    assert p["history"] == [] and p["alerts"] == []
    # a wrong token is refused
    from selenium.webdriver.common.by import By
    box = driver.find_element(By.ID, "token")
    box.send_keys("wrong")
    driver.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
    p = wait_page(driver, lambda p: p["admin"] == "denied", "the token refused")
    assert "refused" in p["admin_note"]
    # the right one opens the admin parts
    box.clear()
    box.send_keys("s3cr3t-page")
    driver.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
    p = wait_page(driver, lambda p: p["admin"] == "ok" and p["monitor"] in ("empty", "no_clients")
                  and p["history"] == ["server_starting"], "the admin parts")
    assert p["admin_note"] is None
    # the console has the admin route's refusals (401, 403) and nothing else
    assert console_errors(driver, allowed=("/api/v1/admin/status",)) == []


def http_get(host, port, path, headers=None):
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_the_page_is_served_with_its_types_policy_and_validators(server):
    status, h, body = http_get("127.0.0.1", server.port, "/")
    assert status == 200 and h["content-type"] == "text/html; charset=utf-8"
    assert b'<script src="/status/status.js" defer></script>' in body
    csp = h["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "connect-src 'self'" in csp and "unsafe" not in csp
    assert h["x-content-type-options"] == "nosniff" and h["cache-control"] == "no-cache"
    assert http_get("127.0.0.1", server.port, "/status")[2] == body
    for path, ctype in (("/status/status.js", "text/javascript; charset=utf-8"),
                        ("/status/status.css", "text/css; charset=utf-8"),
                        ("/status/favicon.svg", "image/svg+xml")):
        status, h, body = http_get("127.0.0.1", server.port, path)
        assert status == 200 and h["content-type"] == ctype and len(body) == int(
            h["content-length"])
        # a copy that is current: 304, without a body
        status, h2, body2 = http_get("127.0.0.1", server.port, path,
                                     {"If-None-Match": h["etag"]})
        assert status == 304 and body2 == b"" and h2["etag"] == h["etag"]
        assert "content-length" not in h2
    status, h, body = http_get("127.0.0.1", server.port, "/status/embed.py")
    assert status == 404 and h["content-type"] == "application/json"
    # the chart's past: public
    status, _, body = http_get("127.0.0.1", server.port, "/api/v1/websockets/history")
    doc = json.loads(body)
    assert status == 200 and doc["interval_ms"] == 1000 and isinstance(doc["samples"], list)


def test_admin_status_is_refused_without_loopback_or_the_token(start_server):
    server = start_server("--admin-token", "tok-1")
    status, h, body = http_get("127.0.0.1", server.port, "/api/v1/admin/status")
    assert status == 401 and h["www-authenticate"] == 'Bearer realm="lifeline-admin"'
    assert set(json.loads(body)) == {"error"}
    status, _, body = http_get("127.0.0.1", server.port, "/api/v1/admin/status",
                               {"Authorization": "Bearer nope"})
    assert status == 403 and set(json.loads(body)) == {"error"}
    status, _, body = http_get("127.0.0.1", server.port, "/api/v1/admin/status",
                               {"Authorization": "Bearer tok-1"})
    doc = json.loads(body)
    assert status == 200 and {"monitor", "history", "fault", "alerts"} <= set(doc)

    addr = non_loopback_address()
    if addr is None:
        pytest.skip("this host has no non-loopback address")
    server = start_server("--host", "0.0.0.0")
    assert http_get("127.0.0.1", server.port, "/api/v1/admin/status")[0] == 200
    status, _, body = http_get(addr, server.port, "/api/v1/admin/status")
    assert status == 403 and set(json.loads(body)) == {"error"}
    # the page itself and its public data are served to anyone
    assert http_get(addr, server.port, "/")[0] == 200
    assert http_get(addr, server.port, "/api/v1/websockets/history")[0] == 200
