"""Scenario 9: reliable delivery (lifeline.v1) against lifeline-server on
loopback, with clients/lifeline_delivery.c, and MQTT QoS 1 through
Debian's mosquitto broker with clients/mqtt_qos1_pub.c (libmosquitto) as
the acknowledged-publish peer.

- Acknowledged throughput: COUNT messages of 256 B from one app thread,
  from the first send to the last acknowledgement: best-effort lifeline
  (until the server's answer to an echo request sent after the last
  message: every message read and handled), reliable with the outbox in
  memory, in a file at NORMAL, at FULL (until on_acked of the last id), and
  mosquitto QoS 1 (until the last PUBACK). Each message is a broadcast to a
  store with no other member, so the server answers nothing (an MQTT
  publish to a topic with no subscriber). Window: 1000 messages not yet
  acknowledged, lifeline's outbox (queue_max_messages, its default) and
  libmosquitto's in-flight limit (MOSQ_OPT_SEND_MAXIMUM). Rounds, order
  rotated, median kept.
- Ack batching: the same with the outbox file at NORMAL, for a few
  (ack_every, ack_delay_ms) pairs given to the client and the server alike;
  one-way (broadcasts) and echo (the server echoes each message: both
  directions are acknowledged). Messages/s, the server's acks per client
  message (on_acked calls) and the client's acks per server message (from
  the server's stats: units in minus data minus the hello).
- Resume: a reliable client with an outbox file connects and stops; while
  it is away (5 s), RESUME_N admin broadcasts (POST
  /api/v1/stores/S/broadcast) go to its store; it starts again from the
  same file: the time from start to the last replayed message in
  on_message, and on_resumed's recovered and replayed.
- Backlog: 10 000 messages queued in an outbox file while the client is not
  started, then delivered: the file's size with them and once drained
  (bytes per queued message: scenario 8)."""
import http.client
import json
import os
import socket
import time

from common import (BIN, CLIENT_CPU, SERVER_CPU, TMP, free_port, log, percentile, ratio, run_json,
                    spawn, start_server, stop)

SIZE = 256
WINDOW = 1000          # lifeline's default queue_max_messages
CONTENDERS = ["best_effort", "reliable_memory", "reliable_normal", "reliable_full",
              "mosquitto_qos1"]
ACK_PAIRS = [(1, 0), (8, 5), (32, 20), (128, 50)]
RESUME_N = 10000
AWAY_S = 5.0
BACKLOG_N = 10000

_seq = [0]


def _name(prefix):
    _seq[0] += 1
    return f"{prefix}{os.getpid()}-{_seq[0]}"


def _fresh(path):
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass
    return path


def _url(port, store, user="bench"):
    return f"ws://127.0.0.1:{port}/ws?store={store}&user={user}"


def _http(port, method, path, body=None, conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, body=body,
              headers={"Content-Type": "application/json"} if body is not None else {})
    r = c.getresponse()
    data = r.read()
    if conn is None:
        c.close()
    if r.status // 100 != 2:
        raise RuntimeError(f"{method} {path}: HTTP {r.status} {data[:200]!r}")
    return json.loads(data)


def _stats(port):
    return _http(port, "GET", "/api/v1/websockets/stats")


def start_mosquitto():
    """mosquitto on a free loopback port with its own config file (in
    memory: persistence off); returns (process, port)."""
    port = free_port()
    conf = os.path.join(TMP, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                "log_dest stderr\nlog_type error\nlog_type warning\n")
    p = spawn(["/usr/sbin/mosquitto", "-c", conf], SERVER_CPU,
              stderr=open(os.path.join(TMP, "mosquitto.log"), "a"))
    end = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p, port
        except OSError:
            if p.poll() is not None or time.monotonic() > end:
                raise RuntimeError("mosquitto did not start (bench/results/tmp/mosquitto.log)")
            time.sleep(0.05)


def _lifeline(port, count, extra, window=WINDOW):
    cmd = [os.path.join(BIN, "lifeline_delivery"), "--url", _url(port, _name("d")), "--count",
           str(count), "--size", str(SIZE), "--window", str(window)] + extra
    return run_json(cmd, CLIENT_CPU, timeout=300)


