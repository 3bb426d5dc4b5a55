"""Fixtures for the cluster suites: a real redis-server, lifeline-server
instances joined through it, HAProxy (cluster.py). Each test has its own
temporary folder; every process is stopped at its end."""

import shutil
import sys
import tempfile

import pytest

sys.dont_write_bytecode = True

from cluster import HAProxy, Instance, Redis


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
        if inst.proc.poll() is None and inst.stop() != 0:
            bad.append(f"{inst.name} exited {inst.proc.returncode}: {inst.log_text()[-2000:]}")
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
