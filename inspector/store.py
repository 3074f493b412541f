"""Captures in SQLite (SPEC §7): WAL, committed before the answer is sent, versioned schema.

One writer per process; other processes (`list`, `show`, `export`) read while `serve` writes.
`synchronous=NORMAL` in WAL mode keeps every committed capture across a crash of the process
(kill -9); only a power loss can take the last transactions.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from . import jsonfast
from .model import Capture, Headers, Request, Response, SignatureResult

DEFAULT_PATH = ".inspector/captures.sqlite3"
DEFAULT_MAX_CAPTURES = 100_000
ORIGINS = ("live", "replay", "sample", "import")
# Ids a writer keeps in stock: twice the last group once groups reach BUSY_GROUP requests
# (one reservation per pass, folded into the group's own transaction); below that, the
# store's `quiet_stock`. A lone server keeps SERVER_STOCK, so a request never waits for a
# reservation; processes that share a store (serve --workers) keep none, so each request
# reserves its own id and their captures stay numbered in arrival order when traffic is
# light (busy, they interleave within a few milliseconds of arrivals).
BUSY_GROUP = 4
SERVER_STOCK = 64
BUSY_TIMEOUT_MS = 10_000  # how long a blocking write waits for another writer
RETRY_SECONDS = 0.0005  # a group commit that found the store locked tries again after this…
RETRY_MAX_SECONDS = 0.02  # …or after a quarter of its wait so far, up to this


def retry_delay(waited: float) -> float:
    """When to try a locked store again: soon (another writer's commit takes a millisecond),
    then less often, so a lock held for seconds does not keep the loop spinning."""
    return min(max(RETRY_SECONDS, waited / 4), RETRY_MAX_SECONDS)
# A writer that shares the store and has not committed for this long checks its stock of ids
# against the store before using it: other writers may have numbered captures past it since.
STALE_STOCK_SECONDS = 0.01
# A lone server checks it after this long without a commit: `import`, `replay` or a test
# run may have stored captures meanwhile, and its stock would number the next capture below
# theirs (and retention by id would take it for an old one).
LONE_STALE_SECONDS = 1.0
RETENTION_GRACE = 5.0  # seconds; see enforce_retention

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


def create_private(path: Path) -> None:
    """Create the store's missing folders (0700) and its file (0600), whatever the umask:
    captures hold tokens and bodies, and SQLite gives the -wal and -shm files the mode of the
    database file. What exists already keeps the mode its owner chose."""
    missing = []
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue  # made meanwhile by another process: its mode is not ours to set
        os.chmod(folder, 0o700)  # mkdir's mode went through the umask
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


class Store:
    def __init__(self, path: str | Path, max_captures: int = DEFAULT_MAX_CAPTURES, group_window: float = 0.0, quiet_stock: int = 0):
        self.path = Path(path)
        # How long a group commit waits for more requests to join it. 0 commits at the end
        # of the event loop's current pass: under load every request handled in that pass
        # shares the commit, and a lone request pays no extra latency (measured: the same
        # throughput as a 1 ms window, with 1 ms less p50).
        self.group_window = group_window
        self.max_captures = max_captures
        self._inserts = 0
        self._next_retention = 1000
        # This writer's ids: the current block [_next_id, _id_end) and blocks reserved after it.
        self._next_id = self._id_end = 0
        self._spare: list[tuple[int, int]] = []
        self.quiet_stock = quiet_stock
        self._ahead = quiet_stock  # ids to keep in stock (see BUSY_GROUP)
        self._stocked_at = 0.0  # loop time this writer last numbered captures or checked its stock
        # The open group: statements and the requests waiting for their commit.
        self._group: list[tuple[str, Any]] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._flush_handle: asyncio.Handle | None = None
        self._retrying_since = 0.0
        self.busy_seconds = 10.0
        try:
            if str(path) != ":memory:":
                create_private(self.path)
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
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
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

    def checkpoint_elsewhere(self) -> None:
        """Another process's checkpointer moves WAL pages for this one (serve workers): no
        automatic checkpoint inside this writer's commits."""
        if str(self.path) != ":memory:":
            self.db.execute("PRAGMA wal_autocheckpoint=0")

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
        try:
            if self._group or self._waiters:
                self._write([], blocking=True)
        except sqlite3.Error:
            pass
        self._give_back()
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

    # Ids. Each writer (a `serve` worker, the TUI, a CLI command) takes ids it reserved in
    # `sqlite_sequence` inside one of its write transactions, so the id a response names is
    # known before the row is written and no writer holds the write lock while it runs flows.
    # How many are kept in stock: see BUSY_GROUP.

    def _reserve(self, count: int, drop: bool = False) -> None:
        """Inside a write transaction: add `count` ids to this writer's stock. With `drop`,
        first forget the stock (given back when no other writer reserved after it): a writer
        sharing the store keeps none while traffic is light, so its next capture is numbered
        after what the others stored meanwhile."""
        db = self.db
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name='captures'").fetchone()
        seq = row[0] if row else 0
        top = db.execute("SELECT MAX(id) FROM captures").fetchone()[0] if row is None else None
        seq = max(seq, top or 0)
        last_end = self._spare[-1][1] if self._spare else self._id_end
        if drop and self._stock():
            if last_end == seq + 1 and not self._spare:
                seq = self._next_id - 1
            self._next_id = self._id_end = 0
            self._spare = []
            last_end = 0
        new_seq = seq + count
        if row is None:
            db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('captures', ?)", (new_seq,))
        else:
            db.execute("UPDATE sqlite_sequence SET seq=? WHERE name='captures'", (new_seq,))
        if last_end == seq + 1 and last_end > 0:  # nobody reserved since our last block: extend it
            if self._spare:
                self._spare[-1] = (self._spare[-1][0], new_seq + 1)
            else:
                self._id_end = new_seq + 1
        elif self._next_id < self._id_end:
            self._spare.append((seq + 1, new_seq + 1))
        else:
            self._next_id, self._id_end = seq + 1, new_seq + 1

    def _stock(self) -> int:
        return self._id_end - self._next_id + sum(end - start for start, end in self._spare)

    async def reserve_id(self) -> None:
        """Make sure the next insert has an id without blocking the event loop: when the
        stock is empty, reserve one, retrying (see retry_delay) while another writer holds
        the lock (StoreError after `busy_seconds`). A writer sharing the store (no
        `quiet_stock`) that has been idle checks its stock is still the newest first. The
        server calls this before insert_grouped, with no await in between. A lone server
        (`quiet_stock`) does the same check after LONE_STALE_SECONDS."""
        loop = asyncio.get_running_loop()
        drop = False
        if self._next_id < self._id_end or self._spare:
            if loop.time() - self._stocked_at < (LONE_STALE_SECONDS if self.quiet_stock else STALE_STOCK_SECONDS):
                return
            drop = True
            if not self.quiet_stock:
                self._ahead = 0
        started = loop.time()
        while not self._write([], blocking=False, reserve=max(1, self._ahead), drop=drop):
            if loop.time() - started > self.busy_seconds:
                raise StoreError(f"{self.path}: could not commit captures (another process held the store's write lock for more than {self.busy_seconds:g} s)")
            await asyncio.sleep(retry_delay(loop.time() - started))
            if not drop and loop.time() - self._stocked_at < STALE_STOCK_SECONDS and (self._next_id < self._id_end or self._spare):
                return  # the stock was empty; a group commit meanwhile reserved some
        self._stocked_at = loop.time()

    def _take_id(self) -> int:
        if self._next_id >= self._id_end:
            if self._spare:
                self._next_id, self._id_end = self._spare.pop(0)
            else:
                self._write([], blocking=True, reserve=max(1, self._ahead))
        new_id = self._next_id
        self._next_id = new_id + 1
        return new_id

    def _give_back(self) -> None:
        """On close: return the ids reserved but not used, when no writer reserved after us."""
        if self._next_id >= self._id_end or self._spare:
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.execute(
                    "UPDATE sqlite_sequence SET seq=? WHERE name='captures' AND seq=?", (self._next_id - 1, self._id_end - 1)
                )
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        except sqlite3.Error:
            pass
        self._id_end = self._next_id

    # Writing

    def _add(self, capture: Capture, decide: Callable[[int], "Response | Capture | None"] | None) -> tuple[Capture, tuple]:
        new_id = self._take_id()
        result = decide(new_id) if decide is not None else None
        if isinstance(result, Capture):
            capture = result.with_(id=new_id)
        else:
            capture = capture.with_(id=new_id, response=result or capture.response)
        return capture, self._row_values(capture, new_id)

    def insert(self, capture: Capture, decide: Callable[[int], "Response | Capture | None"] | None = None) -> Capture:
        """Store a capture and commit at once. `decide(id)` makes the response from the new id,
        so the capture and its answer are committed together before the answer is sent."""
        capture, row = self._add(capture, decide)
        self._write([(self._INSERT, row)], blocking=True)
        return capture

    async def add(self, capture: Capture, decide: Callable[[int], "Response | Capture | None"] | None = None) -> Capture:
        """`insert` for code on the event loop: takes its id and commits in a group commit,
        never blocking the loop on another writer's lock (see reserve_id)."""
        await self.reserve_id()  # no await between this and insert_grouped
        capture, committed = self.insert_grouped(capture, decide)
        await committed
        return capture

    def insert_grouped(self, capture: Capture, decide: Callable[[int], "Response | Capture | None"] | None = None) -> tuple[Capture, "asyncio.Future[None]"]:
        """Group commit for the server: the row joins a group that is written and committed
        once the event loop has taken every request that is ready; await the future before
        answering. Many requests share one short write transaction."""
        capture, row = self._add(capture, decide)
        return capture, self._join((self._INSERT, row))

    def update_grouped(self, capture_id: int, **changes: Any) -> "asyncio.Future[None]":
        """`update` inside the next group commit; await the future before answering."""
        statement = self._update_statement(capture_id, **changes)
        return self._join(statement)

    def _join(self, statement: tuple[str, Any] | None) -> "asyncio.Future[None]":
        loop = asyncio.get_running_loop()
        if statement is not None:
            self._group.append(statement)
        waiter = loop.create_future()
        self._waiters.append(waiter)
        if self._flush_handle is None:
            if self.group_window > 0:
                self._flush_handle = loop.call_later(self.group_window, self.flush)
            else:
                self._flush_handle = loop.call_soon(self.flush)
        return waiter

    def flush(self) -> None:
        """Write and commit the open group, if any, and wake the requests waiting for it.
        When another writer holds the lock, try again shortly instead of blocking the loop
        (outside an event loop: wait for it)."""
        self._flush_handle = None
        if not self._waiters and not self._group:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        group, waiters = self._group, self._waiters
        self._group, self._waiters = [], []
        # Keep a stock of ids for the next group, sized to the traffic.
        inserts = sum(1 for statement in group if statement[0] is self._INSERT)
        stock = self._stock()
        reserve, drop = 0, False
        if inserts:  # a group of updates only (flow traces) says nothing about the traffic
            self._ahead = 2 * inserts if inserts >= BUSY_GROUP else self.quiet_stock
            reserve = self._ahead - stock if stock < self._ahead // 2 else 0
            # Sharing the store and no longer busy: drop the ids left from a burst.
            drop = not self._ahead and stock > 0
        try:
            written = self._write(group, blocking=loop is None, reserve=reserve, waiters=waiters, drop=drop)
        except Exception:
            self._retrying_since = 0.0
            return  # the waiters have their StoreError
        if written:
            self._retrying_since = 0.0
            if loop is not None and inserts:
                # Numbering captures: the stock is in use. A group of trace updates says
                # nothing about it (another writer may have numbered past it meanwhile).
                self._stocked_at = loop.time()
            return
        # Locked by another writer: keep the group (ahead of what joined since) and retry.
        assert loop is not None
        self._group, self._waiters = group + self._group, waiters + self._waiters
        now = loop.time()
        if not self._retrying_since:
            self._retrying_since = now
        elif now - self._retrying_since > self.busy_seconds:
            self._retrying_since = 0.0
            stuck, self._group, self._waiters = self._waiters, [], []
            self._fail(stuck, f"another process held the store's write lock for more than {self.busy_seconds:g} s")
            return
        if self._flush_handle is None:
            self._flush_handle = loop.call_later(retry_delay(now - self._retrying_since), self.flush)

    def _write(self, statements: list[tuple[str, Any]], *, blocking: bool, reserve: int = 0, waiters: list | None = None, drop: bool = False) -> bool:
        """One write transaction of `statements` (a blocking write takes the open group
        first), and with `reserve`, more ids. Wakes `waiters` when committed, fails them with
        a StoreError if it cannot be. False when not `blocking` and another writer has the
        lock."""
        db = self.db
        waiters = list(waiters or ())
        if blocking and (self._group or self._waiters):
            statements = self._group + statements
            waiters += self._waiters
            self._group, self._waiters = [], []
        try:
            if blocking:
                db.execute("BEGIN IMMEDIATE")
            else:
                db.execute("PRAGMA busy_timeout=0")
                try:
                    db.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    if exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                        return False
                    raise
                finally:
                    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except sqlite3.Error as exc:
            self._fail(waiters, exc)
            raise
        inserts = 0
        ids = (self._next_id, self._id_end, list(self._spare))
        try:
            for sql, params in statements:
                db.execute(sql, params)
                if sql is self._INSERT:
                    inserts += 1
            if reserve or drop:
                self._reserve(reserve, drop)
            db.execute("COMMIT")
        except BaseException as exc:
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            # The reservation did not happen: forget the ids it added.
            self._next_id, self._id_end, self._spare = ids
            self._fail(waiters, exc)
            raise
        for w in waiters:
            if not w.done():
                w.set_result(None)
        self._inserts += inserts
        if self._inserts >= self._next_retention:
            self._next_retention = self._inserts + 1000
            self.enforce_retention()
        return True

    def _fail(self, waiters: list, why: object) -> None:
        for w in waiters:
            if not w.done():
                w.set_exception(StoreError(f"{self.path}: could not commit captures ({why})"))

    def _update_statement(self, capture_id: int, *, runs: list[dict] | None = None, response: Response | None = None, notes: list[str] | None = None) -> tuple[str, list] | None:
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
            return None
        args.append(capture_id)
        return (f"UPDATE captures SET {', '.join(sets)} WHERE id=?", args)

    def update(self, capture_id: int, *, runs: list[dict] | None = None, response: Response | None = None, notes: list[str] | None = None) -> None:
        """Change a stored capture and commit at once (with any open group)."""
        statement = self._update_statement(capture_id, runs=runs, response=response, notes=notes)
        if statement is not None:
            self._write([statement], blocking=True)

    def enforce_retention(self) -> int:
        """Keep the newest `max_captures`. Captures received in the last RETENTION_GRACE
        seconds stay whatever their id: a writer sharing the store may have numbered a new
        capture below ids another writer used since."""
        row = self.db.execute("SELECT MAX(id) FROM captures").fetchone()
        if not row or row[0] is None:
            return 0
        cur = self.db.execute(
            "DELETE FROM captures WHERE id <= ? AND received_at < ?",
            (row[0] - self.max_captures, time.time() - RETENTION_GRACE),
        )
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
