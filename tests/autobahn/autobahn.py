#!/usr/bin/env python3
"""RFC 6455 conformance of both sides, proven with the Autobahn TestSuite.

    autobahn.py install                 the suite under a Python 2.7 (pinned)
    autobahn.py server  SERVER_BIN      lifeline-server under `wstest -m fuzzingclient`
    autobahn.py client  CLIENT_BIN      our echo client under `wstest -m fuzzingserver`

`server` and `client` install the suite first when it is missing, print the
result of every category (1.*, 2.*, ...) and each case that is not OK, and
exit non-zero when any case FAILED (or was not run), except the cases listed
in ALLOWED_FAILURES for that side, with the reason why. NON-STRICT and UNIMPLEMENTED are
printed too: NON-STRICT is allowed, but listed so it can be driven down.

The suite is Python 2 code (PyPI's autobahntestsuite 25.10.1): it runs under a
Python 2.7 found as $LIFELINE_PYTHON2, `python2.7` on PATH, or in pyenv's
versions; it is installed with `pip --target` into a folder keyed by the pins
($LIFELINE_AUTOBAHN_HOME, default ~/.cache/lifeline/autobahn-<hash>). Missing
Python 2.7 is an error, never a silent skip.

Cases 1-7, 9 and 10 run; 12 and 13 (permessage-deflate) do not: lifeline
refuses compression on libwebsockets 4.1 (README, "Known limits").
"""

import argparse
import collections
import glob
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PINS = HERE / "requirements-py27.txt"
CASES = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*"]

# Cases that may fail, and why. Nothing else may.
# Cases each side may fail, and why. Nothing else may: lifeline-server
# answers every ping itself (src/server/tap.c) and passes them all.
ALLOWED_FAILURES = {
    "lifeline-server": {},
    "lifeline": {
        "2.10": "libwebsockets 4.1 answers only the first of several pings "
                "that arrive before its pong is written, and drops the others "
                "(client-parser-ws.c: 'DROP PING since one pending'); a library "
                "cannot read its sockets before libwebsockets as the server does",
        "2.11": "as 2.10, with the pings sent in slow motion (passes or not "
                "with the timing)",
    },
}


def python2():
    given = os.environ.get("LIFELINE_PYTHON2")
    if given:
        return given
    found = shutil.which("python2.7")
    if found and subprocess.run([found, "-c", "import sys; assert sys.version_info[:2] == (2, 7)"],
                                capture_output=True).returncode == 0:
        return found
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    for cand in sorted(glob.glob(os.path.join(root, "versions", "2.7.*", "bin", "python2.7")),
                       reverse=True):
        return cand
    sys.exit("autobahn: no Python 2.7 found (the Autobahn TestSuite needs it): "
             "install one (pyenv install 2.7.18) or set LIFELINE_PYTHON2")


def home():
    given = os.environ.get("LIFELINE_AUTOBAHN_HOME")
    if given:
        return Path(given)
    digest = hashlib.sha256(PINS.read_bytes()).hexdigest()[:12]
    cache = os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
    return Path(cache) / "lifeline" / f"autobahn-{digest}"


