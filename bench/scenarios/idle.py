"""Scenario 3: idle cost. The lifeline client (defaults: 30 s ping), a Node
ws client and a Python websockets client with the same heartbeat stay
connected side by side; wake-ups (context switches of every thread),
CPU and RSS are read from /proc over the window. The server does not ping
(--ping-interval-ms 1 h), so each process wakes for its own heartbeat
only."""
import os
import time

from common import (BENCH, BIN, CLIENT_CPU, NODE, NODE_ENV, PYTHON, Lines, log,
                    proc_snapshot, ratio, spawn, start_server, stop)


def run(quick):
    window = 31 if quick else 120  # quick: one 30 s ping cycle
    srv, port, _ = start_server("lifeline", extra=["--ping-interval-ms", "3600000"])
    url = f"ws://127.0.0.1:{port}/ws?store=idle&user="
    secs = str(window + 30)
    cmds = {
        "lifeline": ([os.path.join(BIN, "lifeline_idle"), "--url", url + "l", "--seconds", secs],
                     None),
        "node_ws": ([NODE, os.path.join(BENCH, "clients", "ws_idle.js"), "--url", url + "n",
                     "--seconds", secs], NODE_ENV),
        "python_websockets": ([PYTHON, os.path.join(BENCH, "clients", "websockets_idle.py"),
                               "--url", url + "p", "--seconds", secs], None),
    }
    procs = {}
    try:
        for who, (cmd, env) in cmds.items():
            p = spawn(cmd, CLIENT_CPU, env=env)
            procs[who] = (p, Lines(p))
        for who, (p, lines) in procs.items():
            lines.wait_for(lambda o: o.get("event") == "connected", 15)
        time.sleep(2)  # start-up done, first pings answered
        log(f"scenario 3: idle clients, {window} s window")
        before = {w: proc_snapshot(p.pid) for w, (p, _) in procs.items()}
        time.sleep(window)
        after = {w: proc_snapshot(p.pid) for w, (p, _) in procs.items()}
        for who, (p, lines) in procs.items():
            p.stdin.close()
        out = {}
        for who in procs:
            a, b = after[who], before[who]
            mins = (a["t"] - b["t"]) / 60
            wake = (a["vol"] - b["vol"]) + (a["invol"] - b["invol"])
            out[who] = {"wakeups": wake, "wakeups_per_min": round(wake / mins, 2),
                        "voluntary": a["vol"] - b["vol"], "involuntary": a["invol"] - b["invol"],
                        "cpu_s": round(a["cpu_s"] - b["cpu_s"], 3),
                        "cpu_ms_per_min": round((a["cpu_s"] - b["cpu_s"]) * 1000 / mins, 2),
                        "rss_kib": a["rss_kib"], "threads": a["threads"]}
        for who, (p, lines) in procs.items():
            try:
                p.wait(10)
            except Exception:  # noqa: BLE001
                p.kill()
    finally:
        for p, _ in procs.values():
            stop(p)
        stop(srv)
    return {"window_s": window, "extrapolated_per_minute": quick, "contenders": out,
            "ratios": {"cpu_lifeline_vs_node_ws": ratio(out["lifeline"]["cpu_s"] or 1e-9,
                                                        out["node_ws"]["cpu_s"] or 1e-9),
                       "wakeups_lifeline_vs_node_ws": ratio(out["lifeline"]["wakeups"] or 1e-9,
                                                            out["node_ws"]["wakeups"] or 1e-9)}}
