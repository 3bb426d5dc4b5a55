"""The Markdown table, the target checks and the plots from results."""
import os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def f(x, nd=0):
    if x is None:
        return "-"
    if isinstance(x, float) and nd == 0 and abs(x) < 10:
        nd = 2
    return f"{x:,.{nd}f}"


def targets(r):
    """Each target: (text, met, measured)."""
    out = []
    s1 = r.get("echo_sequential")
    if s1:
        q = s1["ratios"]
        out.append(("1. sequential msgs/s >= 0.9x raw lws", q["lifeline_vs_raw_lws"] >= 0.9,
                    f"{q['lifeline_vs_raw_lws']}x"))
        out.append(("1. sequential msgs/s >= 3x Node ws", q["lifeline_vs_node_ws"] >= 3,
                    f"{q['lifeline_vs_node_ws']}x"))
    s2 = r.get("echo_pipelined")
    if s2:
        for size, d in s2["sizes"].items():
            q = d["ratios"]
            out.append((f"2. pipelined {size} B msgs/s >= 0.9x raw lws",
                        q["lifeline_vs_raw_lws"] >= 0.9, f"{q['lifeline_vs_raw_lws']}x"))
            out.append((f"2. pipelined {size} B msgs/s >= 3x Node ws",
                        q["lifeline_vs_node_ws"] >= 3, f"{q['lifeline_vs_node_ws']}x"))
    s3 = r.get("idle")
    if s3:
        c = s3["contenders"]
        out.append(("3. idle wake-ups <= 6/min", c["lifeline"]["wakeups_per_min"] <= 6,
                    f"{c['lifeline']['wakeups_per_min']}/min"))
        out.append(("3. idle CPU below Node ws", c["lifeline"]["cpu_s"] < c["node_ws"]["cpu_s"],
                    f"{c['lifeline']['cpu_ms_per_min']} vs {c['node_ws']['cpu_ms_per_min']} ms/min"))
    s4 = r.get("memory")
    if s4:
        worst = max(s["heap_per_client"] for s in s4["sets"])
        out.append(("4. heap per idle client <= 64 KiB", worst <= 65536, f"{worst / 1024:.1f} KiB"))
        out.append(("4. no heap growth over cycles", s4["heap_growth_bytes"] <= 0,
                    f"{s4['heap_growth_bytes']} B over {s4['cycles']} cycles"))
    s5 = r.get("detection")
    if s5:
        out.append(("5. detection within ping interval + timeout + 100 ms",
                    s5["detection"]["all_within_bound_plus_slack"],
                    f"max {s5['detection']['ms']['max']} ms (bound {s5['detection']['bound_ms']})"))
        out.append(("5. recovery in backoff within the wait left + 100 ms",
                    s5["recovery_in_backoff"]["all_within_wait_left_plus_slack"],
                    f"late vs schedule max {s5['recovery_in_backoff']['late_vs_schedule_ms']['max']} ms"))
        out.append(("5. recovery in server_down within probe interval + 100 ms",
                    s5["recovery_in_server_down"]["all_within_probe_interval_plus_slack"],
                    f"max {s5['recovery_in_server_down']['ms']['max']} ms "
                    f"(bound {s5['recovery_in_server_down']['bound_ms']})"))
    s7 = r.get("fanout")
    if s7:
        q = s7["ratios"]["deliveries_per_cpu_s_lifeline_vs_node"]
        out.append(("7. deliveries per CPU second >= 2x Node ws server", q is not None and q >= 2,
                    f"{q}x"))
        m = s7["contenders"]["lifeline_server"]["idle_10000_rss_mib"]
        out.append(("7. 10 000 idle connections <= 100 MB", m <= 100 * 1e6 / 2**20, f"{m} MiB"))
    s11 = r.get("c50k")
    if s11:
        m = s11["single"]["idle_10000"]["rss_mib"]
        out.append(("11. 10 000 idle connections <= 100 MB (one instance)",
                    m <= 100 * 1e6 / 2**20, f"{m} MiB"))
        c, b = s11["cluster"]["total"], s11["cluster"]["broadcast"]
        out.append(("11. 50 000 idle connections held, each reached by a broadcast",
                    c["established"] >= 50000 and b["reached"] >= 50000,
                    f"{c['established']} held, {b['reached']} reached"))
    s9 = r.get("delivery")
    if s9:
        q = s9["throughput"]["ratios"]
        out.append(("9. outbox file (NORMAL) acknowledged msgs/s >= 0.5x best-effort lifeline",
                    q["normal_vs_best_effort"] >= 0.5, f"{q['normal_vs_best_effort']}x"))
        out.append(("9. outbox file (NORMAL) acknowledged msgs/s >= 1x mosquitto QoS 1",
                    q["normal_vs_mosquitto"] >= 1, f"{q['normal_vs_mosquitto']}x"))
        rs = s9["resume"]
        out.append((f"9. resume: {rs['messages']} replayed within 1 s of the restart, "
                    f"recovered=1 replayed={rs['messages']}",
                    rs["all_recovered_with_every_message"] and rs["start_to_last_ms"]["max"] <= 1000,
                    f"max {rs['start_to_last_ms']['max']:.0f} ms over {len(rs['trials'])} "
                    f"trial(s); recovered/replayed "
                    + ", ".join(f"{x['recovered']}/{x['replayed']}" for x in rs["trials"])))
        b = s9["backlog"]
        out.append(("9. outbox file shrinks back after the backlog drains", b["shrank_back"],
                    f"{b['held_bytes'] / 2**20:.1f} MiB held -> {b['drained_bytes'] / 1024:.0f} KiB"))
    return out


