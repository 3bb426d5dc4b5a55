"""Scenario 11 (only with --only c50k): 50 000 idle connections.

One process may hold no more descriptors than the hard RLIMIT_NOFILE
(20 000 on the machine the README's figures come from, and it cannot be
raised without CAP_SYS_RESOURCE), so:

1. one lifeline-server, with as many idle connections as its descriptors
   allow: 10 000 first (the RSS of the "10 000 idle <= 100 MB" target,
   measured on this code path), then up to the limit;
2. 50 000 across three instances joined through one redis-server
   (--redis), about 16 667 each.

The connections come from fanout_load processes (raw libwebsockets, rate
0), each under the descriptor limit, each from a loopback address of its
own (127.0.0.x), so that no process and no source address is short of
ephemeral ports. Stores of 10 members, store i % stores: in the cluster,
each store's members are spread over the three instances. Per instance:
connections held, descriptors, RSS before and after, RSS per connection,
the time to open them. Then every connection must be live: one admin
broadcast per store (POST /api/v1/stores/{store}/broadcast, sent round
robin to the instances, so most of them cross Redis) and the clients
count the broadcasts received and how many connections received one.
Servers and redis-server on the server core, clients on the client core.
"""
import http.client
import json
import os
import resource
import time

from cluster import _redis
from common import (BIN, CLIENT_CPU, SERVER, SERVER_CPU, TMP, Lines, free_port, log,
                    proc_snapshot, spawn, stop)

PER_STORE = 10
IDLE_TARGET = 10000
TOTAL = 50000
INSTANCES = 3
CLIENTS_PER_INSTANCE = 2
# descriptors kept free in a server holding all it can: one for the admin
# broadcast's HTTP connection, one spare
SERVER_FDS_SPARE = 2
# a client process holds at most this many connections under the limit
CLIENT_FDS_MARGIN = 100


def _fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def _server(tag, redis_port=None):
    db = os.path.join(TMP, f"c50k-{tag}.db")
    for ext in ("", "-wal", "-shm"):
        if os.path.exists(db + ext):
            os.remove(db + ext)
    cmd = [SERVER, "--port", "0", "--host", "127.0.0.1", "--log-level", "warn", "--db", db,
           "--drain-window-ms", "0"]
    if redis_port:
        cmd += ["--redis", f"redis://127.0.0.1:{redis_port}", "--instance", tag]
    p = spawn(cmd, SERVER_CPU, stderr=open(os.path.join(TMP, "c50k-server.log"), "a"))
    _, obj = Lines(p).wait_for(lambda o: o.get("event") == "listening", 10)
    return p, obj["port"]


def _clients(port, first, n, stores, addr):
    p = spawn([os.path.join(BIN, "fanout_load"), "--port", str(port), "--conns", str(n),
               "--first", str(first), "--stores", str(stores), "--rate", "0", "--bind", addr,
               "--limit", "1800"], CLIENT_CPU)
    return p, Lines(p)


def _connected(client, timeout=600):
    _, c = client[1].wait_for(lambda o: o.get("event") == "connected", timeout)
    return c


