"""Delivery proofs with real kill -9 (issue 12): a till that sends numbered
messages through lifeline.v1 with an outbox file is killed at random
moments and started again; lifeline-server is killed and restarted under a
till that keeps sending. At the end the server's journal (its durable
record of what it accepted) holds every number exactly once, in order, and
the server's echoes came at most once each, in order.

The random moments come from a seed printed with each test (set
LIFELINE_PROOF_SEED to replay one)."""

import os
import random
import sys

import pytest

sys.dont_write_bytecode = True

from proc import TILL, Lines, Server, assert_each_once_in_order, last_number

COUNT = 3000


@pytest.fixture
def rng():
    seed = int(os.environ.get("LIFELINE_PROOF_SEED", random.randrange(1 << 30)))
    print(f"LIFELINE_PROOF_SEED={seed}")
    return random.Random(seed)


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path).start()
    yield s
    s.stop()


def till(server, outbox, *extra):
    return Lines([TILL, server.url(), str(outbox), str(COUNT), *extra])


def test_a_till_killed_at_random_moments_delivers_each_number_once_in_order(
        server, tmp_path, rng):
    outbox = tmp_path / "till.db"
    kills = 0
    for _ in range(6):
        t = till(server, outbox)
        start = t.wait_for(lambda ls: last_number(ls, "start"), 30)
        # kill it after a random number of sends past where it started,
        # some while it sends, some while it waits for acks
        target = min(COUNT, start + rng.randrange(1, 800))
        t.wait_for(lambda ls: last_number(ls, "sent") >= target or "done" in ls, 60)
        if "done" in t.lines:
            t.wait(30)
            break
        t.kill()
        kills += 1
    t = till(server, outbox)
    t.wait_for(lambda ls: "done" in ls, 120)
    assert t.wait(30) == 0
    print(f"{kills} kills")
    assert kills >= 3, "the till finished before it was killed often enough"
    assert_each_once_in_order(server.journal(), COUNT)


def test_a_server_killed_and_restarted_under_a_till_loses_and_doubles_nothing(
        server, tmp_path, rng):
    outbox = tmp_path / "till.db"
    t = till(server, outbox, "--echoes")
    for connection in range(1, 4):
        # each kill comes after the till has resumed on the server it kills:
        # without this wait, acks of the killed server still on their way
        # through the pipe could meet the next target, and two kills would
        # fall within one disconnection (one resume for two restarts)
        t.wait_for(lambda ls: sum(1 for x in ls if x.startswith("resumed ")) >= connection, 60)
        acked = last_number(t.lines, "acked")
        # well before the end: the last number (and its echo) goes out after
        # the last kill (the till holds at most 500 unacknowledged)
        target = min(COUNT - 600, acked + rng.randrange(100, 700))
        t.wait_for(lambda ls: last_number(ls, "acked") >= target, 60)
        server.kill()
        server.start()  # the same port and database
    t.wait_for(lambda ls: "done" in ls, 120)
    assert t.wait(30) == 0
    # the server's application: every number once, in order
    assert_each_once_in_order(server.journal(), COUNT)
    # its echoes: none twice, in order; those a crashed server had committed
    # and not yet written are gone, and the till was told (a resume not
    # recovered, after each kill)
    echoes = [int(line[6:]) for line in t.lines if line.startswith("got n=")]
    assert len(echoes) == len(set(echoes)), "an echo came twice"
    assert echoes == sorted(echoes), "echoes out of order"
    assert echoes[-1] == COUNT
    missing = COUNT - len(echoes)
    lost = sum(1 for line in t.lines if line.startswith("resumed 0"))
    print(f"{missing} echoes lost in {lost} resumes not recovered")
    # the first connection of the session, then one after each restart
    assert lost >= 4, "a restarted server's resume said recovered"
