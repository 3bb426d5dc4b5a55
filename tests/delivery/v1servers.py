"""The servers under test, as processes: the Node reference
(examples/node-reference/server.js) and lifeline-server, each started with
--port 0 in a temporary folder; the port comes from its first stdout line,
{"event":"listening","port":N}. (Not in conftest.py, so that tests can
import it by a name no other suite uses.)"""

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE = os.environ.get("LIFELINE_NODE", "node")
NODE_SERVER = ROOT / "examples/node-reference/server.js"


def _server_bin():
    """LIFELINE_SERVER_BIN (relative: from the current folder, else from the
    repository), or build/src/server/lifeline-server; always absolute."""
    given = os.environ.get("LIFELINE_SERVER_BIN")
    if not given:
        return str(ROOT / "build/src/server/lifeline-server")
    path = Path(given)
    if not path.is_absolute() and not path.exists() and (ROOT / path).exists():
        path = ROOT / path
    return str(path.resolve())


SERVER_BIN = _server_bin()


def node_env():
    """Debian's node-ws lives in /usr/share/nodejs, which a node that is not
    Debian's own (NodeSource's, say) does not search without NODE_PATH."""
    env = dict(os.environ)
    env["NODE_PATH"] = os.pathsep.join(filter(None, [env.get("NODE_PATH"), "/usr/share/nodejs"]))
    return env


class ServerProcess:
    """A server started with --port 0 in a temporary folder."""

    def __init__(self, name, args, env=None):
        self.name, self.args, self.env = name, list(args), env
        self.proc = self.port = None

    def start(self, timeout=10.0):
        self.dir = tempfile.mkdtemp(prefix="lifeline-delivery-")
        self.stderr_path = Path(self.dir) / "stderr.log"
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=err,
                                         cwd=self.dir, env=self.env)
        try:
            line = self._first_line(timeout)
            event = json.loads(line)
            assert event.get("event") == "listening" and event["port"] > 0, line
        except BaseException:
            self.stop()  # leave no process behind
            raise
        self.port = event["port"]
        return self

    def _first_line(self, timeout):
        deadline, buf, fd = time.monotonic() + timeout, b"", self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name} printed no listening line:\n{self.log()}")
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise AssertionError(f"{self.name} exited early:\n{self.log()}")
                buf += chunk
        return buf.split(b"\n", 1)[0].decode()

    def url(self, tag="conformance"):
        """lifeline-server wants a store and a user; the Node server takes
        any path. A store per session keeps lifeline-server's join and
        leave notices of other tests' sessions out of this one's stream."""
        return f"ws://127.0.0.1:{self.port}/ws?store={tag}&user=conformance"

    def log(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout=10.0):
        """SIGTERM, wait; returns the exit status. Removes the folder."""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
                    raise AssertionError(f"{self.name} did not stop in time:\n{self.log()}")
            return self.proc.returncode
        finally:
            self.proc.stdout.close()
            self.last_log = self.log()
            shutil.rmtree(self.dir, ignore_errors=True)


def node_server(*options):
    return ServerProcess("node", [NODE, str(NODE_SERVER), "--port", "0", *options],
                         env=node_env())


def lifeline_server(*options):
    return ServerProcess("lifeline-server",
                         [SERVER_BIN, "--port", "0", "--db", "lifeline.db", *options])
