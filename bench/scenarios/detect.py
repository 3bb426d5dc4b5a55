"""Scenario 5: detection and recovery of one lifeline client.

A (blackhole): the server goes silent (fault blackhole) at a random phase
of the ping cycle; detection is the time until the client leaves
`connected`, bound ping_interval + ping_timeout. The server comes back
(fault none) at a random point of the scheduled backoff wait; the client
must connect when the wait ends: back->connected against the wait left.
B (server_down): the server is killed; once the client is in server_down
it is started again at a random point of a probe interval; back->connected
against the probe interval."""
import os
import random
import signal
import time

from common import BIN, CLIENT_CPU, Lines, fault, log, spawn, start_server, stop

CFG = {"ping-interval-ms": 1000, "ping-timeout-ms": 500, "base-delay-ms": 500,
       "max-delay-ms": 2000, "jitter-ms": 100, "max-attempts": 2,
       "down-ping-interval-ms": 1000, "connect-timeout-ms": 1000, "stable-after-ms": 1000}
SLACK_MS = 100


def us(t):
    return t / 1e6


def wait_state(lines, to, timeout, after=0.0):
    return lines.wait_for(lambda o: o.get("event") == "state" and o["to"] == to
                          and us(o["t_us"]) >= after, timeout)[1]


def wait_retry(lines, probe, timeout, after=0.0):
    return lines.wait_for(lambda o: o.get("event") == "retry" and o["probe"] == probe
                          and us(o["t_us"]) >= after, timeout)[1]


def until(t):
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)


def run(quick):
    trials = 3 if quick else 20
    rng = random.Random(5)
    srv, port, _ = start_server("lifeline")
    cmd = [os.path.join(BIN, "lifeline_detect"), "--url",
           f"ws://127.0.0.1:{port}/ws?store=detect&user=d"]
    for k, v in CFG.items():
        cmd += [f"--{k}", str(v)]
    cli = spawn(cmd, CLIENT_CPU)
    lines = Lines(cli)
    bound_detect = CFG["ping-interval-ms"] + CFG["ping-timeout-ms"]
    a_trials, b_trials = [], []
    try:
        log(f"scenario 5: detection and recovery, {trials} trials each")
        wait_state(lines, "connected", 10)
        for i in range(trials):
            # A: blackhole at a random phase, then back during the backoff
            time.sleep(CFG["stable-after-ms"] / 1000 + 0.2 + rng.uniform(0, 1.0))
            t0 = time.monotonic()
            fault(port, "blackhole")
            left = lines.wait_for(lambda o: o.get("event") == "state" and o["from"] == "connected",
                                  10)[1]
            t1 = us(left["t_us"])
            r = wait_retry(lines, 0, 10, after=t1 - 0.005)
            sched_end = us(r["t_us"]) + r["delay_ms"] / 1000
            t_back = us(r["t_us"]) + rng.uniform(0.2, 0.8) * r["delay_ms"] / 1000
            until(t_back)
            t_back = time.monotonic()
            fault(port, "none")
            c = wait_state(lines, "connected", 10, after=t1)
            t2 = us(c["t_us"])
            a_trials.append({
                "detect_ms": round((t1 - t0) * 1000, 1), "detect_bound_ms": bound_detect,
                "left_to": left["to"], "error": left["error"], "retry_delay_ms": r["delay_ms"],
                "back_to_connected_ms": round((t2 - t_back) * 1000, 1),
                "wait_left_ms": round((sched_end - t_back) * 1000, 1),
                "late_vs_schedule_ms": round((t2 - sched_end) * 1000, 1)})
        for i in range(trials):
            # B: killed; restarted during server_down's probe interval
            time.sleep(CFG["stable-after-ms"] / 1000 + 0.2)
            t_kill = time.monotonic()
            stop(srv, signal.SIGKILL)
            wait_state(lines, "server_down", 20, after=t_kill)
            r = wait_retry(lines, 1, 10, after=t_kill)
            sched_end = us(r["t_us"]) + r["delay_ms"] / 1000
            until(us(r["t_us"]) + rng.uniform(0.1, 0.8) * r["delay_ms"] / 1000)
            srv, _, _ = start_server("lifeline", port=port)
            t_back = time.monotonic()
            c = wait_state(lines, "connected", 10, after=t_kill)
            t2 = us(c["t_us"])
            b_trials.append({
                "probe_interval_ms": r["delay_ms"],
                "back_to_connected_ms": round((t2 - t_back) * 1000, 1),
                "wait_left_ms": round((sched_end - t_back) * 1000, 1),
                "late_vs_schedule_ms": round((t2 - sched_end) * 1000, 1)})
    finally:
        stop(cli)
        stop(srv)

    def summary(vals):
        v = sorted(vals)
        return {"min": v[0], "median": v[len(v) // 2], "max": v[-1]} if v else None
    a_ok = all(t["detect_ms"] <= t["detect_bound_ms"] + SLACK_MS for t in a_trials)
    a_back_ok = all(t["back_to_connected_ms"] <= t["wait_left_ms"] + SLACK_MS for t in a_trials)
    b_ok = all(t["back_to_connected_ms"] <= t["probe_interval_ms"] + SLACK_MS for t in b_trials)
    return {"config": CFG, "slack_ms": SLACK_MS, "trials": trials,
            "detection": {"bound_ms": bound_detect,
                          "ms": summary([t["detect_ms"] for t in a_trials]),
                          "all_within_bound_plus_slack": a_ok},
            "recovery_in_backoff": {"ms": summary([t["back_to_connected_ms"] for t in a_trials]),
                                    "late_vs_schedule_ms": summary(
                                        [t["late_vs_schedule_ms"] for t in a_trials]),
                                    "all_within_wait_left_plus_slack": a_back_ok},
            "recovery_in_server_down": {"bound_ms": CFG["down-ping-interval-ms"],
                                        "ms": summary([t["back_to_connected_ms"]
                                                       for t in b_trials]),
                                        "late_vs_schedule_ms": summary(
                                            [t["late_vs_schedule_ms"] for t in b_trials]),
                                        "all_within_probe_interval_plus_slack": b_ok},
            "blackhole_trials": a_trials, "server_down_trials": b_trials}
