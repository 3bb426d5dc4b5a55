"""GET /metrics of an instance with --redis, read by prometheus_client's
parser: Redis up, store messages published and received, and, with Redis
gone, Redis down, errors and dropped frames, then a reconnect."""

import asyncio
import json
import subprocess
import urllib.request

import websockets
from prometheus_client.parser import text_string_to_metric_families

from cluster import SERVER, wait_until


def metrics(inst):
    """{sample name: value} of the instance's unlabelled samples."""
    return metrics_at(inst.port)


def metrics_at(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        text = r.read().decode()
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples
            if not s.labels}


def test_the_cluster_figures_are_in_the_metrics(instances, redis):
    a, b = instances(2)

    async def go():
        async with websockets.connect(f"ws://127.0.0.1:{a.port}/ws?store=s&user=x") as x, \
                websockets.connect(f"ws://127.0.0.1:{b.port}/ws?store=s&user=y") as y:
            await asyncio.to_thread(wait_until, lambda: all(
                metrics(i)["lifeline_server_redis_up"] == 1 for i in (a, b)), 10, "both up")
            before_a, before_b = metrics(a), metrics(b)
            await x.send(json.dumps({"type": "broadcast", "data": 1}))
            while json.loads(await asyncio.wait_for(y.recv(), 5))["type"] != "broadcast":
                pass  # presence notices first
            after_a, after_b = metrics(a), metrics(b)
            assert (after_a["lifeline_server_cluster_frames_published_total"] >
                    before_a["lifeline_server_cluster_frames_published_total"])
            assert (after_b["lifeline_server_cluster_frames_received_total"] >
                    before_b["lifeline_server_cluster_frames_received_total"])

            redis.kill()
            await asyncio.to_thread(wait_until, lambda: metrics(a)["lifeline_server_redis_up"] == 0,
                                    10, "a sees Redis down")
            await x.send(json.dumps({"type": "broadcast", "data": 2}))  # cannot be published
            down = await asyncio.to_thread(wait_until, lambda: (
                m := metrics(a))["lifeline_server_cluster_frames_dropped_total"] >= 1 and m, 10,
                "a dropped frame")
            assert down["lifeline_server_redis_errors_total"] >= 1
            redis.start()
            back = await asyncio.to_thread(wait_until, lambda: (
                m := metrics(a))["lifeline_server_redis_up"] == 1 and m, 15, "a back on Redis")
            assert back["lifeline_server_redis_reconnects_total"] >= 1
    asyncio.run(go())


def test_without_redis_there_is_no_redis_metric(workdir):
    proc = subprocess.Popen([str(SERVER), "--port", "0", "--db", ":memory:"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=workdir)
    try:
        m = metrics_at(json.loads(proc.stdout.readline())["port"])
        assert "lifeline_server_connections_open" in m
        assert not [name for name in m if "redis" in name or "cluster" in name]
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