def _one(who, count, lport, mport):
    outbox = _fresh(os.path.join(TMP, "delivery-outbox.db"))
    if who == "best_effort":
        return _lifeline(lport, count, ["--mode", "best_effort"])
    if who == "reliable_memory":
        return _lifeline(lport, count, ["--mode", "reliable"])
    if who == "reliable_normal":
        return _lifeline(lport, count, ["--mode", "reliable", "--outbox", outbox])
    if who == "reliable_full":
        return _lifeline(lport, count, ["--mode", "reliable", "--outbox", outbox,
                                        "--durability", "full"])
    if who == "mosquitto_qos1":
        return run_json([os.path.join(BIN, "mqtt_qos1_pub"), "--port", str(mport), "--count",
                         str(count), "--size", str(SIZE), "--window", str(WINDOW)], CLIENT_CPU,
                        timeout=300)
    raise ValueError(who)


def _summary(vals):
    v = sorted(vals)
    return {"median": percentile(v, 0.5), "min": v[0], "max": v[-1], "rounds": vals}


def throughput(count, rounds):
    log(f"scenario 9: acknowledged throughput, {count} x {SIZE} B, window {WINDOW}, "
        f"{rounds} round(s)")
    srv, lport, _ = start_server(db=_fresh(os.path.join(TMP, "delivery-server.db")))
    mq, mport = start_mosquitto()
    per = {w: [] for w in CONTENDERS}
    runs = {w: [] for w in CONTENDERS}
    try:
        for r in range(rounds):
            order = CONTENDERS[r % len(CONTENDERS):] + CONTENDERS[:r % len(CONTENDERS)]
            for who in order:
                x = _one(who, count, lport, mport)
                per[who].append(x["msgs_per_s"])
                runs[who].append(x)
                log(f"  round {r + 1} {who}: {x['msgs_per_s']:,.0f} msgs/s")
    finally:
        stop(srv)
        stop(mq)
    c = {}
    for who in CONTENDERS:
        c[who] = {"msgs_per_s": _summary(per[who]),
                  "cpu_s_per_million": round(
                      sorted(x["cpu_s"] for x in runs[who])[len(runs[who]) // 2] / count * 1e6, 1)}
        if who.startswith("reliable"):
            c[who]["server_acks_per_msg"] = round(
                sorted(x["acks_in"] for x in runs[who])[len(runs[who]) // 2] / count, 4)
    m = {w: c[w]["msgs_per_s"]["median"] for w in CONTENDERS}
    # the same ratios round by round, to show their spread within the run
    per_round = [{"normal_vs_best_effort": ratio(per["reliable_normal"][i], per["best_effort"][i]),
                  "normal_vs_mosquitto": ratio(per["reliable_normal"][i],
                                               per["mosquitto_qos1"][i])}
                 for i in range(rounds)]
    return {"count": count, "size": SIZE, "window": WINDOW, "rounds": rounds, "contenders": c,
            "ratios": {
                "normal_vs_best_effort": ratio(m["reliable_normal"], m["best_effort"]),
                "full_vs_best_effort": ratio(m["reliable_full"], m["best_effort"]),
                "memory_vs_best_effort": ratio(m["reliable_memory"], m["best_effort"]),
                "normal_vs_mosquitto": ratio(m["reliable_normal"], m["mosquitto_qos1"]),
                "full_vs_mosquitto": ratio(m["reliable_full"], m["mosquitto_qos1"]),
                "memory_vs_mosquitto": ratio(m["reliable_memory"], m["mosquitto_qos1"]),
            }, "ratios_per_round": per_round}


def ack_batching(count, rounds):
    log(f"scenario 9: ack batching {ACK_PAIRS}, {count} x {SIZE} B, outbox file NORMAL, "
        f"{rounds} round(s)")
    res = {f"{a}/{d}": {"one_way": [], "echo": []} for a, d in ACK_PAIRS}
    for r in range(rounds):
        k = r % len(ACK_PAIRS)
        for a, d in ACK_PAIRS[k:] + ACK_PAIRS[:k]:
            srv, port, _ = start_server(
                db=_fresh(os.path.join(TMP, "delivery-server.db")),
                extra=["--ack-every", str(a), "--ack-delay-ms", str(d)])
            try:
                for kind, key in (("broadcast", "one_way"), ("echo", "echo")):
                    before = _stats(port)
                    outbox = _fresh(os.path.join(TMP, "delivery-outbox.db"))
                    x = _lifeline(port, count, ["--mode", "reliable", "--outbox", outbox,
                                                "--ack-every", str(a), "--ack-delay-ms", str(d),
                                                "--kind", kind])
                    after = _stats(port)
                    units = after["messages_in"] - before["messages_in"]
                    # the client's acks: every unit in but the data and the hello
                    x["client_acks"] = units - count - 1
                    res[f"{a}/{d}"][key].append(x)
                    log(f"  {a}/{d} {key}: {x['msgs_per_s']:,.0f} msgs/s, server acks "
                        f"{x['acks_in']}, client acks {x['client_acks']}")
            finally:
                stop(srv)
    out = []
    for a, d in ACK_PAIRS:
        row = {"ack_every": a, "ack_delay_ms": d}
        for key in ("one_way", "echo"):
            xs = res[f"{a}/{d}"][key]
            mid = sorted(xs, key=lambda x: x["msgs_per_s"])[len(xs) // 2]
            row[key] = {"msgs_per_s": _summary([x["msgs_per_s"] for x in xs]),
                        "server_acks_per_msg": round(mid["acks_in"] / count, 4),
                        "client_acks_per_msg": (round(mid["client_acks"] / count, 4)
                                                if key == "echo" else None),
                        "cpu_s_per_million": round(mid["cpu_s"] / count * 1e6, 1)}
        out.append(row)
    return {"count": count, "size": SIZE, "window": WINDOW, "rounds": rounds, "pairs": out}


def resume(trials):
    log(f"scenario 9: resume, {RESUME_N} messages sent while away {AWAY_S} s, {trials} trial(s)")
    # --replay-max: the default (10 000) would hold them exactly; a margin
    srv, port, _ = start_server(db=_fresh(os.path.join(TMP, "delivery-server.db")),
                                extra=["--replay-max", str(RESUME_N * 2)])
    out = []
    try:
        for _ in range(trials):
            store, user = _name("r"), _name("u")
            outbox = _fresh(os.path.join(TMP, "delivery-resume.db"))
            base = [os.path.join(BIN, "lifeline_delivery"), "--url", _url(port, store, user),
                    "--mode", "reliable", "--outbox", outbox]
            run_json(base + ["--phase", "first"], CLIENT_CPU)
            t_away = time.monotonic()
            # the store's broadcast: {"type":"broadcast","store":S,"from":"server","data":D}
            # of SIZE bytes; the session without a connection keeps each one
            pad = SIZE - len(json.dumps({"type": "broadcast", "store": store, "from": "server",
                                         "data": ""}, separators=(",", ":")))
            body = json.dumps("y" * pad)
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            kept = 0
            for _ in range(RESUME_N):
                kept += _http(port, "POST", f"/api/v1/stores/{store}/broadcast", body,
                              conn=c)["delivered"]
            c.close()
            sent_s = time.monotonic() - t_away
            if kept != RESUME_N:
                raise RuntimeError(f"resume: {kept} of {RESUME_N} broadcasts kept")
            time.sleep(max(0.0, t_away + AWAY_S - time.monotonic()))
            x = run_json(base + ["--phase", "replay", "--count", str(RESUME_N)], CLIENT_CPU)
            x["broadcasts_s"] = round(sent_s, 3)
            x["ok"] = x["recovered"] == 1 and x["replayed"] == RESUME_N
            out.append(x)
            log(f"  start -> last replayed {x['start_to_last_ms']:.1f} ms, recovered "
                f"{x['recovered']}, replayed {x['replayed']}")
    finally:
        stop(srv)
    return {"messages": RESUME_N, "away_s": AWAY_S, "replay_max": RESUME_N * 2,
            "trials": out,
            "start_to_last_ms": _summary([x["start_to_last_ms"] for x in out]),
            "all_recovered_with_every_message": all(x["ok"] for x in out)}


def backlog():
    log(f"scenario 9: backlog, {BACKLOG_N} x {SIZE} B queued offline in an outbox file")
    srv, port, _ = start_server(db=_fresh(os.path.join(TMP, "delivery-server.db")))
    try:
        outbox = _fresh(os.path.join(TMP, "delivery-backlog.db"))
        x = _lifeline(port, BACKLOG_N, ["--phase", "backlog", "--mode", "reliable", "--outbox",
                                        outbox], window=BACKLOG_N * 2)
    finally:
        stop(srv)
    x["held_bytes"] = x["held_db"] + x["held_wal"]
    x["drained_bytes"] = x["drained_db"] + x["drained_wal"]
    x["shrank_back"] = x["drained_bytes"] <= 64 * 1024
    return x


def run(quick):
    count = 5000 if quick else 20000
    rounds = 1 if quick else 3
    return {"throughput": throughput(count, rounds),
            # pairs differ by less than rounds of one pair do: more rounds
            "ack_batching": ack_batching(count, 1 if quick else 5),
            "resume": resume(1 if quick else 3),
            "backlog": backlog()}
