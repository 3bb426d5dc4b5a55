"""Real parts for the cluster suites: a redis-server, lifeline-server
instances joined through it, HAProxy in front of them (the configuration
shipped in docs/haproxy/lifeline.cfg, its ports changed), and lifeline-cli
clients. Everything listens on loopback, on free ports, in a temporary
folder. A missing redis-server or haproxy is a failure that says which
package to install (scripts/deps installs both), never a skip."""

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HAPROXY_CFG = ROOT / "docs" / "haproxy" / "lifeline.cfg"


def _bin(env, default):
    given = os.environ.get(env)
    path = Path(given) if given else ROOT / default
    if not path.is_absolute():
        path = Path.cwd() / path
    if not path.exists():
        raise RuntimeError(f"{path} is missing: build lifeline first, or set {env}")
    return path


SERVER = _bin("LIFELINE_SERVER_BIN", "build/src/server/lifeline-server")
CLI = _bin("LIFELINE_CLI_BIN", "build/examples/lifeline-cli")


def need(program, package):
    path = shutil.which(program) or (f"/usr/sbin/{program}" if os.path.exists(
        f"/usr/sbin/{program}") else None)
    if not path:
        raise RuntimeError(f"{program} is not installed: the cluster suite needs the Debian "
                           f"package {package} (scripts/deps installs it)")
    return path


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(pred, timeout, what, every=0.05):
    """pred's first true value within timeout seconds, or AssertionError
    naming what (with pred's last value)."""
    end = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() > end:
            raise AssertionError(f"not within {timeout} s: {what} (last: {last!r})")
        time.sleep(every)


def http_json(port, path, timeout=5):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return json.loads(r.read())


def post_json(port, path, body, timeout=5):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


class Redis:
    """redis-server on a port, in memory only; restart() keeps the port."""

    def __init__(self, workdir):
        self.exe = need("redis-server", "redis-server")
        self.dir = workdir
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=open(os.path.join(self.dir, "redis.log"), "a"), stderr=subprocess.STDOUT)
        wait_until(self._answers, 10, "redis-server answers PING")
        return self

    def _answers(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"redis-server exited ({self.proc.returncode}); see "
                               f"{self.dir}/redis.log")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"


class Instance:
    """A lifeline-server joined to Redis as `name`."""

    def __init__(self, workdir, name, redis_url, port=0, extra=()):
        self.name = name
        self.dir = workdir
        self.args = [str(SERVER), "--port", str(port), "--db",
                     os.path.join(workdir, f"{name}.db"), "--redis", redis_url,
                     "--instance", name, "--ping-interval-ms", "1000",
                     "--ping-timeout-ms", "2000", *extra]
        self.proc = None
        self.port = None
        self.killed = False  # the test's kill9() ended its last process

    def start(self):
        self.killed = False
        self.log = open(os.path.join(self.dir, f"{self.name}.log"), "a")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} did not start: {self.log_text()}")
        self.port = json.loads(line)["port"]
        return self

    def log_text(self):
        self.log.flush()
        return Path(self.dir, f"{self.name}.log").read_text()

    def health(self):
        return http_json(self.port, "/api/v1/websockets/health")

    def stats(self):
        return http_json(self.port, "/api/v1/websockets/stats")

    def cluster(self):
        return self.stats()["cluster"]

    def kill9(self):
        self.killed = True
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        """SIGTERM; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class HAProxy:
    """haproxy with docs/haproxy/lifeline.cfg, its bind and server ports
    replaced by ours."""

    def __init__(self, workdir, backends):
        self.exe = need("haproxy", "haproxy")
        self.port = free_port()
        cfg = HAPROXY_CFG.read_text()
        cfg = re.sub(r"bind 127\.0\.0\.1:\d+", f"bind 127.0.0.1:{self.port}", cfg)
        servers = iter(backends)
        cfg = re.sub(r"(server \S+ 127\.0\.0\.1:)\d+",
                     lambda m: m.group(1) + str(next(servers)), cfg)
        if next(servers, None) is not None:
            raise ValueError("more backends than the configuration's servers")
        self.cfg = os.path.join(workdir, "haproxy.cfg")
        Path(self.cfg).write_text(cfg)
        self.log = open(os.path.join(workdir, "haproxy.log"), "a")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([self.exe, "-db", "-f", self.cfg], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_until(self._listens, 10, "haproxy listens")
        return self

    def _listens(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"haproxy exited ({self.proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Client:
    """lifeline-cli --json: a real lifeline client, its events read on a
    thread; messages() are the texts it received, in order."""

    def __init__(self, workdir, url, name, *args):
        self.name = name
        self.err = open(os.path.join(workdir, f"{name}.err"), "w")
        self.proc = subprocess.Popen([str(CLI), "--json", *args, url], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.err, text=True,
                                     bufsize=1)
        self.events = []
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                ev = {"event": "not-json", "line": line}
            with self.lock:
                self.events.append(ev)
                self.changed.notify_all()

    def state(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"lifeline-cli {self.name} exited {self.proc.returncode}: "
                                 f"{open(self.err.name).read()[-500:]}")
        with self.lock:
            states = [e["state"] for e in self.events if e.get("event") == "state"]
        return states[-1] if states else None

    def connects(self):
        with self.lock:
            return sum(1 for e in self.events
                       if e.get("event") == "state" and e["state"] == "connected")

    def messages(self):
        with self.lock:
            return [e.get("text") for e in self.events if e.get("event") == "message"]

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(15)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
