"""Fixtures for the cluster suites: a real redis-server, lifeline-server
instances joined through it, HAProxy (cluster.py). Each test has its own
temporary folder; every process is stopped at its end."""

import shutil
import signal
import sys
import tempfile

import pytest

sys.dont_write_bytecode = True

from cluster import HAProxy, Instance, Redis

# what ASan, LSan and UBSan write on stderr (the instances' logs) when an
# instance is built with -Db_sanitize=address,undefined; UBSan goes on after
# its report, so the log is read even when the exit status is 0
SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="lifeline-cluster-test-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def redis(workdir):
    r = Redis(workdir).start()
    yield r
    r.kill()


@pytest.fixture
def instances(workdir, redis):
    """instances(n, **kw) -> n started Instances named i1..in."""
    started = []

    def make(n, ports=None, extra=()):
        for i in range(n):
            inst = Instance(workdir, f"i{len(started) + 1}", redis.url,
                            port=ports[i] if ports else 0, extra=extra)
            started.append(inst.start())
        return started[-n:]

    yield make
    bad = []
    for inst in started:
        # an instance that died by itself (a sanitizer's abort, a crash)
        # fails the test as one that stops badly does; kill9() is the test's
        rc = inst.stop() if inst.proc.poll() is None else inst.proc.returncode
        if rc != 0 and not (inst.killed and rc == -signal.SIGKILL):
            bad.append(f"{inst.name} exited {rc}: {inst.log_text()[-2000:]}")
            continue
        log = inst.log_text()
        found = [m for m in SANITIZER_REPORTS if m in log]
        if found:
            at = log.index(found[0])
            bad.append(f"{inst.name}: {found[0]}: {log[max(0, at - 200):at + 3000]}")
    if bad:
        pytest.fail("; ".join(bad))


@pytest.fixture
def haproxy(workdir):
    started = []

    def make(backends):
        h = HAProxy(workdir, backends).start()
        started.append(h)
        return h

    yield make
    for h in started:
        h.stop()
