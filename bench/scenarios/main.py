"""Runs every scenario (or those named with --only), writes
bench/results/latest.json and the plots, prints the Markdown table."""
import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback

import c50k
import cluster
import common
import delivery
import detect
import echo
import fanout
import idle
import memory
import outbox
import report
import storm


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    lws = subprocess.run(["pkg-config", "--modversion", "libwebsockets"], capture_output=True,
                         text=True).stdout.strip()
    node = subprocess.run([common.NODE, "--version"], capture_output=True, text=True).stdout
    mosq = ""
    if os.path.exists("/usr/sbin/mosquitto"):
        mosq = subprocess.run(["/usr/sbin/mosquitto", "-h"], capture_output=True,
                              text=True).stdout.split("\n", 1)[0].strip()
    return {"nproc": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "libwebsockets": lws, "node": node.strip(),
            "python": subprocess.run([common.PYTHON, "--version"], capture_output=True,
                                     text=True).stdout.strip(),
            "mosquitto": mosq,
            "pinning": {"server_cpu": common.SERVER_CPU, "client_cpu": common.CLIENT_CPU}}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", default="",
                   help="comma list: echo,idle,memory,detect,storm,fanout,cluster,outbox,"
                   "delivery; c50k (50 000 idle connections) runs only when named")
    a = p.parse_args()
    only = set(filter(None, a.only.split(",")))
    os.makedirs(common.TMP, exist_ok=True)
    t_start = time.monotonic()
    res = {"mode": "quick" if a.quick else "full",
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine()}
    rtts = None
    steps = [("echo", None), ("idle", idle), ("memory", memory), ("detect", detect),
             ("storm", storm), ("fanout", fanout), ("cluster", cluster), ("outbox", outbox),
             ("delivery", delivery), ("c50k", c50k)]
    opt_in = {"c50k"}
    unknown = only - {name for name, _ in steps}
    if unknown:
        p.error(f"--only: no scenario named {', '.join(sorted(unknown))}")
    failed = []
    try:
        for name, mod in steps:
            if (only and name not in only) or (not only and name in opt_in):
                continue
            t = time.monotonic()
            try:
                if name == "echo":
                    res["echo_sequential"], res["echo_pipelined"], rtts = echo.run(a.quick)
                else:
                    key = {"detect": "detection"}.get(name, name)
                    res[key] = mod.run(a.quick)
            except Exception:  # noqa: BLE001 - one scenario failing must not hide the rest
                traceback.print_exc()
                failed.append(name)
            res.setdefault("scenario_seconds", {})[name] = round(time.monotonic() - t, 1)
    finally:
        common.kill_all()
    res["total_seconds"] = round(time.monotonic() - t_start, 1)
    res["failed_scenarios"] = failed
    res["targets"] = [{"target": t, "met": bool(m), "measured": s}
                      for t, m, s in report.targets(res)]
    os.makedirs(common.RESULTS, exist_ok=True)
    # latest.json is the record of a run of every scenario: a run of some
    # (--only) gets a file of its own, named after them and its start
    out = os.path.join(common.RESULTS, "latest.json")
    if only:
        names = "+".join(name for name, _ in steps if name in only)
        out = os.path.join(common.RESULTS, f"{names}-{res['date'].replace(':', '')}.json")
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    pngs = report.plots(res, common.RESULTS, rtts)
    m = res["machine"]
    print()
    print(f"Machine: {m['cpu_model']}, {m['nproc']} CPUs, Linux {m['kernel']}, "
          f"libwebsockets {m['libwebsockets']}, node {m['node']}; "
          f"{res['mode']} run, {res['total_seconds']} s")
    print()
    print(report.table(res))
    print()
    print("wrote", os.path.relpath(out, common.ROOT), *[os.path.relpath(x, common.ROOT)
                                                        for x in pngs])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
