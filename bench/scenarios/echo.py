"""Scenarios 1 and 2: echo round trips, sequential and pipelined, for the
lifeline client, the raw libwebsockets client, Node ws and Python
websockets, one after another in rounds against one lifeline-server."""
import os

from common import (BIN, BENCH, CLIENT_CPU, NODE, NODE_ENV, PYTHON, TMP, log, percentile,
                    ratio, run_json, start_server, stop)

CONTENDERS = ["lifeline", "lifeline_thread", "raw_lws", "node_ws", "python_websockets"]


def client_cmd(who, url, size, window, seconds, samples):
    args = ["--url", url, "--size", str(size), "--window", str(window), "--seconds",
            str(seconds), "--warmup", "0.5"]
    if samples:
        args += ["--samples", samples]
    if who == "lifeline":
        return [os.path.join(BIN, "lifeline_echo"), "--mode", "cb"] + args, None
    if who == "lifeline_thread":
        return [os.path.join(BIN, "lifeline_echo"), "--mode", "thread"] + args, None
    if who == "raw_lws":
        return [os.path.join(BIN, "raw_lws_echo")] + args, None
    if who == "node_ws":
        return [NODE, os.path.join(BENCH, "clients", "ws_echo.js")] + args, NODE_ENV
    if who == "python_websockets":
        return [PYTHON, os.path.join(BENCH, "clients", "websockets_echo.py")] + args, None
    raise ValueError(who)


def run_case(port, size, window, seconds, rounds, with_rtt):
    """Each round runs every contender once (order rotated); the median
    round by messages/s is kept, RTT samples of all rounds are pooled."""
    url = f"ws://127.0.0.1:{port}/ws?store=echo&user=bench"
    runs = {w: [] for w in CONTENDERS}
    rtts = {w: [] for w in CONTENDERS}
    for r in range(rounds):
        order = CONTENDERS[r % len(CONTENDERS):] + CONTENDERS[:r % len(CONTENDERS)]
        for who in order:
            samples = os.path.join(TMP, f"rtt-{who}-{r}.txt") if with_rtt else None
            cmd, env = client_cmd(who, url, size, window, seconds, samples)
            res = run_json(cmd, CLIENT_CPU, env, timeout=seconds + 60)
            res["msgs_per_s"] = res["msgs"] / res["seconds"]
            runs[who].append(res)
            if samples:
                with open(samples) as f:
                    rtts[who] += [int(x) for x in f if x.strip()]
    out = {}
    for who in CONTENDERS:
        rs = sorted(runs[who], key=lambda x: x["msgs_per_s"])
        med = rs[len(rs) // 2]
        e = {"msgs_per_s": round(med["msgs_per_s"], 1),
             "msgs_per_s_runs": [round(x["msgs_per_s"], 1) for x in runs[who]],
             "cpu_s_per_million": round(med["cpu_s"] / med["msgs"] * 1e6, 2)}
        if with_rtt:
            v = sorted(rtts[who])
            e.update({"rtt_samples": len(v), "rtt_p50_us": percentile(v, 0.5),
                      "rtt_p99_us": percentile(v, 0.99), "rtt_p999_us": percentile(v, 0.999)})
            rtts[who] = v
        out[who] = e
    return out, rtts


def with_ratios(res, key, lower_is_better=False):
    lf = res["lifeline"][key]

    def r(x):
        return ratio(x, lf) if lower_is_better else ratio(lf, x)
    return {"lifeline_vs_raw_lws": r(res["raw_lws"][key]),
            "lifeline_vs_node_ws": r(res["node_ws"][key]),
            "lifeline_vs_python_websockets": r(res["python_websockets"][key]),
            "lifeline_thread_vs_raw_lws": ratio(res["lifeline_thread"][key], res["raw_lws"][key])
            if not lower_is_better else ratio(res["raw_lws"][key], res["lifeline_thread"][key])}


def run(quick):
    seconds = 1.0 if quick else 4
    rounds_seq = 2 if quick else 3
    rounds_pipe = 2 if quick else 3
    srv, port, _ = start_server("lifeline", extra=["--ping-interval-ms", "3600000"])
    try:
        log("scenario 1: sequential echo, 64 B")
        seq, rtts = run_case(port, 64, 1, seconds, rounds_seq, True)
        s1 = {"server": "lifeline-server", "message_bytes": 64, "seconds_per_run": seconds,
              "rounds": rounds_seq, "contenders": seq,
              "ratios": with_ratios(seq, "msgs_per_s")}
        log("scenario 2: pipelined echo, window 100, 64 B and 16 KiB")
        s2 = {"server": "lifeline-server", "window": 100, "seconds_per_run": seconds,
              "rounds": rounds_pipe, "sizes": {}}
        for size in (64, 16384):
            res, _ = run_case(port, size, 100, seconds, rounds_pipe, False)
            s2["sizes"][str(size)] = {
                "contenders": res,
                "ratios": with_ratios(res, "msgs_per_s"),
                "cpu_ratios": with_ratios(res, "cpu_s_per_million", lower_is_better=True)}
    finally:
        stop(srv)
    # is lifeline-server the bottleneck? the raw client against a C echo server
    e, eport, _ = start_server("lws_echo")
    try:
        url = f"ws://127.0.0.1:{eport}/ws"
        chk = {}
        for size, window in ((64, 1), (64, 100), (16384, 100)):
            cmd, _ = client_cmd("raw_lws", url, size, window, seconds, None)
            r = run_json(cmd, CLIENT_CPU, timeout=seconds + 60)
            chk[f"{size}B_window{window}"] = round(r["msgs"] / r["seconds"], 1)
    finally:
        stop(e)
    s1["server_check"] = {"raw_lws_vs_c_echo_server_msgs_per_s": chk["64B_window1"],
                          "raw_lws_vs_lifeline_server_msgs_per_s": seq["raw_lws"]["msgs_per_s"]}
    s2["server_check"] = {k: v for k, v in chk.items() if "window100" in k}
    return s1, s2, rtts
