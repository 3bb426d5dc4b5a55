"""last_active_at lives in a real SQLite file: written in batches while the
server runs, and readable by a new server on the same file."""

import asyncio
import json
import select
import sqlite3
import subprocess
from pathlib import Path

from llserver import BIN, recv_json, server_env, wait_until


def test_last_active_at_survives_a_restart(start_server, workdir):
    db = str(Path(workdir) / "persist.db")
    first = start_server(db=db)

    async def go():
        ws = await first.connect("shop-1", "till-9")
        await ws.send(json.dumps({"type": "echo", "data": 1}))
        await recv_json(ws)
        await ws.close()
    asyncio.run(go())
    first.wait_active(0)
    before = first.http("GET", "/api/v1/users/till-9")[2]
    assert first.stop() == 0

    second = start_server(db=db)
    status, _, after = second.http("GET", "/api/v1/users/till-9")
    assert status == 200
    assert after == before
    assert second.http("GET", "/api/v1/users/nobody")[0] == 404


def test_activity_reaches_the_file_while_the_server_runs(start_server, workdir):
    db = str(Path(workdir) / "live.db")
    server = start_server(db=db)

    async def go():
        ws = await server.connect("s", "writer")
        await ws.send("hi")
        await asyncio.wait_for(ws.recv(), 5)

        def row():
            try:
                with sqlite3.connect(db, timeout=1) as conn:
                    return conn.execute(
                        "SELECT store, last_active_at FROM users WHERE user = 'writer'"
                    ).fetchone()
            except sqlite3.OperationalError:
                return None
        got = wait_until(row, timeout=5, what="the batched write")
        assert got[0] == "s" and got[1] > 0
        await ws.close()
    asyncio.run(go())


def test_the_database_default_is_in_the_working_folder(workdir):
    # started without --db: the documented default, relative to the cwd
    proc = subprocess.Popen([BIN, "--port", "0"], cwd=workdir, env=server_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        assert ready
        assert json.loads(proc.stdout.readline())["event"] == "listening"
        assert (Path(workdir) / "lifeline-server.db").exists()
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
        proc.stdout.close()
