"""Scenario 4: heap per connected client on one shared loop (100 and 1000
clients) and heap growth over connect/disconnect cycles (lifeline_mem)."""
import os

from common import BIN, CLIENT_CPU, log, run_json, start_server, stop


def run(quick):
    cycles = 2000
    srv, port, _ = start_server("lifeline")
    try:
        log(f"scenario 4: memory, 100 and 1000 clients, {cycles} cycles")
        r = run_json([os.path.join(BIN, "lifeline_mem"), "--url-base",
                      f"ws://127.0.0.1:{port}/ws", "--clients", "100,1000", "--cycles",
                      str(cycles)], CLIENT_CPU, timeout=300)
    finally:
        stop(srv)
    ch = r["cycle_heap"]
    growth = ch[-1][1] - ch[0][1] if ch else None
    return {"sets": r["sets"], "baseline_heap": r["baseline_heap"], "cycles": r["cycles_done"],
            "cycles_seconds": r["cycles_seconds"], "cycle_heap": ch,
            "heap_growth_bytes": growth,
            "heap_growth_per_cycle": round(growth / max(1, ch[-1][0] - ch[0][0]), 3)
            if ch else None}
