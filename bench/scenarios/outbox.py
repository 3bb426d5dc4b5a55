"""Scenario 8: the client's outbox (src/store) on this machine's disk
(clients/lifeline_outbox.c, linked with the static store library):
appends per second from 1 and 8 threads at synchronous=NORMAL and FULL
(each append returns once committed; concurrent appends share a commit),
the commits taken and the append latency, the in-memory outbox for
reference; then the bytes a queued message costs in the file. Not pinned:
the 8 threads use every core, as an app's would. The files go to
bench/results/tmp (the repository's disk)."""
import os

from common import BIN, TMP, log, run_json


def run(quick):
    seconds = 1 if quick else 3
    log(f"scenario 8: outbox appends, 1 and 8 threads, NORMAL and FULL, {seconds} s each")
    return run_json([os.path.join(BIN, "lifeline_outbox"), "--dir", TMP, "--seconds",
                     str(seconds), "--threads", "1,8", "--size", "256"], timeout=300)
