"""Scenario 10: fan-out across instances. The load of scenario 7 (5000
connections in 50 stores, member 0 of each broadcasting 5 times a second,
fanout_load on the client core) against: one lifeline-server alone (the
baseline), then 1, 2 and 3 instances joined through a real redis-server,
behind HAProxy (docs/haproxy/lifeline.cfg, its ports changed). Every
server process (the instances, redis-server, haproxy) runs on the server
core, so on 2 CPUs this measures what Redis and HAProxy cost against one
instance, and that nothing is lost, not scaling: the CPU figure is the sum
of all of them per delivery."""
import os
import re
import socket
import time

from common import (BIN, CLIENT_CPU, ROOT, SERVER, SERVER_CPU, TMP, Lines, free_port, log,
                    proc_snapshot, spawn, stop)

CONNS, STORES, RATE = 5000, 50, 5
HAPROXY_CFG = os.path.join(ROOT, "docs", "haproxy", "lifeline.cfg")


def _wait_port(port, proc, what, timeout=10):
    end = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"{what} did not start")
            time.sleep(0.05)


def _redis():
    port = free_port()
    p = spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", TMP], SERVER_CPU,
              stderr=open(os.path.join(TMP, "redis.log"), "a"))
    _wait_port(port, p, "redis-server")
    return p, port


def _instance(n, port, redis_port):
    cmd = [SERVER, "--port", str(port), "--host", "127.0.0.1", "--log-level", "warn",
           "--db", os.path.join(TMP, f"cluster-{n}.db")]
    if redis_port:
        cmd += ["--redis", f"redis://127.0.0.1:{redis_port}", "--instance", f"i{n}"]
    p = spawn(cmd, SERVER_CPU, stderr=open(os.path.join(TMP, "cluster-server.log"), "a"))
    Lines(p).wait_for(lambda o: o.get("event") == "listening", 10)
    return p


def _haproxy(backends):
    port = free_port()
    cfg = open(HAPROXY_CFG).read()
    cfg = re.sub(r"bind 127\.0\.0\.1:\d+", f"bind 127.0.0.1:{port}", cfg)
    servers = iter(backends)
    cfg = re.sub(r"\n\s*server \S+ 127\.0\.0\.1:\d+ check", "", cfg)
    cfg += "".join(f"    server i{k + 1} 127.0.0.1:{b} check\n" for k, b in enumerate(servers))
    path = os.path.join(TMP, "haproxy.cfg")
    with open(path, "w") as f:
        f.write(cfg)
    p = spawn(["/usr/sbin/haproxy", "-db", "-f", path], SERVER_CPU,
              stderr=open(os.path.join(TMP, "haproxy.log"), "a"))
    _wait_port(port, p, "haproxy")
    return p, port


def one(instances, seconds):
    """instances: 0 for one server alone, else that many behind HAProxy
    over Redis."""
    procs, roles = [], []
    load = None
    try:
        if instances:
            rp, rport = _redis()
            procs.append(rp)
            ports = [free_port() for _ in range(instances)]
            procs += [_instance(k + 1, ports[k], rport) for k in range(instances)]
            hp, port = _haproxy(ports)
            procs.append(hp)
            roles = ["redis"] + ["lifeline"] * instances + ["haproxy"]
            time.sleep(1.0)  # the health checks see every backend up
        else:
            port = free_port()
            procs.append(_instance(0, port, None))
            roles = ["lifeline"]
        load = spawn([os.path.join(BIN, "fanout_load"), "--port", str(port), "--conns",
                      str(CONNS), "--stores", str(STORES), "--rate", str(RATE), "--seconds",
                      str(seconds), "--warmup", "1.5"], CLIENT_CPU)
        lines = Lines(load)
        lines.wait_for(lambda o: o.get("event") == "connected", 120)
        lines.wait_for(lambda o: o.get("event") == "start", 30)
        a = [proc_snapshot(p.pid) for p in procs]
        lines.wait_for(lambda o: o.get("event") == "end", seconds + 30)
        b = [proc_snapshot(p.pid) for p in procs]
        _, res = lines.wait_for(lambda o: o.get("event") == "result", 30)
        load.stdin.close()
        load.wait(30)
        cpu = sum(y["cpu_s"] - x["cpu_s"] for x, y in zip(a, b))
        by_role = {}
        for role, x, y in zip(roles, a, b):
            by_role[role] = round(by_role.get(role, 0) + y["cpu_s"] - x["cpu_s"], 3)
        # every member but the sender gets each broadcast, at the load's rate
        expected_per_s = RATE * STORES * (CONNS // STORES - 1)
        res.update({"instances": instances, "server_side_cpu_s": round(cpu, 3),
                    "cpu_s_by_process": by_role,
                    "deliveries_per_cpu_s": round(res["delivered"] / cpu, 1) if cpu else None,
                    "expected_per_s": expected_per_s,
                    "delivered_share": round(res["deliveries_per_s"] / expected_per_s, 4)})
        return res
    finally:
        stop(load)
        for p in reversed(procs):
            stop(p)


def run(quick):
    seconds = 3 if quick else 10
    out = {"connections": CONNS, "stores": STORES, "broadcasts_per_s_per_store": RATE,
           "seconds": seconds, "runs": []}
    for n in (0, 1, 2, 3):
        log(f"scenario 10: fan-out, {'one server alone' if not n else f'{n} behind HAProxy'}")
        out["runs"].append(one(n, seconds))
    return out
