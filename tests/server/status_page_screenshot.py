#!/usr/bin/env python3
"""Makes docs/status-page.png: a lifeline-server with a few stores whose
clients come and go for about a minute and a half, alerts to a fake
Discord (tests/fakes), then the status page's screenshot in headless
chromium. Not a test (it sleeps to let the chart fill); the test is
test_status_page.py.

    LIFELINE_SERVER_BIN=build/src/server/lifeline-server \\
      /usr/bin/python3 tests/server/status_page_screenshot.py docs/status-page.png
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from llserver import Server, wait_until  # noqa: E402
from test_status_page import CHROMEDRIVER, CHROMIUM, FAKES, HOOK_TOKEN, Store  # noqa: E402


def main(out):
    import os
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    work = tempfile.mkdtemp(prefix="lifeline-status-shot-")
    fakes_out = Path(work) / "fakes.out"
    with open(fakes_out, "w") as o:
        fakes = subprocess.Popen([sys.executable, str(FAKES), "--port", "0", "--webhook",
                                  f"7/{HOOK_TOKEN}"], stdout=o, stderr=subprocess.DEVNULL)
    wait_until(lambda: "\n" in fakes_out.read_text(), timeout=10, what="the fakes")
    port = json.loads(fakes_out.read_text().split("\n", 1)[0])["port"]
    os.environ["DISCORD_WEBHOOK_URL"] = f"http://127.0.0.1:{port}/api/webhooks/7/{HOOK_TOKEN}"
    server = Server(work, ["--down-after-ms", "4000"]).start()
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--disable-gpu", "--window-size=1280,1100", "--lang=en-GB",
                f"--user-data-dir={work}/profile"):
        opts.add_argument(arg)
    if os.geteuid() == 0:
        opts.add_argument("--no-sandbox")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    stores = []
    try:
        driver.get(f"http://127.0.0.1:{server.port}/")
        time.sleep(6)  # no clients for --down-after-ms: the monitor says so
        plan = [("shop-7", 4), ("shop-9", 3), ("depot-2", 2), ("shop-12", 2), ("shop-3", 5)]
        for name, n in plan:
            stores.append(Store(server.port, name, [f"till-{i}" for i in range(1, n + 1)]))
            time.sleep(5)
        stores[0].close("till-2")
        time.sleep(6)
        stores[4].kill()  # shop-3 goes away
        time.sleep(10)
        stores.append(Store(server.port, "shop-3", ["till-1", "till-2"]))
        time.sleep(8)
        stores[3].close("till-1")
        time.sleep(8)
        server.fault("delay_pongs", delay_ms=250, duration_ms=600000)
        time.sleep(12)
        driver.save_screenshot(out)
    finally:
        driver.quit()
        for s in stores:
            if s.proc.poll() is None:
                s.kill()
        server.stop()
        fakes.terminate()
        fakes.wait()
        subprocess.run(["rm", "-rf", work], check=False)


if __name__ == "__main__":
    main(sys.argv[1])
