"""The floor for bench/ingest.py: the least any server must do that checks a GitHub signature
and keeps every request before it answers, on this stack (aiohttp, SQLite), with none of the
inspector's code.

Per request it reads the body, checks X-Hub-Signature-256 (one-shot HMAC in C, constant-time
compare), parses the JSON body (orjson), and inserts one row (time, method, path, query, every header in order as
JSON, body, body size, client address, answer) into a SQLite file in WAL mode with
synchronous=NORMAL, as the inspector's store does; rows that arrive together share one commit
(scheduled with call_soon, as the store's group commit is), and each answer waits for its
commit. It runs on the loop `serve` runs on (bare_server.run). No flow, no trace, no signature
report, no id in the answer, no line printed.

    python bench/floor_server.py [STORE_PATH]

`serve` does all of this and more, so serve / bare can never be above floor / bare: the floor
row in `python -m bench` says how much of the gap is the stack itself.
"""

import asyncio
import hmac
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import orjson
from aiohttp import web

SECRET = b"example-github-secret-change-me"  # the bench's answers.example.json entry
ANSWER = b'{"ok": true, "result": "Received 20 commits"}'
INSERT = "INSERT INTO captures (received_at, method, path, query, headers, body, body_size, client, answer) VALUES (?,?,?,?,?,?,?,?,?)"


class Floor:
    def __init__(self, path: Path):
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE captures (id INTEGER PRIMARY KEY AUTOINCREMENT, received_at REAL, method TEXT,"
            " path TEXT, query TEXT, headers TEXT, body BLOB, body_size INTEGER, client TEXT, answer BLOB)"
        )
        self.rows: list[tuple] = []
        self.waiters: list[asyncio.Future] = []
        self.pending: asyncio.Handle | None = None

    def commit(self) -> None:
        rows, waiters = self.rows, self.waiters
        self.rows, self.waiters, self.pending = [], [], None
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany(INSERT, rows)
        self.db.execute("COMMIT")
        for waiter in waiters:
            waiter.set_result(None)

    async def handle(self, request: web.BaseRequest) -> web.Response:
        body = await request.read()
        given = request.headers.get("X-Hub-Signature-256", "")
        if not hmac.compare_digest(given.encode(), b"sha256=" + hmac.digest(SECRET, body, "sha256").hex().encode()):
            return web.Response(status=401, body=b'{"error": "bad signature"}', content_type="application/json")
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError:
            return web.Response(status=400, body=b'{"error": "not JSON"}', content_type="application/json")
        headers = orjson.dumps([(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers])
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        path, _, query = request.raw_path.partition("?")
        self.rows.append((time.time(), request.method, path, query, headers, body, len(body), request.remote, ANSWER))
        self.waiters.append(waiter)
        if self.pending is None:
            self.pending = loop.call_soon(self.commit)
        await waiter
        return web.Response(status=200, body=ANSWER, content_type="application/json")


if __name__ == "__main__":
    from bare_server import run  # bench/ is on sys.path when this runs as a script

    where = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="inspector-floor-")) / "floor.sqlite3"
    run(Floor(where).handle)
