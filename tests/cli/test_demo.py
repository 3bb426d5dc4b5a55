"""scripts/demo as a user runs it, on the build the other tests use
(LIFELINE_DEMO_BUILD, from LIFELINE_CLI_BIN): the whole loop in its time
budget, the down and the recovered alert delivered to the fake Discord and
shown as Discord would show them, the webhook's token printed nowhere, and
no process left behind."""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_cli import CLI, ROOT, SERVER  # noqa: E402

DEMO = ROOT / "scripts" / "demo"
BUILD = CLI.parent.parent  # <build>/examples/lifeline-cli
TOKEN = "demo-webhook-token"  # scripts/demo's


def session_members(sid):
    """The processes still in session sid (the demo's, and its children's)."""
    members = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        # after "pid (comm) ": state ppid pgrp session ...
        if int(stat.rsplit(")", 1)[1].split()[3]) == sid:
            members.append(int(d.name))
    return members


def test_the_demo_shows_the_down_and_the_recovered_alert_as_discord_would():
    if SERVER.parent.parent.parent != BUILD:
        pytest.skip("lifeline-cli and lifeline-server are not in one build folder")
    proc = subprocess.Popen([str(DEMO)], env={**os.environ, "LIFELINE_DEMO_BUILD": str(BUILD)},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    try:
        assert proc.returncode == 0, out[-4000:]
        # the CLI's own lines: both alerts delivered to the fake
        assert re.search(r"alert down by discord: delivered \(HTTP 204", out), out[-4000:]
        assert re.search(r"alert recovered by discord: delivered \(HTTP 204", out), out[-4000:]
        # then what the webhook received, as Discord would show it
        shown = out[out.index("== what the Discord webhook received =="):]
        down, up = shown.split("Discord would show")[1:]
        assert "[red] Server down:" in down
        assert all(f in down for f in ("Attempts: 3", "Store: demo", "Till: 1", "Server: ws://"))
        assert "[green] Server recovered:" in up
        assert all(f in up for f in ("Downtime: ", "Store: demo", "Till: 1"))
        assert "(2 messages to the webhook)" in shown
        assert TOKEN not in out
        # in its time budget ("well under a minute", after the build)
        took = int(re.search(r"demo done in (\d+) s", out).group(1))
        assert took < 40
    finally:
        # no process left behind: the session empties once the demo is gone
        deadline = time.monotonic() + 5
        while session_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = session_members(proc.pid)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, f"processes left behind: {left}"
