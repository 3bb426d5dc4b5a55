#!/usr/bin/python3
"""Checks dist/systemd: the unit passes `systemd-analyze verify` (run on a
copy whose ExecStart is the built server, since verify wants the binary to
exist), keeps the settings docs/server.md promises, scores as well on
`systemd-analyze security --offline` as it does now, and the environment
file sets nothing but LIFELINE_SERVER_ARGS. Fails loudly without
systemd-analyze (the package systemd).

    check_systemd_unit.py UNIT DEFAULTS SERVER_BINARY
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

# the exposure level `systemd-analyze security` gives the unit (0 best, 10
# worst): 1.4 on systemd 252; a change that weakens it fails here
MAX_EXPOSURE = 2.0
DRAIN_DEFAULT_S = 10   # --drain-window-ms's default
STOP_GRACE_S = 10      # SRV_STOP_GRACE_MS: the watchdog's bound is their sum

REQUIRED = [
    "Type=notify", "KillSignal=SIGTERM", "DynamicUser=yes",
    "StateDirectory=lifeline-server", "EnvironmentFile=-/etc/default/lifeline-server",
    "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
    "PrivateDevices=yes", "ProtectKernelTunables=yes", "ProtectKernelModules=yes",
    "ProtectControlGroups=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "RestrictNamespaces=yes", "LockPersonality=yes", "MemoryDenyWriteExecute=yes",
    "RestrictRealtime=yes", "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service", "CapabilityBoundingSet=",
]

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def settings(text):
    return [l.strip() for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]


def verify(path):
    """systemd-analyze verify's complaints about the unit at path ('' when none)."""
    r = subprocess.run([ANALYZE, "verify", "--man=no", path], capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    return out if r.returncode or out else ""


def main(unit, defaults, server):
    text = open(unit).read()
    lines = settings(text)
    execs = [l for l in lines if l.startswith("ExecStart=")]
    if len(execs) != 1:
        fail(f"one ExecStart= expected, found {execs}")
        return
    binary = execs[0].split("=", 1)[1].split()[0]
    if not execs[0].split()[1:3] == ["--db", "/var/lib/lifeline-server/lifeline-server.db"]:
        fail(f"the database is not in the state directory: {execs[0]}")
    for want in REQUIRED:
        if want not in lines:
            fail(f"missing {want}")
    stop = [l for l in lines if l.startswith("TimeoutStopSec=")]
    m = re.fullmatch(r"TimeoutStopSec=(\d+)s?", stop[0]) if stop else None
    if not m or int(m.group(1)) <= DRAIN_DEFAULT_S + STOP_GRACE_S:
        fail(f"TimeoutStopSec must be above {DRAIN_DEFAULT_S + STOP_GRACE_S}s: {stop}")

    with tempfile.TemporaryDirectory(prefix="lifeline-unit-") as d:
        copy = os.path.join(d, "lifeline-server.service")
        with open(copy, "w") as f:
            f.write(text.replace(binary, os.path.abspath(server)))
        complaints = verify(copy)
        if complaints:
            fail("systemd-analyze verify:\n" + complaints)
        # the check itself can fail: a misspelt key is reported
        with open(copy, "a") as f:
            f.write("\n[Service]\nProtectSytem=strict\n")
        if "ProtectSytem" not in verify(copy):
            fail("systemd-analyze verify did not report a misspelt key")
        with open(copy, "w") as f:
            f.write(text.replace(binary, os.path.abspath(server)))
        r = subprocess.run([ANALYZE, "security", "--offline=true", "--no-pager", copy],
                           capture_output=True, text=True)
        level = re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout)
        print("exposure level:", level.group(1) if level else "?")
        if r.returncode or not level or float(level.group(1)) > MAX_EXPOSURE:
            fail(f"systemd-analyze security: exposure above {MAX_EXPOSURE}:\n{r.stdout}{r.stderr}")

    env = settings(open(defaults).read())
    names = [l.split("=", 1)[0] for l in env]
    if names != ["LIFELINE_SERVER_ARGS"] or not all("=" in l for l in env):
        fail(f"{defaults} should set LIFELINE_SERVER_ARGS alone, sets {names}")
    for var in ("DISCORD_WEBHOOK_URL", "SENDGRID_API_KEY", "ADMIN_EMAIL", "FROM_EMAIL"):
        if f"#{var}=" not in open(defaults).read():
            fail(f"{defaults} should show {var}, commented out")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    ANALYZE = shutil.which("systemd-analyze")
    if not ANALYZE:
        sys.exit("FAIL: systemd-analyze is not installed (Debian: apt-get install systemd); "
                 "the unit in dist/systemd cannot be checked")
    main(*sys.argv[1:])
    sys.exit(1 if failures else 0)