def install():
    site = home()
    if (site / ".complete").exists():
        return site
    py = python2()
    print(f"autobahn: installing the pinned suite into {site} with {py}", flush=True)
    tmp = Path(str(site) + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    cmd = [py, "-m", "pip", "install", "--disable-pip-version-check", "--no-warn-conflicts",
           "-q", "--target", str(tmp), "-r", str(PINS)]
    if subprocess.run(cmd, env=dict(os.environ, PYTHONWARNINGS="ignore")).returncode != 0:
        sys.exit("autobahn: pip could not install the suite (see above)")
    (tmp / ".complete").write_text(PINS.read_text())
    shutil.rmtree(site, ignore_errors=True)
    tmp.rename(site)
    return site


def wstest(site, args, **kw):
    """Starts wstest. zope.interface is a namespace package whose .pth file is
    read only from a site directory: addsitedir() reads it."""
    code = ("import site, sys; site.addsitedir(%r); sys.argv = ['wstest'] + sys.argv[1:]; "
            "from autobahntestsuite.wstest import run; run()" % str(site))
    return subprocess.Popen([python2(), "-c", code] + args, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"autobahn: wstest exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"autobahn: nothing listens on port {port} after {timeout} s")


def report(index_path, agent):
    """Prints the table; returns the number of cases that count as failed."""
    data = json.loads(Path(index_path).read_text())
    cases = data.get(agent)
    if not cases:
        print(f"autobahn: no results for agent {agent!r} in {index_path}")
        return 1
    order = lambda c: [int(x) for x in c.split(".")]
    per_cat = collections.defaultdict(collections.Counter)
    problems = []
    failed = 0
    allowed_here = ALLOWED_FAILURES.get(agent, {})
    for case in sorted(cases, key=order):
        r = cases[case]
        beh, close = r["behavior"], r["behaviorClose"]
        per_cat[case.split(".")[0]][beh] += 1
        bad_close = close not in ("OK", "INFORMATIONAL")
        if beh in ("OK", "INFORMATIONAL") and not bad_close:
            continue
        is_failure = beh not in ("OK", "INFORMATIONAL", "NON-STRICT", "UNIMPLEMENTED") or bad_close
        allowed = allowed_here.get(case)
        tag = "allowed" if (is_failure and allowed) else ("FAILED" if is_failure else beh)
        problems.append(f"  {case:8} {beh:13} close={close:14} {tag}"
                        + (f": {allowed}" if is_failure and allowed else ""))
        if is_failure and not allowed:
            failed += 1
    behaviours = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]
    print(f"{'category':>9} " + " ".join(f"{b:>13}" for b in behaviours))
    for cat in sorted(per_cat, key=int):
        c = per_cat[cat]
        print(f"{cat:>9} " + " ".join(f"{c.get(b, 0):>13}" for b in behaviours))
    total = collections.Counter()
    for c in per_cat.values():
        total.update(c)
    print(f"{'all':>9} " + " ".join(f"{total.get(b, 0):>13}" for b in behaviours))
    if problems:
        print("cases not OK:")
        print("\n".join(problems))
    print(f"autobahn: {agent}: {len(cases)} cases, {failed} failed"
          + (" (allowed failures, if any, listed above)" if problems else ""))
    return failed


def run_server(args):
    site = install()
    work = Path(tempfile.mkdtemp(prefix="autobahn-server-"))
    try:
        srv_log = open(work / "server.log", "wb")
        # Autobahn's 9.* cases send messages of up to 16 MiB
        server = subprocess.Popen([args.server_bin, "--port", "0", "--db", str(work / "db.sqlite"),
                                   "--max-message-bytes", str(16 * 1024 * 1024 + 1024)],
                                  stdout=subprocess.PIPE, stderr=srv_log, cwd=work)
        line = server.stdout.readline().decode()
        try:
            port = json.loads(line)["port"]
        except (ValueError, KeyError):
            sys.exit(f"autobahn: lifeline-server printed {line!r}, not its port")
        spec = {"outdir": str(work / "reports"),
                "servers": [{"agent": "lifeline-server",
                             "url": f"ws://127.0.0.1:{port}/ws?store=autobahn&user=autobahn"}],
                "cases": CASES, "exclude-cases": [], "exclude-agent-cases": {}}
        (work / "spec.json").write_text(json.dumps(spec))
        with open(work / "wstest.log", "wb") as log:
            proc = wstest(site, ["-m", "fuzzingclient", "-s", str(work / "spec.json")],
                          stdout=log, stderr=subprocess.STDOUT, cwd=work)
            try:
                rc = proc.wait(timeout=args.timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                print((work / "wstest.log").read_text(errors="replace")[-3000:])
                sys.exit(f"autobahn: the fuzzing client did not finish in {args.timeout} s")
        alive = server.poll() is None
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            alive = False
            print("autobahn: lifeline-server did not stop within 10 s of SIGTERM")
        index = work / "reports" / "index.json"
        if rc != 0 or not index.exists():
            print((work / "wstest.log").read_text(errors="replace")[-3000:])
            sys.exit(f"autobahn: wstest exited with {rc} and wrote no report")
        failed = report(index, "lifeline-server")
        if not alive:
            print("autobahn: lifeline-server died during the run:")
            print((work / "server.log").read_text(errors="replace")[-3000:])
            failed += 1
        if args.keep:
            print(f"autobahn: reports kept in {work / 'reports'}")
        return 1 if failed else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def run_client(args):
    site = install()
    work = Path(tempfile.mkdtemp(prefix="autobahn-client-"))
    try:
        port = free_port()
        url = f"ws://127.0.0.1:{port}"
        spec = {"url": url, "outdir": str(work / "reports"),
                "cases": CASES, "exclude-cases": [], "exclude-agent-cases": {}}
        (work / "spec.json").write_text(json.dumps(spec))
        log = open(work / "wstest.log", "wb")
        proc = wstest(site, ["-m", "fuzzingserver", "-s", str(work / "spec.json")],
                      stdout=log, stderr=subprocess.STDOUT, cwd=work)
        try:
            wait_port(port, proc)
            try:
                rc = subprocess.run([args.client_bin, url, "lifeline"],
                                    timeout=args.timeout).returncode
            except subprocess.TimeoutExpired:
                sys.exit(f"autobahn: the echo client did not finish in {args.timeout} s")
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
        index = work / "reports" / "index.json"
        if not index.exists():
            print((work / "wstest.log").read_text(errors="replace")[-3000:])
            sys.exit("autobahn: the fuzzing server wrote no report")
        failed = report(index, "lifeline")
        if rc != 0:
            print(f"autobahn: the echo client exited with {rc}")
            failed += 1
        if args.keep:
            print(f"autobahn: reports kept in {work / 'reports'}")
        return 1 if failed else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("install")
    s = sub.add_parser("server")
    s.add_argument("server_bin")
    c = sub.add_parser("client")
    c.add_argument("client_bin")
    for p in (s, c):
        p.add_argument("--timeout", type=float, default=900.0, help="seconds for the whole run")
        p.add_argument("--keep", action="store_true", help="keep the reports")
    args = ap.parse_args()
    for name in ("server_bin", "client_bin"):  # run from a temporary folder
        if getattr(args, name, None):
            setattr(args, name, os.path.abspath(getattr(args, name)))
    if args.cmd == "install":
        print(install())
        return 0
    return run_server(args) if args.cmd == "server" else run_client(args)


if __name__ == "__main__":
    sys.exit(main())
