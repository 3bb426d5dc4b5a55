"""Scenario 6: reconnect storm. 1000 lifeline clients on one shared loop
(every default but the jitter mode; stable_after_ms 1000 so the attempt
counter has reset before the restart); lifeline-server is stopped at once
(SIGINT: it closes every connection with 1001; SIGTERM would drain, spreading
its 1012 closes over 10 s) and started again on the same port 1 s later. Attempts are counted client side (each move to
`connecting`), relative to the stop."""
import os
import signal
import time

from common import BIN, CLIENT_CPU, Lines, log, spawn, start_server, stop

DOWNTIME_S = 1.0


def analyse(res, t_stop, t_up, n):
    att = sorted((t / 1e6 - t_stop) for t in res["attempts_us"])
    con = sorted((t / 1e6 - t_stop) for t in res["connected_us"])
    peak, j = 0, 0
    for i in range(len(att)):
        while att[i] - att[j] >= 0.1:
            j += 1
        peak = max(peak, i - j + 1)
    need = int(0.99 * n + 0.999)
    t99 = con[need - 1] if len(con) >= need else None
    return {"clients": n, "attempts": len(att), "peak_attempts_per_100ms": peak,
            "reconnected": len(con), "server_up_at_s": round(t_up - t_stop, 3),
            "time_to_99pct_s": round(t99, 3) if t99 is not None else None,
            "attempts_s": [round(x, 4) for x in att], "connected_s": [round(x, 4) for x in con]}


def run(quick):
    n = 1000
    out = {"downtime_s": DOWNTIME_S, "modes": {}}
    for mode in ("additive", "full"):
        srv, port, _ = start_server("lifeline")
        cli = None
        try:
            cli = spawn([os.path.join(BIN, "lifeline_storm"), "--url-base",
                         f"ws://127.0.0.1:{port}/ws", "--clients", str(n), "--jitter-mode", mode,
                         "--stable-after-ms", "1000", "--seconds", "60"], CLIENT_CPU)
            lines = Lines(cli)
            lines.wait_for(lambda o: o.get("event") == "all_connected", 60)
            time.sleep(1.5)
            log(f"scenario 6: storm, {n} clients, {mode} jitter")
            t_stop = time.monotonic()
            stop(srv, signal.SIGINT)
            time.sleep(max(0, t_stop + DOWNTIME_S - time.monotonic()))
            srv, _, _ = start_server("lifeline", port=port)
            t_up = time.monotonic()
            _, res = lines.wait_for(lambda o: o.get("event") == "result", 90)
            out["modes"][mode] = analyse(res, t_stop, t_up, n)
        finally:
            stop(cli)
            stop(srv)
    return out