def _broadcast(ports, stores):
    """One admin broadcast per store, round robin over the instances; the
    seconds it took and the server-side delivered counts (each counts its
    own instance's members only)."""
    conns = [http.client.HTTPConnection("127.0.0.1", p, timeout=30) for p in ports]
    t0 = time.monotonic()
    answered = 0
    for s in range(stores):
        c = conns[s % len(conns)]
        body = json.dumps({"t": int(time.monotonic() * 1e6)})
        c.request("POST", f"/api/v1/stores/f{s}/broadcast", body=body,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        if r.status // 100 != 2:
            raise RuntimeError(f"broadcast to f{s}: HTTP {r.status} {data[:200]!r}")
        answered += json.loads(data)["delivered"]
    secs = time.monotonic() - t0
    for c in conns:
        c.close()
    return round(secs, 2), answered


def _counts(clients, expected, timeout=60):
    """Ask every client for its counts until the broadcasts received reach
    expected (or the time is up); the sums."""
    end = time.monotonic() + timeout
    while True:
        tot = {"open": 0, "closed": 0, "delivered": 0, "reached": 0}
        for p, lines in clients:
            p.stdin.write("\n")
            p.stdin.flush()
            _, c = lines.wait_for(lambda o: o.get("event") == "count", 30)
            for k in tot:
                tot[k] += c[k]
        if tot["delivered"] >= expected or time.monotonic() > end:
            return tot
        time.sleep(0.5)


def _close(clients):
    for p, _ in clients:
        try:
            p.stdin.close()
        except OSError:
            pass
    for p, _ in clients:
        try:
            p.wait(60)
        except Exception:  # noqa: BLE001
            stop(p)


def single(limit):
    """One instance: 10 000, then as many as its descriptors allow."""
    srv, port = _server("single")
    clients = []
    try:
        time.sleep(0.5)
        s0 = proc_snapshot(srv.pid)
        fds0 = _fds(srv.pid)
        per_process = limit - CLIENT_FDS_MARGIN
        # the server's own descriptors (stdio, listener, SQLite, lws's pipe
        # and epoll) count against the same limit
        most = min(limit - fds0 - SERVER_FDS_SPARE, TOTAL)
        stores = most // PER_STORE
        out = {"fd_limit": limit, "server_fds_at_start": fds0, "target": most,
               "stores": stores, "rss_kib_empty": s0["rss_kib"]}
        t0 = time.monotonic()
        clients.append(_clients(port, 0, IDLE_TARGET, stores, "127.0.0.2"))
        c = _connected(clients[0])
        t_open = time.monotonic() - t0
        time.sleep(2.0)
        s = proc_snapshot(srv.pid)
        out["idle_10000"] = {"established": c["established"], "failed": c["failed"],
                             "open_s": round(t_open, 2), "rss_kib": s["rss_kib"],
                             "rss_mib": round(s["rss_kib"] / 1024, 1),
                             "rss_per_conn_kib": round((s["rss_kib"] - s0["rss_kib"])
                                                       / max(1, c["established"]), 2),
                             "fds": _fds(srv.pid)}
        log(f"scenario 11: one instance, {c['established']} idle: "
            f"{out['idle_10000']['rss_mib']} MiB")
        # the rest, in client processes under the limit each
        t0, first, addr = time.monotonic(), IDLE_TARGET, 3
        while first < most:
            n = min(per_process, most - first)
            clients.append(_clients(port, first, n, stores, f"127.0.0.{addr}"))
            first += n
            addr += 1
        more = [_connected(x) for x in clients[1:]]
        t_open = time.monotonic() - t0
        time.sleep(2.0)
        s = proc_snapshot(srv.pid)
        held = c["established"] + sum(x["established"] for x in more)
        out["full"] = {"established": held,
                       "failed": c["failed"] + sum(x["failed"] for x in more),
                       "open_s_second_batch": round(t_open, 2),
                       "rss_kib": s["rss_kib"], "rss_mib": round(s["rss_kib"] / 1024, 1),
                       "rss_per_conn_kib": round((s["rss_kib"] - s0["rss_kib"]) / max(1, held),
                                                 2),
                       "fds": _fds(srv.pid)}
        secs, answered = _broadcast([port], stores)
        counts = _counts(clients, held)
        out["broadcast"] = {"stores": stores, "post_seconds": secs,
                            "server_delivered": answered, **counts}
        log(f"scenario 11: one instance, {held} idle: {out['full']['rss_mib']} MiB, "
            f"broadcast reached {counts['reached']}")
        return out
    finally:
        _close(clients)
        stop(srv)


def cluster(total=TOTAL, instances=INSTANCES):
    rp, rport = _redis()
    servers, clients = [], []
    try:
        servers = [_server(f"i{k + 1}", rport) for k in range(instances)]
        time.sleep(1.0)  # every instance has joined Redis
        base = [proc_snapshot(p.pid) for p, _ in servers]
        r0 = proc_snapshot(rp.pid)
        stores = total // PER_STORE
        per = [total // instances + (1 if k < total % instances else 0)
               for k in range(instances)]
        plan, first, addr = [], 0, 10
        for k, n in enumerate(per):
            for j in range(CLIENTS_PER_INSTANCE):
                m = n // CLIENTS_PER_INSTANCE + (1 if j < n % CLIENTS_PER_INSTANCE else 0)
                plan.append((k, first, m, f"127.0.0.{addr}"))
                first += m
                addr += 1
        log(f"scenario 11: {total} idle connections across {instances} instances, "
            f"{len(plan)} client processes")
        t0 = time.monotonic()
        clients = [_clients(servers[k][1], f, m, stores, a) for k, f, m, a in plan]
        conn = [_connected(c) for c in clients]
        t_all = time.monotonic() - t0
        time.sleep(2.0)
        after = [proc_snapshot(p.pid) for p, _ in servers]
        r1 = proc_snapshot(rp.pid)
        out = {"instances": [], "stores": stores, "per_store": PER_STORE,
               "client_processes": [{"instance": f"i{k + 1}", "first": f, "conns": m,
                                     "source": a, "established": c["established"],
                                     "failed": c["failed"], "open_s": round(c["open_ms"] / 1e3,
                                                                           2)}
                                    for (k, f, m, a), c in zip(plan, conn)],
               "open_s_total": round(t_all, 2)}
        for k, ((p, port), b, a) in enumerate(zip(servers, base, after)):
            mine = [c for (i, *_), c in zip(plan, conn) if i == k]
            held = sum(c["established"] for c in mine)
            out["instances"].append({
                "instance": f"i{k + 1}", "established": held,
                "failed": sum(c["failed"] for c in mine),
                "open_s": round(max(c["open_ms"] for c in mine) / 1e3, 2),
                "fds": _fds(p.pid), "rss_kib_empty": b["rss_kib"], "rss_kib": a["rss_kib"],
                "rss_mib": round(a["rss_kib"] / 1024, 1),
                "rss_per_conn_kib": round((a["rss_kib"] - b["rss_kib"]) / max(1, held), 2)})
        held = sum(x["established"] for x in out["instances"])
        rss = sum(x["rss_kib"] for x in out["instances"])
        rss_empty = sum(x["rss_kib_empty"] for x in out["instances"])
        out["total"] = {"established": held,
                        "failed": sum(x["failed"] for x in out["instances"]),
                        "rss_kib": rss, "rss_mib": round(rss / 1024, 1),
                        "rss_per_conn_kib": round((rss - rss_empty) / max(1, held), 2),
                        "redis_rss_kib": r1["rss_kib"], "redis_rss_kib_empty": r0["rss_kib"],
                        "client_rss_mib": round(sum(proc_snapshot(p.pid)["rss_kib"]
                                                    for p, _ in clients) / 1024, 1)}
        secs, answered = _broadcast([port for _, port in servers], stores)
        counts = _counts(clients, held)
        out["broadcast"] = {"stores": stores, "post_seconds": secs,
                            "server_delivered_local": answered, **counts}
        log(f"scenario 11: {held} held, {out['total']['rss_mib']} MiB in all, broadcast "
            f"reached {counts['reached']} of {held}")
        return out
    finally:
        _close(clients)
        for p, _ in servers:
            stop(p)
        stop(rp)


def run(quick):
    del quick  # the same either way: the figures are counts, not rates
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return {"fd_limit": limit, "single": single(limit), "cluster": cluster()}
