"""Scenario 7: server fan-out. 5000 connections in 50 stores (fanout_load,
raw libwebsockets); member 0 of each store broadcasts at a steady rate and
every other member measures the delivery latency. lifeline-server against
a Node ws server with the same store logic; the server's CPU is read from
/proc over the measured window. Rounds (3; 1 with --quick), the order of
the two servers alternating, a fresh server each time; the round with the
median deliveries per CPU second is reported, with the spread of all.
Then, once per server, 10 000 idle connections: its resident memory."""
import os
import time

from common import (BIN, CLIENT_CPU, Lines, log, proc_snapshot, ratio, spawn, start_server,
                    stop)

CONNS, STORES, RATE = 5000, 50, 5  # 5 broadcasts/s per store: 24 750 deliveries/s


def one(kind, seconds, idle=True):
    srv, port, _ = start_server(kind)
    load = None
    try:
        time.sleep(0.3)
        rss0 = proc_snapshot(srv.pid)["rss_kib"]
        load = spawn([os.path.join(BIN, "fanout_load"), "--port", str(port), "--conns",
                      str(CONNS), "--stores", str(STORES), "--rate", str(RATE), "--seconds",
                      str(seconds), "--warmup", "1.5"], CLIENT_CPU)
        lines = Lines(load)
        lines.wait_for(lambda o: o.get("event") == "connected", 120)
        lines.wait_for(lambda o: o.get("event") == "start", 30)
        a = proc_snapshot(srv.pid)
        lines.wait_for(lambda o: o.get("event") == "end", seconds + 30)
        b = proc_snapshot(srv.pid)
        _, res = lines.wait_for(lambda o: o.get("event") == "result", 30)
        load.stdin.close()
        load.wait(30)
        cpu = b["cpu_s"] - a["cpu_s"]
        res.update({"server_cpu_s": round(cpu, 3),
                    "server_cpu_share": round(cpu / (b["t"] - a["t"]), 3),
                    "deliveries_per_cpu_s": round(res["delivered"] / cpu, 1) if cpu else None,
                    "rss_kib_5000": a["rss_kib"], "rss_kib_empty": rss0,
                    "rss_per_conn_kib": round((a["rss_kib"] - rss0) / CONNS, 2)})
        if not idle:
            return res
        # 10 000 idle connections
        load = spawn([os.path.join(BIN, "fanout_load"), "--port", str(port), "--conns", "10000",
                      "--stores", "100", "--rate", "0"], CLIENT_CPU)
        lines = Lines(load)
        _, c = lines.wait_for(lambda o: o.get("event") == "connected", 120)
        time.sleep(1.0)
        s = proc_snapshot(srv.pid)
        res.update({"idle_10000_established": c["established"],
                    "idle_10000_rss_mib": round(s["rss_kib"] / 1024, 1)})
        load.stdin.close()
        load.wait(30)
        return res
    finally:
        stop(load)
        stop(srv)


def run(quick):
    seconds = 3 if quick else 10
    rounds = 1 if quick else 3
    out = {"connections": CONNS, "stores": STORES, "broadcasts_per_s_per_store": RATE,
           "seconds": seconds, "rounds": rounds, "contenders": {}}
    servers = [("lifeline", "lifeline_server"), ("node", "node_ws_server")]
    runs = {name: [] for _, name in servers}
    idle = {}
    for r in range(rounds):
        for kind, name in (servers if r % 2 == 0 else servers[::-1]):
            log(f"scenario 7: fan-out, {name}, round {r + 1} of {rounds}")
            res = one(kind, seconds, idle=name not in idle)
            if "idle_10000_rss_mib" in res:
                idle[name] = {k: res[k] for k in ("idle_10000_established",
                                                  "idle_10000_rss_mib")}
            runs[name].append(res)
    for _, name in servers:
        ordered = sorted(runs[name], key=lambda x: x["deliveries_per_cpu_s"] or 0)
        best = dict(ordered[len(ordered) // 2])
        best.update(idle[name])
        best["deliveries_per_cpu_s_rounds"] = [x["deliveries_per_cpu_s"] for x in runs[name]]
        best["lat_p99_us_rounds"] = [x["lat_p99_us"] for x in runs[name]]
        out["contenders"][name] = best
    lf, nd = out["contenders"]["lifeline_server"], out["contenders"]["node_ws_server"]
    out["ratios"] = {
        "deliveries_per_cpu_s_lifeline_vs_node": ratio(lf["deliveries_per_cpu_s"],
                                                       nd["deliveries_per_cpu_s"]),
        "deliveries_per_s_lifeline_vs_node": ratio(lf["deliveries_per_s"],
                                                   nd["deliveries_per_s"]),
        "rss_per_conn_node_vs_lifeline": ratio(nd["rss_per_conn_kib"], lf["rss_per_conn_kib"])}
    return out
