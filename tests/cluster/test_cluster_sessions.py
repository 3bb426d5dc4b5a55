"""lifeline.v1 sessions shared through Redis (issue 13): a till (the
delivery proofs' tests/proof/till.c, with an outbox file) that reconnects
to another instance resumes there. Its numbers reach the cluster's journal
each once, in order, whichever instances accepted them; the server's
echoes come at most once each, in order; a resume on a live instance
replays what the till missed, and one after a kill -9 says "not recovered"
(the killed instance may have numbered messages that never left it).

With --redis and --journal, the journal is Redis's list lifeline:v1:journal
("<session> <seq> <t|b> <payload>"), committed in one script with the
marks: rows of sessions an instance served alone (Redis down) stay in its
own SQLite journal, and the test reads both."""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "proof"))

from proc import TILL, Lines, assert_each_once_in_order, last_number  # noqa: E402

from cluster import HAProxy, Instance, free_port, need, wait_until  # noqa: E402

COUNT = 3000


def redis_journal(redis):
    cli = need("redis-cli", "redis-tools")
    out = subprocess.run([cli, "-p", str(redis.port), "--raw", "LRANGE", "lifeline:v1:journal",
                          "0", "-1"], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        session, seq, _kind, payload = line.split(" ", 3)
        rows.append((session, int(seq), payload))
    return rows


def sqlite_journal(path):
    if not os.path.exists(path):
        return []
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT session, seq, payload FROM journal ORDER BY rowid").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()
    return [(str(h), q, p.decode() if isinstance(p, bytes) else p) for h, q, p in rows]


def till(url, outbox):
    return Lines([TILL, url, str(outbox), str(COUNT), "--echoes"])


def resumes(lines):
    return [x for x in lines if x.startswith("resumed ")]


def echoes_of(lines):
    return [int(x[6:]) for x in lines if x.startswith("got n=")]


def which(insts):
    """The instance the till is connected to (one connection in all)."""
    on = [i for i in insts if i.proc.poll() is None and i.stats()["active_connections"] == 1]
    return on[0] if len(on) == 1 else None


class Proxy:
    """A TCP forwarder to a port on loopback. move() closes every forwarded
    connection and sends the next ones to another port: a till moved
    between two live instances, as a load balancer does when it
    rebalances. cut_answers() (or cut_answers_after(marker): once a
    request holding marker has passed) stops passing what the target sends back
    (what the proxy's clients send still reaches it and runs), and closes
    the connections 1 s later: an instance whose Redis took a command and
    went before answering it; heal() lets new connections through again."""

    def __init__(self, target):
        self.target = target
        self.lsock = socket.create_server(("127.0.0.1", 0))
        self.port = self.lsock.getsockname()[1]
        self.cutting = False
        self.cut_after = None
        self.conns = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            try:
                if self.cutting:
                    raise OSError("cut")
                u = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns += [c, u]
            threading.Thread(target=self._pipe, args=(c, u, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c, True), daemon=True).start()

    def _pipe(self, a, b, answers):
        try:
            while data := a.recv(65536):
                if not (answers and self.cutting):
                    b.sendall(data)
                if not answers and self.cut_after and self.cut_after in data:
                    self.cut_after = None
                    self.cut_answers()
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _close_all(self):
        with self.lock:
            conns, self.conns = self.conns, []
        for x in conns:
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            x.close()

    def move(self, target):
        self.target = target
        self._close_all()

    def cut_answers(self):
        self.cutting = True
        threading.Timer(1.0, self._close_all).start()

    def cut_answers_after(self, marker):
        """cut_answers() once a request holding marker has passed."""
        self.cut_after = marker

    def heal(self):
        self.cutting = False

    def close(self):
        self.lsock.close()
        self._close_all()

    @property
    def redis_url(self):
        return f"redis://127.0.0.1:{self.port}"


def test_a_till_moved_between_live_instances_resumes_recovered_and_misses_nothing(
        workdir, redis, instances):
    i1, i2 = instances(2, extra=["--journal"])
    sw = Proxy(i1.port)
    t = till(f"ws://127.0.0.1:{sw.port}/ws?store=proof&user=till-1", Path(workdir, "till.db"))
    try:
        for k, (frm, to) in enumerate([(i1, i2), (i2, i1), (i1, i2)]):
            t.wait_for(lambda ls: len(resumes(ls)) >= k + 1, 30)
            wait_until(lambda: which([i1, i2]) is frm, 10, f"the till on {frm.name}")
            acked = last_number(t.lines, "acked")
            t.wait_for(lambda ls: last_number(ls, "acked") >= acked + 300, 60)
            sw.move(to.port)
        t.wait_for(lambda ls: "done" in ls, 120)
        assert t.wait(30) == 0
    finally:
        t.kill()
        sw.close()
    assert_each_once_in_order(redis_journal(redis), COUNT)
    for i in (i1, i2):  # every session was shared: nothing only local
        assert sqlite_journal(os.path.join(workdir, f"{i.name}.db")) == []
    echoes = echoes_of(t.lines)
    assert echoes == list(range(1, COUNT + 1)), (
        f"{COUNT - len(set(echoes))} echoes lost, {len(echoes) - len(set(echoes))} doubled")
    r = resumes(t.lines)
    # the first (a new session), then three moves between live instances
    assert len(r) == 4 and all(x.startswith("resumed 1") for x in r[1:]), r
    assert "session_released" in i1.log_text()  # i1 let go of it when i2 took it


def test_a_till_whose_instance_is_killed_resumes_on_another_through_haproxy(
        workdir, redis, instances):
    ports = [free_port() for _ in range(3)]
    insts = instances(3, ports=ports, extra=["--journal"])
    h = HAProxy(workdir, ports).start()
    t = till(f"ws://127.0.0.1:{h.port}/ws?store=proof&user=till-1", Path(workdir, "till.db"))
    kills = 0
    try:
        for k in range(2):
            t.wait_for(lambda ls: len(resumes(ls)) >= k + 1, 60)
            wait_until(lambda: which(insts) is not None, 10, "the till on one instance")
            victim = which(insts)
            acked = last_number(t.lines, "acked")
            t.wait_for(lambda ls: last_number(ls, "acked") >= acked + 300, 60)
            victim.kill9()
            kills += 1
            victim.start()  # the same port: HAProxy's check takes it back
        t.wait_for(lambda ls: "done" in ls, 120)
        assert t.wait(30) == 0
    finally:
        t.kill()
        h.stop()
    assert kills == 2
    assert_each_once_in_order(redis_journal(redis), COUNT)
    echoes = echoes_of(t.lines)
    assert len(echoes) == len(set(echoes)), "an echo came twice"
    assert echoes == sorted(echoes), "echoes out of order"
    assert echoes[-1] == COUNT
    r = resumes(t.lines)
    # the first, then one after each kill: not recovered (the killed
    # instance may have numbered echoes that never reached Redis)
    assert len(r) == 3 and all(x.startswith("resumed 0") for x in r), r


def test_redis_gone_under_a_till_doubles_nothing_and_loses_nothing(workdir, redis, instances):
    (i1,) = instances(1, extra=["--journal"])
    # ten times the numbers: 3000 can all be acked before Redis has stopped,
    # and then nothing here meets a Redis that is gone
    count = COUNT * 10
    t = Lines([TILL, f"ws://127.0.0.1:{i1.port}/ws?store=proof&user=till-1",
               str(Path(workdir, "till.db")), str(count), "--echoes"])
    try:
        t.wait_for(lambda ls: last_number(ls, "acked") >= 500, 60)
        # saved as it stops, between two commands: what it had is kept
        cli = need("redis-cli", "redis-tools")
        subprocess.run([cli, "-p", str(redis.port), "SHUTDOWN", "SAVE"], capture_output=True)
        redis.proc.wait(10)
        # a commit in flight as Redis went may or may not have reached it:
        # rather than risk a double, that session waits for Redis (1013;
        # the till reconnects, and says so, while it waits: its lines wake
        # this wait); one with nothing in flight goes on with its instance
        waited = lambda: "the session waits for Redis" in i1.log_text()  # noqa: E731
        t.wait_for(lambda ls: "done" in ls or waited(), 120)
        if waited():
            print("the session waited for Redis")
            redis.start()  # with what it saved: the commit's outcome
        t.wait_for(lambda ls: "done" in ls, 120)
        assert t.wait(30) == 0
    finally:
        t.kill()
    if redis.proc.poll() is not None:
        redis.start()  # loads what it saved
    shared = redis_journal(redis)
    local = sqlite_journal(os.path.join(workdir, "i1.db"))
    assert shared, "nothing was committed in Redis"
    assert_each_once_in_order(shared + local, count)
    log = i1.log_text()
    assert "redis_sessions_down" in log
    # its echoes: none twice, none lost (those of a commit Redis took while
    # its answer was lost are handed on once Redis says so)
    echoes = echoes_of(t.lines)
    assert len(echoes) == len(set(echoes)), "an echo came twice"
    if waited():
        assert "redis_commit_known" in log
        print(re.search(r"redis_commit_known .*", log).group(0))
    resumed_lost = sum(1 for x in t.lines if x.startswith("resumed 0"))
    assert len(set(echoes)) == count or resumed_lost > 1, (
        f"{count - len(set(echoes))} echoes lost without a resume that said so")


def test_a_till_that_connects_while_redis_is_down_is_served_by_its_instance_alone(
        workdir, redis, instances):
    (i1,) = instances(1, extra=["--journal"])
    redis.kill()
    t = till(f"ws://127.0.0.1:{i1.port}/ws?store=proof&user=till-1", Path(workdir, "till.db"))
    try:
        t.wait_for(lambda ls: "done" in ls, 120)
        assert t.wait(30) == 0
    finally:
        t.kill()
    assert_each_once_in_order(sqlite_journal(os.path.join(workdir, "i1.db")), COUNT)
    echoes = echoes_of(t.lines)
    assert echoes == list(range(1, COUNT + 1))


def test_a_session_taken_behind_its_instances_back_is_dropped_there_and_loses_nothing(
        workdir, redis, instances):
    # Another instance takes a session without asking (its owner looked
    # dead: here the hash's owner is rewritten). The instance serving it
    # learns so from the answers to its mirrors, read inside its next
    # commit's round trip, and from that commit: it drops the session once,
    # closes the connection, and the till resumes (on the same instance,
    # which claims it back) with nothing lost or doubled.
    (i1,) = instances(1, extra=["--journal"])
    cli = need("redis-cli", "redis-tools")
    t = Lines([TILL, f"ws://127.0.0.1:{i1.port}/ws?store=proof&user=till-1",
               str(Path(workdir, "till.db")), str(COUNT * 10), "--echoes"])
    try:
        t.wait_for(lambda ls: last_number(ls, "acked") >= 500, 60)
        key = [k for k in subprocess.run([cli, "-p", str(redis.port), "--raw", "KEYS",
                                          "lifeline:v1:*"], capture_output=True, text=True,
                                         check=True).stdout.split()
               if k.count(":") == 2 and k != "lifeline:v1:journal"][0]
        for _ in range(5):
            acked = last_number(t.lines, "acked")
            subprocess.run([cli, "-p", str(redis.port), "HSET", key, "owner", "gone"],
                           capture_output=True, check=True)
            # Redis answers late (less than the instance's 200 ms): the
            # answers of the mirrors sent before are read by the next commit
            redis.proc.send_signal(signal.SIGSTOP)
            time.sleep(0.1)
            redis.proc.send_signal(signal.SIGCONT)
            t.wait_for(lambda ls: last_number(ls, "acked") >= acked + 500, 60)
        t.wait_for(lambda ls: "done" in ls, 120)
        assert t.wait(30) == 0
    finally:
        t.kill()
    assert "session_moved" in i1.log_text()
    assert_each_once_in_order(redis_journal(redis), COUNT * 10)
    echoes = echoes_of(t.lines)
    assert len(echoes) == len(set(echoes)), "an echo came twice"


def test_a_commit_redis_took_without_answering_is_handed_on_once(workdir, redis):
    """One till, one instance whose Redis is behind a Proxy that drops
    Redis's answers from a commit on (the commit's script names the
    journal's key, which nothing else sends): every number once in the
    journals, every echo once, the commit's messages handed on once Redis
    answered again."""
    folder = workdir
    proxy = Proxy(redis.port)
    i1 = Instance(folder, "i1", proxy.redis_url, extra=["--journal"]).start()
    count = COUNT * 10
    t = Lines([TILL, f"ws://127.0.0.1:{i1.port}/ws?store=proof&user=till-1",
               str(Path(folder, "till.db")), str(count), "--echoes"])
    try:
        t.wait_for(lambda ls: last_number(ls, "acked") >= 500, 60)
        # the next commit runs in Redis; its answer is lost
        proxy.cut_answers_after(b"lifeline:v1:journal")
        t.wait_for(lambda ls: "done" in ls or "the session waits for Redis" in i1.log_text(),
                   120)
        proxy.heal()  # Redis answers again: a doubt is lifted at the next hello
        t.wait_for(lambda ls: "done" in ls, 120)
        assert t.wait(30) == 0
    finally:
        t.kill()
        status = i1.stop()
        proxy.close()
    log = i1.log_text()
    assert status == 0, log[-2000:]
    # each number once, in order: none doubled by the resends, none lost
    assert_each_once_in_order(redis_journal(redis) + sqlite_journal(Path(folder, "i1.db")),
                              count)
    echoes = echoes_of(t.lines)
    assert len(echoes) == len(set(echoes)), "an echo came twice"
    known = re.search(r"redis_commit_known message=\"lifeline.v1 session \w+: (\d+) of the "
                      r"(\d+) ", log)
    assert known, "the commit's outcome was never settled"
    print(known.group(0))
    assert int(known.group(1)) == int(known.group(2)) > 0  # Redis had run it
    # and the echoes of the doubted commit came, once Redis said so
    assert len(echoes) == count, f"{count - len(echoes)} echoes lost"