def delivery_table(s9):
    t = s9["throughput"]
    c = t["contenders"]
    ws = ("best_effort", "reliable_memory", "reliable_normal", "reliable_full", "mosquitto_qos1")
    L = [f"| 9 delivery, {t['count']:,} x {t['size']} B, window {t['window']} | best-effort "
         f"lifeline | reliable, memory | reliable, file NORMAL | reliable, file FULL | "
         f"mosquitto QoS 1 |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    L.append("| acknowledged msgs/s, median of " + str(t["rounds"]) + " | "
             + " | ".join(f(c[w]["msgs_per_s"]["median"]) for w in ws) + " |")
    L.append("| min - max | " + " | ".join(
        f"{f(c[w]['msgs_per_s']['min'])} - {f(c[w]['msgs_per_s']['max'])}" for w in ws) + " |")
    L.append("| client CPU s per 1M msgs | "
             + " | ".join(f(c[w]["cpu_s_per_million"], 1) for w in ws) + " |")
    L.append("| acks per message | | " + " | ".join(
        f(c[w]["server_acks_per_msg"], 4) for w in ws[1:4]) + " | 1 (PUBACK) |")
    q = t["ratios"]
    L.append(f"| vs best-effort lifeline | 1 | {q['memory_vs_best_effort']}x | "
             f"{q['normal_vs_best_effort']}x | {q['full_vs_best_effort']}x | |")
    L.append(f"| vs mosquitto QoS 1 | | {q['memory_vs_mosquitto']}x | "
             f"{q['normal_vs_mosquitto']}x | {q['full_vs_mosquitto']}x | 1 |")
    a = s9["ack_batching"]
    L.append("")
    L.append(f"| 9 ack batching (ack_every/ack_delay_ms), outbox file NORMAL, {a['count']:,} "
             f"x {a['size']} B | one-way msgs/s | server acks per msg | echo msgs/s | "
             f"server acks per msg | client acks per echo |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for p in a["pairs"]:
        o, e = p["one_way"], p["echo"]
        L.append(f"| {p['ack_every']}/{p['ack_delay_ms']} | {f(o['msgs_per_s']['median'])} | "
                 f"{o['server_acks_per_msg']} | {f(e['msgs_per_s']['median'])} | "
                 f"{e['server_acks_per_msg']} | {e['client_acks_per_msg']} |")
    rs, b = s9["resume"], s9["backlog"]
    L.append("")
    L.append(f"Resume ({rs['messages']:,} messages sent while away {rs['away_s']} s, "
             f"--replay-max {rs['replay_max']}): start -> last replayed message "
             + ", ".join(f"{x['start_to_last_ms']:.0f} ms (connected after "
                         f"{x['start_to_connected_ms']:.0f}, recovered {x['recovered']}, replayed "
                         f"{x['replayed']})" for x in rs["trials"]) + ".")
    L.append(f"Backlog ({b['messages']:,} x {b['size']} B queued offline in an outbox file): "
             f"{b['held_db']:,} B + WAL {b['held_wal']:,} B held; drained in "
             f"{b['drain_s']:.2f} s to {b['drained_db']:,} B + WAL {b['drained_wal']:,} B "
             f"(closed: {b['closed_db']:,} B).")
    return L


def c50k_table(s):
    """Scenario 11: one row per instance, the cluster's total, and one
    instance alone at 10 000 and at its descriptor limit."""
    L = ["| 11 idle connections | held (failed) | open (s) | descriptors | RSS (MiB) "
         "| RSS per connection (KiB) | broadcast reached |",
         "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    one = s["single"]
    x = one["idle_10000"]
    L.append(f"| one instance, 10 000 | {f(x['established'])} ({x['failed']}) | {x['open_s']} | "
             f"{f(x['fds'])} | {x['rss_mib']} | {x['rss_per_conn_kib']} | |")
    x, b = one["full"], one["broadcast"]
    L.append(f"| one instance, up to the descriptor limit ({f(one['fd_limit'])}) | "
             f"{f(x['established'])} ({x['failed']}) | +{x['open_s_second_batch']} | "
             f"{f(x['fds'])} | {x['rss_mib']} | {x['rss_per_conn_kib']} | "
             f"{f(b['reached'])} |")
    c = s["cluster"]
    for x in c["instances"]:
        L.append(f"| cluster, instance {x['instance']} | {f(x['established'])} ({x['failed']}) | "
                 f"{x['open_s']} | {f(x['fds'])} | {x['rss_mib']} | {x['rss_per_conn_kib']} | |")
    t, b = c["total"], c["broadcast"]
    L.append(f"| cluster, {len(c['instances'])} instances + redis-server | "
             f"{f(t['established'])} ({t['failed']}) | {c['open_s_total']} | | "
             f"{t['rss_mib']} (redis {t['redis_rss_kib'] / 1024:.1f}) | "
             f"{t['rss_per_conn_kib']} | {f(b['reached'])} ({f(b['delivered'])} received) |")
    return L


def table(r):
    L = []
    L.append("| scenario | metric | lifeline | raw lws | Node ws | Python websockets |")
    L.append("| --- | --- | ---: | ---: | ---: | ---: |")
    s1 = r.get("echo_sequential")
    if s1:
        c = s1["contenders"]
        row = lambda k, nd=0: " | ".join(f(c[w][k], nd) for w in  # noqa: E731
                                         ("lifeline", "raw_lws", "node_ws", "python_websockets"))
        L.append(f"| 1 echo sequential 64 B | msgs/s | {row('msgs_per_s')} |")
        for p in ("p50", "p99", "p999"):
            L.append(f"| 1 echo sequential 64 B | RTT {p.replace('p999', 'p99.9')} (us) | "
                     f"{row('rtt_' + p + '_us')} |")
        L.append(f"| 1 (lifeline, send from an app thread) | msgs/s; RTT p50/p99 (us) | "
                 f"{f(c['lifeline_thread']['msgs_per_s'])}; {c['lifeline_thread']['rtt_p50_us']}/"
                 f"{c['lifeline_thread']['rtt_p99_us']} | | | |")
    s2 = r.get("echo_pipelined")
    if s2:
        for size, d in s2["sizes"].items():
            c = d["contenders"]
            ws = ("lifeline", "raw_lws", "node_ws", "python_websockets")
            label = "64 B" if size == "64" else "16 KiB"
            L.append(f"| 2 echo pipelined x100, {label} | msgs/s | "
                     + " | ".join(f(c[w]["msgs_per_s"]) for w in ws) + " |")
            L.append(f"| 2 echo pipelined x100, {label} | client CPU s per 1M msgs | "
                     + " | ".join(f(c[w]["cpu_s_per_million"], 1) for w in ws) + " |")
    s3 = r.get("idle")
    if s3:
        c = s3["contenders"]
        per = " (extrapolated)" if s3["extrapolated_per_minute"] else ""
        L.append(f"| 3 idle {s3['window_s']} s, 30 s ping | wake-ups/min{per} | "
                 f"{c['lifeline']['wakeups_per_min']} | | {c['node_ws']['wakeups_per_min']} | "
                 f"{c['python_websockets']['wakeups_per_min']} |")
        L.append(f"| 3 idle | CPU ms/min | {c['lifeline']['cpu_ms_per_min']} | | "
                 f"{c['node_ws']['cpu_ms_per_min']} | {c['python_websockets']['cpu_ms_per_min']} |")
        L.append(f"| 3 idle | RSS (MiB) | {c['lifeline']['rss_kib'] / 1024:.1f} | | "
                 f"{c['node_ws']['rss_kib'] / 1024:.1f} | "
                 f"{c['python_websockets']['rss_kib'] / 1024:.1f} |")
    s4 = r.get("memory")
    if s4:
        for s in s4["sets"]:
            L.append(f"| 4 memory, {s['clients']} clients, 1 loop | heap per client (KiB); RSS "
                     f"per client (KiB) | {s['heap_per_client'] / 1024:.1f}; "
                     f"{s['rss_per_client_kib']:.1f} | | | |")
        L.append(f"| 4 memory | heap growth over {s4['cycles']} connect/disconnect cycles | "
                 f"{s4['heap_growth_bytes']} B | | | |")
    s5 = r.get("detection")
    if s5:
        d, b, sd = s5["detection"], s5["recovery_in_backoff"], s5["recovery_in_server_down"]
        L.append(f"| 5 detection ({s5['trials']} trials) | silent -> left connected, "
                 f"min/median/max (ms); bound {d['bound_ms']} | {d['ms']['min']}/"
                 f"{d['ms']['median']}/{d['ms']['max']} | | | |")
        L.append(f"| 5 recovery in backoff | connected minus scheduled time, min/median/max (ms) | "
                 f"{b['late_vs_schedule_ms']['min']}/{b['late_vs_schedule_ms']['median']}/"
                 f"{b['late_vs_schedule_ms']['max']} | | | |")
        L.append(f"| 5 recovery in server_down | back -> connected, min/median/max (ms); probe "
                 f"every {sd['bound_ms']} | {sd['ms']['min']}/{sd['ms']['median']}/"
                 f"{sd['ms']['max']} | | | |")
    s6 = r.get("storm")
    if s6:
        for mode, m in s6["modes"].items():
            L.append(f"| 6 storm, 1000 clients, {mode} jitter | peak attempts/100 ms; attempts; "
                     f"99 % back (s) | {m['peak_attempts_per_100ms']}; {m['attempts']}; "
                     f"{m['time_to_99pct_s']} | | | |")
    s8 = r.get("outbox")
    if s8:
        for x in s8["runs"]:
            kind = "memory" if x["backend"] == "memory" else f"file, {x['durability']}"
            L.append(f"| 8 outbox ({kind}), {x['threads']} thread(s), {x['size']} B | appends/s; "
                     f"appends per commit; latency p50/p99 (us) | {f(x['appends_per_s'])}; "
                     f"{x['appends_per_commit']}; {x['latency_p50_us']}/{x['latency_p99_us']} "
                     f"| | | |")
        for x in s8["sizes"]:
            L.append(f"| 8 outbox file, {x['messages']} x {x['size']} B held | bytes per message "
                     f"at rest; with the WAL while open | {x['bytes_per_message_rest']:.0f}; "
                     f"{x['bytes_per_message_open']:.0f} | | | |")
    s7 = r.get("fanout")
    if s7:
        lf, nd = s7["contenders"]["lifeline_server"], s7["contenders"]["node_ws_server"]
        L.append("")
        L.append("| 7 server fan-out (5000 conns, 50 stores) | lifeline-server | Node ws server |")
        L.append("| --- | ---: | ---: |")
        L.append(f"| deliveries/s | {f(lf['deliveries_per_s'])} | {f(nd['deliveries_per_s'])} |")
        L.append(f"| server CPU share of a core | {lf['server_cpu_share']} | "
                 f"{nd['server_cpu_share']} |")
        L.append(f"| deliveries per server CPU second, median of {s7.get('rounds', 1)} | "
                 f"{f(lf['deliveries_per_cpu_s'])} | {f(nd['deliveries_per_cpu_s'])} |")
        if "deliveries_per_cpu_s_rounds" in lf:
            def spread(x):
                v = sorted(x["deliveries_per_cpu_s_rounds"])
                return f"{f(v[0])} - {f(v[-1])}"
            L.append(f"| min - max | {spread(lf)} | {spread(nd)} |")
        L.append(f"| delivery latency p50 / p99 (ms) | {lf['lat_p50_us'] / 1000:.1f} / "
                 f"{lf['lat_p99_us'] / 1000:.1f} | {nd['lat_p50_us'] / 1000:.1f} / "
                 f"{nd['lat_p99_us'] / 1000:.1f} |")
        L.append(f"| RSS per connection (KiB) | {lf['rss_per_conn_kib']} | "
                 f"{nd['rss_per_conn_kib']} |")
        L.append(f"| RSS with 10 000 idle connections (MiB) | {lf['idle_10000_rss_mib']} | "
                 f"{nd['idle_10000_rss_mib']} |")
    s10 = r.get("cluster")
    if s10:
        L.append("")
        L.append("| 10 fan-out across instances (5000 conns, 50 stores; every server process "
                 "on one core) | deliveries/s | delivered of expected | server-side CPU s "
                 "per 1M deliveries: all (lifeline, redis, haproxy) | p50 / p99 latency (ms) |")
        L.append("| --- | ---: | ---: | ---: | ---: |")
        for x in s10["runs"]:
            what = ("one lifeline-server alone" if not x["instances"] else
                    f"{x['instances']} instance(s) + redis-server + HAProxy")
            per_m = 1e6 / x["deliveries_per_cpu_s"] if x["deliveries_per_cpu_s"] else 0
            parts = ", ".join(f"{1e6 * v / x['delivered']:.1f}" if x["delivered"] else "-"
                              for v in (x["cpu_s_by_process"].get(k, 0)
                                        for k in ("lifeline", "redis", "haproxy")))
            L.append(f"| {what} | {f(x['deliveries_per_s'])} | {x['delivered_share']:.2%} | "
                     f"{per_m:.1f} ({parts}) | {x['lat_p50_us'] / 1000:.1f} / "
                     f"{x['lat_p99_us'] / 1000:.1f} |")
    s11 = r.get("c50k")
    if s11:
        L.append("")
        L.extend(c50k_table(s11))
    s9 = r.get("delivery")
    if s9:
        L.append("")
        L.extend(delivery_table(s9))
    L.append("")
    L.append("| target | met | measured |")
    L.append("| --- | --- | --- |")
    for text, met, meas in targets(r):
        L.append(f"| {text} | {'yes' if met else '**no**'} | {meas} |")
    return "\n".join(L)


def plots(r, outdir, rtts=None):
    paths = []
    s6 = r.get("storm")
    if s6:
        fig, ax = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
        for i, (mode, m) in enumerate(s6["modes"].items()):
            a = m["attempts_s"]
            if not a:
                continue
            end = max(a + m["connected_s"]) + 0.1
            bins = [k * 0.1 for k in range(int(end / 0.1) + 2)]
            ax[i].hist(a, bins=bins, color="tab:red" if mode == "additive" else "tab:blue",
                       alpha=0.8, label="connection attempts")
            ax[i].axvline(m["server_up_at_s"], color="k", ls="--", lw=1, label="server back")
            if m["time_to_99pct_s"]:
                ax[i].axvline(m["time_to_99pct_s"], color="g", ls=":", lw=1.5,
                              label="99 % connected")
            ax[i].set_ylabel("attempts / 100 ms")
            ax[i].set_title(f"{mode} jitter: {m['attempts']} attempts, peak "
                            f"{m['peak_attempts_per_100ms']} per 100 ms", fontsize=10)
            ax[i].legend(fontsize=8)
        ax[-1].set_xlabel("seconds since the server was stopped")
        fig.suptitle("Reconnect storm: 1000 lifeline clients on one loop, server restarted")
        fig.tight_layout()
        p = os.path.join(outdir, "storm.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    if rtts:
        fig, ax = plt.subplots(figsize=(9, 5))
        names = {"lifeline": "lifeline", "lifeline_thread": "lifeline (app-thread send)",
                 "raw_lws": "raw libwebsockets", "node_ws": "Node ws",
                 "python_websockets": "Python websockets"}
        for who, v in rtts.items():
            if not v:
                continue
            n = len(v)
            # CCDF on log axes shows the tail
            xs = v
            ys = [1 - i / n for i in range(n)]
            step = max(1, n // 4000)
            ax.plot(xs[::step] + [xs[-1]], ys[::step] + [1 / n], label=names.get(who, who))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("round-trip time (us), 64 B sequential echo")
        ax.set_ylabel("fraction of round trips slower (CCDF)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        ax.set_title("Echo RTT distribution (lifeline-server, loopback)")
        fig.tight_layout()
        p = os.path.join(outdir, "rtt.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    return paths
