"""--max-users bounds the users table: past it the least recently active
users that are not connected are deleted, and the log says how many."""

import sqlite3

from llserver import RawWS, wait_until


def rows(db):
    con = sqlite3.connect(db)
    try:
        return dict(con.execute("SELECT user, last_active_at FROM users").fetchall())
    finally:
        con.close()


def evictions(server):
    return [e for e in server.log_events() if e.get("event") == "users_evicted"]


def test_past_max_users_the_least_recently_active_are_evicted(start_server, workdir):
    # default heartbeat (30 s): the silent keeper stays connected, and its
    # last activity stays the oldest of all
    server = start_server("--max-users", "5", "--json", fast=False)
    keeper = RawWS(server.port, path="/ws?store=s&user=keeper")
    assert keeper.status == 101
    for i in range(20):
        raw = RawWS(server.port, path=f"/ws?store=s&user=u{i:02d}")
        assert raw.status == 101
        raw.close()
        server.wait_active(1)  # one at a time: their activity is in this order
    wait_until(lambda: evictions(server), what="a users_evicted line")
    status, _, _ = server.http("GET", "/api/v1/users/u00")
    assert status == 404
    status, _, body = server.http("GET", "/api/v1/users/keeper")
    assert status == 200 and body["user"] == "keeper"
    keeper.close()
    assert server.stop() == 0

    kept = rows(server.db)
    assert set(kept) == {"keeper", "u16", "u17", "u18", "u19"}, kept
    assert kept["keeper"] < kept["u16"]  # the oldest, but connected at the time
    lines = evictions(server)
    assert sum(e["evicted"] for e in lines) == 16
    assert all(e["max_users"] == 5 and e["level"] == "warn" for e in lines)
    # the first report at once, the rest at most once a minute or at the stop
    assert 1 <= len(lines) <= 2


def test_a_lower_max_users_trims_the_table_at_start(start_server, workdir):
    server = start_server("--json")
    for i in range(8):
        raw = RawWS(server.port, path=f"/ws?store=s&user=v{i}")
        assert raw.status == 101
        raw.close()
        server.wait_active(0)
    assert server.stop() == 0
    assert len(rows(server.db)) == 8

    server = start_server("--max-users", "3", "--json", db=server.db)
    wait_until(lambda: evictions(server), what="a users_evicted line")
    assert evictions(server)[0]["evicted"] == 5
    assert server.stop() == 0
    assert set(rows(server.db)) == {"v5", "v6", "v7"}
