"""Captures in SQLite (SPEC §7): WAL, committed before the answer is sent, versioned schema.

One writer per process; other processes (`list`, `show`, `export`) read while `serve` writes.
`synchronous=NORMAL` in WAL mode keeps every committed capture across a crash of the process
(kill -9); only a power loss can take the last transactions.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterator

from . import jsonfast
from .model import Capture, Headers, Request, Response, SignatureResult

DEFAULT_PATH = ".inspector/captures.sqlite3"
DEFAULT_MAX_CAPTURES = 100_000
ORIGINS = ("live", "replay", "sample", "import")

# Each entry moves the schema from version i to i + 1. Append; never edit a released one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE captures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at REAL NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        query TEXT NOT NULL DEFAULT '',
        tenant TEXT,
        event_type TEXT,
        headers TEXT NOT NULL,
        body BLOB NOT NULL,
        body_size INTEGER NOT NULL,
        truncated INTEGER NOT NULL DEFAULT 0,
        client TEXT,
        origin TEXT NOT NULL DEFAULT 'live',
        replay_of INTEGER,
        signature TEXT NOT NULL,
        signature_status TEXT NOT NULL,
        response_status INTEGER,
        response_headers TEXT,
        response_body BLOB,
        response_ms REAL,
        runs TEXT NOT NULL DEFAULT '[]',
        notes TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX captures_event_type ON captures(event_type);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """The store cannot be used; the message says which file and what to do."""


# Header bytes that were not UTF-8 (surrogate escapes) round-trip: jsonfast writes them as
# \u escapes.
_dumps = jsonfast.dumps
_loads = jsonfast.loads


def _pair(item: list) -> tuple[str, str]:
    return (str(item[0]), str(item[1]))


class Store:
    def __init__(self, path: str | Path, max_captures: int = DEFAULT_MAX_CAPTURES, group_window: float = 0.0):
        self.path = Path(path)
        # How long a group commit waits for more requests to join it. 0 commits at the end
        # of the event loop's current pass: under load every request handled in that pass
        # shares the commit, and a lone request pays no extra latency (measured: the same
        # throughput as a 1 ms window, with 1 ms less p50).
        self.group_window = group_window
        self.max_captures = max_captures
        self._inserts = 0
        self._next_retention = 1000
        self._in_tx = False
        self._next_id = 0
        self._waiters: list[asyncio.Future[None]] = []
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{path}: cannot open the capture store ({exc}); pass --store PATH to use another file")
        try:
            self._prepare()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise StoreError(
                f"{path}: not a capture store ({exc}); move the file away or pass --store PATH to use another file"
            ) from None

    def _prepare(self) -> None:
        db = self.db
        db.execute("PRAGMA busy_timeout=10000")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            self.db.close()
            raise StoreError(
                f"{self.path}: written by a newer webhook-inspector (schema {version}, this one knows {SCHEMA_VERSION}); "
                "upgrade webhook-inspector or pass --store PATH to use another file"
            )
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal" and str(self.path) != ":memory:":
            raise sqlite3.DatabaseError(f"cannot switch to WAL mode (got {mode})")
        db.execute("PRAGMA synchronous=NORMAL")
        if version < SCHEMA_VERSION:
            db.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have migrated while we waited for the lock.
                version = db.execute("PRAGMA user_version").fetchone()[0]
                for step in MIGRATIONS[version:]:
                    for statement in step.split(";"):
                        if statement.strip():
                            db.execute(statement)
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        # Touch the table so that a file from another program fails here, not later.
        db.execute("SELECT id FROM captures LIMIT 1").fetchall()

    def start_checkpointer(self, every: float = 1.0) -> None:
        """Move WAL pages into the database from a thread of its own.

        SQLite's automatic checkpoint runs inside a commit, on the event loop, and fsyncs:
        a pause of several milliseconds now and then, which is what a p99 shows. A passive
        checkpoint from another connection never blocks the writer."""
        import threading

        if str(self.path) == ":memory:" or getattr(self, "_checkpointer", None) is not None:
            return
        self.db.execute("PRAGMA wal_autocheckpoint=0")
        stop = threading.Event()

        def loop() -> None:
            try:
                conn = sqlite3.connect(str(self.path), timeout=1, check_same_thread=False)
            except sqlite3.Error:
                return
            try:
                while not stop.wait(every):
                    try:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    except sqlite3.Error:
                        pass
            finally:
                conn.close()

        self._checkpointer = (stop, threading.Thread(target=loop, name="store-checkpoint", daemon=True))
        self._checkpointer[1].start()

    def close(self) -> None:
        stopper = getattr(self, "_checkpointer", None)
        if stopper is not None:
            stopper[0].set()
            stopper[1].join(timeout=5)
            self._checkpointer = None
            try:
                self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:
                pass
        self.flush()
        try:
            self.db.close()
        except sqlite3.Error:
            pass

    # Writing

    def _row_values(self, capture: Capture, capture_id: int) -> tuple:
        req = capture.request
        response = capture.response
        return (
            capture_id,
            req.received_at,
            req.method,
            req.path,
            req.query,
            capture.tenant,
            capture.event_type,
            _dumps(req.headers.items),
            req.body,
            req.body_size,
            int(req.truncated),
            req.client,
            capture.origin,
            capture.replay_of,
            _dumps(capture.signature.to_json()),
            capture.signature.status,
            response.status if response else None,
            _dumps(response.headers.items) if response else None,
            response.body if response else None,
            response.duration_ms if response else None,
            _dumps(list(capture.runs)) if capture.runs else "[]",
            _dumps(list(capture.notes)) if capture.notes else "[]",
        )

    _INSERT = (
        "INSERT INTO captures (id, received_at, method, path, query, tenant, event_type, headers, body,"
        " body_size, truncated, client, origin, replay_of, signature, signature_status,"
        " response_status, response_headers, response_body, response_ms, runs, notes)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )

    def _begin(self) -> None:
        # IMMEDIATE takes the write lock now, so the next id is ours to hand out until COMMIT.
        self.db.execute("BEGIN IMMEDIATE")
        row = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name='captures'").fetchone()
        self._next_id = (row[0] if row else 0) + 1
        self._in_tx = True

    def _add(self, capture: Capture, decide: Callable[[int], "Response | Capture | None"] | None) -> Capture:
        new_id = self._next_id
        result = decide(new_id) if decide is not None else None
        if isinstance(result, Capture):
            capture = result.with_(id=new_id)
        else:
            capture = capture.with_(id=new_id, response=result or capture.response)
        self.db.execute(self._INSERT, self._row_values(capture, new_id))
        self._next_id = new_id + 1
        self._inserts += 1
        return capture

    def insert(self, capture: Capture, decide: Callable[[int], "Response | Capture | None"] | None = None) -> Capture:
        """Store a capture and commit at once. `decide(id)` makes the response from the new id,
        so the capture and its answer are committed together before the answer is sent."""
        if self._in_tx:
            self.flush()
        self._begin()
        try:
            capture = self._add(capture, decide)
            self._commit()
        except BaseException:
            self._rollback()
            raise
        self._after_commit()
        return capture

    def insert_grouped(self, capture: Capture, decide: Callable[[int], "Response | Capture | None"] | None = None) -> tuple[Capture, "asyncio.Future[None]"]:
        """Group commit for the server: the row is written now, in a transaction that commits
        once the event loop has taken every request that is ready; await the future before
        answering. Many requests then share one commit."""
        loop = asyncio.get_running_loop()
        if not self._in_tx:
            self._begin()
            self._schedule_flush(loop)
        try:
            capture = self._add(capture, decide)
        except BaseException:
            self._rollback()
            raise
        waiter = loop.create_future()
        self._waiters.append(waiter)
        return capture, waiter

    def _schedule_flush(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.group_window > 0:
            loop.call_later(self.group_window, self.flush)
        else:
            loop.call_soon(self.flush)

    def update_grouped(self, capture_id: int, **changes: Any) -> "asyncio.Future[None]":
        """`update` inside the current group commit; await the future before answering."""
        loop = asyncio.get_running_loop()
        if not self._in_tx:
            self._begin()
            self._schedule_flush(loop)
        try:
            self.update(capture_id, **changes)
        except BaseException:
            self._rollback()
            raise
        waiter = loop.create_future()
        self._waiters.append(waiter)
        return waiter

    def flush(self) -> None:
        """Commit the open group, if any, and wake the requests waiting for it."""
        if not self._in_tx:
            return
        waiters, self._waiters = self._waiters, []
        try:
            self._commit()
        except Exception as exc:
            self._rollback()
            for w in waiters:
                if not w.done():
                    w.set_exception(StoreError(f"{self.path}: could not commit captures ({exc})"))
            return
        for w in waiters:
            if not w.done():
                w.set_result(None)
        self._after_commit()

    def _commit(self) -> None:
        self.db.execute("COMMIT")
        self._in_tx = False

    def _rollback(self) -> None:
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        self._in_tx = False
        waiters, self._waiters = self._waiters, []
        for w in waiters:
            if not w.done():
                w.set_exception(StoreError(f"{self.path}: the capture could not be stored"))

    def _after_commit(self) -> None:
        if self._inserts >= self._next_retention:
            self._next_retention = self._inserts + 1000
            self.enforce_retention()

    def update(self, capture_id: int, *, runs: list[dict] | None = None, response: Response | None = None, notes: list[str] | None = None) -> None:
        sets, args = [], []
        if runs is not None:
            sets.append("runs=?")
            args.append(_dumps(runs))
        if response is not None:
            sets += ["response_status=?", "response_headers=?", "response_body=?", "response_ms=?"]
            args += [response.status, _dumps([list(h) for h in response.headers]), response.body, response.duration_ms]
        if notes is not None:
            sets.append("notes=?")
            args.append(_dumps(notes))
        if not sets:
            return
        args.append(capture_id)
        self.db.execute(f"UPDATE captures SET {', '.join(sets)} WHERE id=?", args)

    def enforce_retention(self) -> int:
        row = self.db.execute("SELECT MAX(id) FROM captures").fetchone()
        if not row or row[0] is None:
            return 0
        cur = self.db.execute("DELETE FROM captures WHERE id <= ?", (row[0] - self.max_captures,))
        return cur.rowcount

    # Reading

    _COLUMNS = (
        "id, received_at, method, path, query, tenant, event_type, headers, body, body_size,"
        " truncated, client, origin, replay_of, signature, response_status, response_headers, response_body,"
        " response_ms, runs, notes"
    )

    @staticmethod
    def _row(row: tuple) -> Capture:
        (cid, received_at, method, path, query, tenant, event_type, headers, body, body_size,
         truncated, client, origin, replay_of, signature, r_status, r_headers, r_body, r_ms, runs, notes) = row
        request = Request(
            method=method,
            path=path,
            query=query or "",
            headers=Headers.of(tuple(map(_pair, _loads(headers)))),
            body=bytes(body or b""),
            client=client,
            received_at=received_at,
            truncated=bool(truncated),
            size=body_size if truncated else None,
        )
        return Capture(
            id=cid,
            request=request,
            tenant=tenant,
            event_type=event_type,
            signature=SignatureResult.from_json(_loads(signature)),
            response=None if r_status is None else Response(
                int(r_status), Headers.of(tuple(map(_pair, _loads(r_headers or "[]")))), bytes(r_body or b""), r_ms
            ),
            runs=tuple(_loads(runs or "[]")),
            origin=origin,
            replay_of=replay_of,
            notes=tuple(_loads(notes or "[]")),
        )

    def get(self, capture_id: int) -> Capture | None:
        row = self.db.execute(f"SELECT {self._COLUMNS} FROM captures WHERE id=?", (capture_id,)).fetchone()
        return self._row(row) if row else None

    def iter_newest(self, batch: int = 500, before: int | None = None) -> Iterator[Capture]:
        """Captures newest first, read in batches so a large store never sits in memory."""
        upper = before
        while True:
            if upper is None:
                rows = self.db.execute(f"SELECT {self._COLUMNS} FROM captures ORDER BY id DESC LIMIT ?", (batch,)).fetchall()
            else:
                rows = self.db.execute(
                    f"SELECT {self._COLUMNS} FROM captures WHERE id < ? ORDER BY id DESC LIMIT ?", (upper, batch)
                ).fetchall()
            if not rows:
                return
            for row in rows:
                yield self._row(row)
            upper = rows[-1][0]

    def newer_than(self, capture_id: int, limit: int = 1000) -> list[Capture]:
        rows = self.db.execute(
            f"SELECT {self._COLUMNS} FROM captures WHERE id > ? ORDER BY id LIMIT ?", (capture_id, limit)
        ).fetchall()
        return [self._row(r) for r in rows]

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM captures").fetchone()[0]

    def ids(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM captures ORDER BY id")]
