"""What every scenario shares: the programs' paths, starting and stopping
processes pinned to a core, reading /proc, percentiles, the admin API."""
import http.client
import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(BENCH)
BUILD = os.environ.get("BENCH_BUILD", os.path.join(ROOT, "build-bench"))
BIN = os.path.join(BUILD, "bench")
RESULTS = os.path.join(BENCH, "results")
TMP = os.path.join(RESULTS, "tmp")
SERVER = os.path.join(BUILD, "src", "server", "lifeline-server")
NODE = "/usr/bin/node"
PYTHON = "/usr/bin/python3"
NODE_ENV = dict(os.environ, NODE_PATH="/usr/share/nodejs")

NCPU = os.cpu_count() or 1
# the server on one core, the clients on another (when there are two)
SERVER_CPU = "0"
CLIENT_CPU = "1" if NCPU > 1 else "0"

_procs = []


def free_port():
    """A TCP port free on loopback now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pinned(cpu, cmd):
    return ["taskset", "-c", cpu] + cmd


def spawn(cmd, cpu=None, env=None, stdin=subprocess.PIPE, stderr=None):
    """Start a process (pinned when cpu is given) with line-buffered pipes;
    every process is remembered and killed by kill_all()."""
    p = subprocess.Popen(pinned(cpu, cmd) if cpu is not None else cmd, stdin=stdin,
                         stdout=subprocess.PIPE, stderr=stderr, env=env, text=True, bufsize=1)
    _procs.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=10):
    if p is None or p.poll() is not None:
        return
    try:
        p.send_signal(sig)
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def kill_all():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass


class Lines:
    """Reads a process's stdout on a thread: each line (JSON when it
    parses) with the monotonic time it arrived."""

    def __init__(self, p):
        self.p = p
        self.q = queue.Queue()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        for line in self.p.stdout:
            line = line.strip()
            try:
                obj = json.loads(line)
            except ValueError:
                obj = {"text": line}
            self.q.put((time.monotonic(), obj))
        self.q.put((time.monotonic(), None))

    def next(self, timeout):
        """(time, obj) or raises TimeoutError; obj is None at end of output."""
        try:
            return self.q.get(timeout=max(timeout, 0))
        except queue.Empty:
            raise TimeoutError("no output in time") from None

    def wait_for(self, pred, timeout):
        end = time.monotonic() + timeout
        while True:
            t, obj = self.next(end - time.monotonic())
            if obj is None:
                raise RuntimeError("process ended while waiting")
            if pred(obj):
                return t, obj


def start_server(kind="lifeline", port=0, cpu=None, extra=(), db=None):
    """lifeline-server, the Node ws broadcast server or the C echo server;
    returns (process, port, lines)."""
    cpu = SERVER_CPU if cpu is None else cpu
    if kind == "lifeline":
        db = db or os.path.join(TMP, "server.db")
        # warn: no line per connection, so figures compare with earlier runs
        cmd = [SERVER, "--port", str(port), "--host", "127.0.0.1", "--db", db,
               "--log-level", "warn"] + list(extra)
        p = spawn(cmd, cpu, stderr=open(os.path.join(TMP, "server.log"), "a"))
    elif kind == "node":
        cmd = [NODE, os.path.join(BENCH, "servers", "ws_broadcast.js"), "--port", str(port)]
        p = spawn(cmd + list(extra), cpu, env=NODE_ENV,
                  stderr=open(os.path.join(TMP, "node-server.log"), "a"))
    elif kind == "lws_echo":
        p = spawn([os.path.join(BIN, "lws_echo"), "--port", str(port)], cpu)
    else:
        raise ValueError(kind)
    lines = Lines(p)
    _, obj = lines.wait_for(lambda o: o.get("event") == "listening", 10)
    return p, obj["port"], lines


def run_json(cmd, cpu=None, env=None, timeout=120):
    """Run a program to the end; its last JSON line."""
    r = subprocess.run(pinned(cpu, cmd) if cpu else cmd, capture_output=True, text=True,
                       env=env, timeout=timeout, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({r.returncode}): {r.stderr.strip()[-500:]}")
    for line in reversed(r.stdout.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    raise RuntimeError(f"{cmd[0]} printed no JSON")


def proc_snapshot(pid):
    """Context switches of every thread, CPU seconds and RSS of a process."""
    vol = invol = 0
    task_dir = f"/proc/{pid}/task"
    for tid in os.listdir(task_dir):
        try:
            with open(f"{task_dir}/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        vol += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches"):
                        invol += int(line.split()[1])
        except FileNotFoundError:
            pass
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / tck
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                rss = int(line.split()[1])
    return {"t": time.monotonic(), "vol": vol, "invol": invol, "cpu_s": cpu, "rss_kib": rss,
            "threads": len(os.listdir(task_dir))}


def real_pid(p):
    """The pid under taskset (taskset execs, so it is the same pid)."""
    return p.pid


def percentile(sorted_vals, q):
    if not sorted_vals:
        return None
    i = min(len(sorted_vals) - 1, max(0, int(round(q * (len(sorted_vals) - 1)))))
    return sorted_vals[i]


def fault(port, mode):
    """POST /api/v1/admin/fault from loopback."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("POST", "/api/v1/admin/fault", body=json.dumps({"mode": mode}),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status // 100 != 2:
        raise RuntimeError(f"fault {mode}: HTTP {r.status} {body[:200]!r}")


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def log(*args):
    print("[bench]", *args, flush=True)
