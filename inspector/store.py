"""Captures in SQLite (SPEC §7): WAL, committed before the answer is sent, versioned schema.

One writer per process; other processes (`list`, `show`, `export`) read while `serve` writes.
`synchronous=NORMAL` in WAL mode keeps every committed capture across a crash of the process
(kill -9); only a power loss can take the last transactions.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

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
# A flow trace holds every step's output, so a script that returns a large payload makes a
# trace as large; SQLite refuses a value over 1e9 bytes and one row that size would stall
# every reader. Traces longer than this are stored without step outputs, with a note.
MAX_TRACE_CHARS = 4 * 1024 * 1024
# What a stored row keeps of a message it shortens (errors, warnings of a slimmed trace).
KEEP_MESSAGE_CHARS = 2000

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


class NoStore(StoreError):
    """A read-only open found no store (no file, or an empty one): nothing is captured there
    yet, and a reader leaves it that way."""


# Header bytes that were not UTF-8 (surrogate escapes) round-trip: jsonfast writes them as
# \u escapes.
_dumps = jsonfast.dumps
_loads = jsonfast.loads


def _pair(item: list) -> tuple[str, str]:
    return (str(item[0]), str(item[1]))


# What SQLite may refuse for one statement while the transaction goes on: a value over its
# length limit (DataError "string or blob too big"), a constraint; and what binding a value
# can raise before SQLite sees it (a str over INT_MAX bytes, a lone surrogate).
_REFUSED = (sqlite3.Error, OverflowError, ValueError)
_APPEND_NOTE = "notes=json_insert(notes, '$[#]', ?)"
_RESPONSE_BODY, _RUNS, _NOTES = 18, 20, 21  # in Store._row_values


class _TransactionLost(Exception):
    def __init__(self, index: int, error: BaseException):
        self.index, self.error = index, error


Unstorable = Callable[[int, str], Response]


def _unstorable(capture_id: int, why: str) -> Response:
    return Response.json(
        500,
        {"error": f"the inspector could not store this request as decided; it is kept as #{capture_id}", "detail": why, "id": capture_id},
    )


def _with_columns(row: tuple, *, runs: str, notes: str, response_body: Any = ...) -> tuple:
    out = list(row)
    out[_RUNS], out[_NOTES] = runs, notes
    if response_body is not ...:
        out[_RESPONSE_BODY] = response_body
    return tuple(out)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _cut(text: Any) -> Any:
    if isinstance(text, str) and len(text) > KEEP_MESSAGE_CHARS:
        return text[:KEEP_MESSAGE_CHARS] + f"… ({len(text)} characters)"
    return text


def _slim_runs(runs: Any) -> list[dict]:
    """The trace without what makes it large (step outputs, decisions, logs, state): which
    flows ran, each step's node, status, timing and error. Same shape, so every reader works."""
    slim = []
    for run in runs:
        if not isinstance(run, dict):
            continue
        out = {k: run.get(k) for k in ("id", "flow", "file", "trigger", "parent_id", "via_node", "status", "started_at", "duration_us")}
        out = {k: v if v is None or isinstance(v, (int, float)) else _cut(str(v)) for k, v in out.items()}
        out["path"] = [_cut(str(node)) for node in (run.get("path") or ())][:10_000]
        steps = []
        for step in run.get("steps") or ():
            if isinstance(step, dict):
                steps.append(
                    {
                        "node": _cut(str(step.get("node"))),
                        "type": _cut(str(step.get("type"))),
                        "status": _cut(str(step.get("status"))),
                        "started_at": _cut(str(step.get("started_at"))),
                        "duration_us": step.get("duration_us") if isinstance(step.get("duration_us"), int) else 0,
                        "output": None,
                        "next": None if step.get("next") is None else _cut(str(step.get("next"))),
                        "decision": None,
                        "error": _slim_error(step.get("error")),
                        "logs": [],
                    }
                )
        out["steps"] = steps[:10_000]
        out["error"] = _slim_error(run.get("error"))
        out["warnings"] = [_cut(str(w)) for w in (run.get("warnings") or ())][:100]
        slim.append(out)
    return slim


def _slim_error(error: Any) -> dict | None:
    if not isinstance(error, dict):
        return None
    return {
        k: v if v is None or isinstance(v, int) else _cut(str(v)) for k, v in error.items() if k in ("message", "node", "line", "column")
    }


def trace_text(runs: Any) -> tuple[str, str | None]:
    """The trace as the store keeps it, and a note when it had to be shortened: a trace
    JSON cannot hold (nested too deeply) or one over MAX_TRACE_CHARS loses its step
    outputs; one that is still too large after that is not kept at all."""
    if not runs:
        return "[]", None
    try:
        text = _dumps(list(runs))
    except (ValueError, TypeError, RecursionError) as exc:
        why = f"the flow trace could not be written as JSON ({exc})"
    else:
        if len(text) <= MAX_TRACE_CHARS:
            return text, None
        why = f"the flow trace is {len(text)} characters, more than the store keeps ({MAX_TRACE_CHARS})"
    try:
        text = _dumps(_slim_runs(runs))
    except (ValueError, TypeError, RecursionError):
        text = ""
    if text and len(text) <= MAX_TRACE_CHARS:
        return text, f"{why}; it is stored without step outputs, decisions, logs and state"
    return "[]", f"{why}; it is not stored"


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


def damaged_row(row: tuple) -> Capture:
    """The readable parts of a row whose columns do not hold what this version writes."""
    (
        cid,
        received_at,
        method,
        path,
        query,
        tenant,
        event_type,
        headers,
        body,
        body_size,
        truncated,
        client,
        origin,
        replay_of,
        signature,
        r_status,
        r_headers,
        r_body,
        r_ms,
        runs,
        notes,
    ) = row
    unreadable: list[str] = []

    def text(value: Any, column: str, default: str | None = "") -> Any:
        if value is None or isinstance(value, str):
            return default if value is None else value
        unreadable.append(column)
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

    def blob(value: Any, column: str) -> bytes:
        if value is None or isinstance(value, bytes):
            return value or b""
        unreadable.append(column)
        return str(value).encode("utf-8", "surrogateescape")

    def decoded(value: Any, column: str, kind: type, default: Any) -> Any:
        if value is None:
            return default
        try:
            data = _loads(value)
        except (ValueError, TypeError, RecursionError):
            data = None
        if not isinstance(data, kind):
            unreadable.append(column)
            return default
        return data

    def pairs(value: Any, column: str) -> tuple[tuple[str, str], ...]:
        items = decoded(value, column, list, [])
        good = tuple((str(i[0]), str(i[1])) for i in items if isinstance(i, list) and len(i) == 2)
        if len(good) != len(items):
            unreadable.append(column)
        return good

    def number(value: Any, column: str, kind: type) -> Any:
        if value is None:
            return None
        try:
            return kind(value)
        except (TypeError, ValueError, OverflowError):
            unreadable.append(column)
            return None

    try:
        verdict = SignatureResult.from_json(decoded(signature, "signature", dict, None))
    except (TypeError, ValueError, AttributeError):
        unreadable.append("signature")
        verdict = SignatureResult("unsigned")
    status, took = number(r_status, "response_status", int), number(r_ms, "response_ms", float)
    response = (
        None if status is None else Response(status, Headers.of(pairs(r_headers, "response_headers")), blob(r_body, "response_body"), took)
    )
    request = Request(
        method=text(method, "method"),
        path=text(path, "path"),
        query=text(query, "query"),
        headers=Headers.of(pairs(headers, "headers")),
        body=blob(body, "body"),
        client=text(client, "client", None),
        received_at=received_at,
        truncated=bool(truncated),
        size=number(body_size, "body_size", int) if truncated else None,
    )
    kept_runs = tuple(r for r in decoded(runs, "runs", list, []) if isinstance(r, dict))
    kept_notes = tuple(str(n) for n in decoded(notes, "notes", list, []))
    note = f"this stored capture is damaged: {', '.join(dict.fromkeys(unreadable)) or 'a column'} could not be read as written"
    return Capture(
        number(cid, "id", int),
        request,
        text(tenant, "tenant", None),
        text(event_type, "event_type", None),
        verdict,
        response,
        kept_runs,
        text(origin, "origin", "live"),
        number(replay_of, "replay_of", int),
        kept_notes + (note,),
    )


class Store:
    def __init__(
        self,
        path: str | Path,
        max_captures: int = DEFAULT_MAX_CAPTURES,
        group_window: float = 0.0,
        quiet_stock: int = 0,
        *,
        readonly: bool = False,
    ):
        """`readonly`: for commands that only read (list, show, export). The file is opened
        with SQLite's mode=ro and nothing is created, migrated or switched to WAL, so a
        mistyped --store or another program's database is left exactly as it was."""
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
        # The open file's (device, inode), to notice it being deleted or replaced (_write).
        self._identity: tuple[int, int] | None = None
        self._broken: str | None = None  # why the path cannot be written since then
        self._broken_at = 0.0
        self._no_autocheckpoint = False
        self._sidecars: dict[str, tuple[int, int]] = {}  # our -wal and -shm files (see _reopen)
        self.notice: Callable[[str], None] = _say  # one line for the person running it
        self._shm_size = 0  # the `-shm` file's size once SQLite has mapped it (see _mend_shm)
        if readonly:
            self._open_readonly()
            return
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
            raise StoreError(f"{path}: not a capture store ({exc}); move the file away or pass --store PATH to use another file") from None
        if str(path) != ":memory:":
            self._identity = self._file_identity()
            self._sidecars = self._sidecar_identities()

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
        if version == 0:
            # Another program's database (a mistyped --store): adding our tables to it and
            # switching it to WAL would change a file that is not ours. Ours, half-made by a
            # process migrating right now, is fine.
            foreign = [
                name
                for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
                if name != "captures"
            ]
            if foreign:
                self.db.close()
                shown = ", ".join(foreign[:5]) + (", …" if len(foreign) > 5 else "")
                raise StoreError(f"{self.path}: not a capture store (it holds the tables {shown}); pass --store PATH to use another file")
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
        # `list` shows captures newest first by arrival, which is not id order when several
        # writers share the store or captures were imported. Not a migration: a store
        # without it stays readable by read-only commands (they sort instead) and by older
        # versions; the first writer to open one builds it (about 0.2 s per 100,000 captures).
        db.execute("CREATE INDEX IF NOT EXISTS captures_received_at ON captures(received_at)")
        # Touch the table so that a file from another program fails here, not later.
        db.execute("SELECT id FROM captures LIMIT 1").fetchall()

    def _open_readonly(self) -> None:
        path = self.path
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise NoStore(f"no capture store at {path}; serve or the TUI creates it (or pass --store PATH)") from None
        except OSError as exc:
            raise StoreError(
                f"{path}: cannot open the capture store ({exc.strerror or exc}); pass --store PATH to use another file"
            ) from None
        if path.is_dir():
            raise StoreError(
                f"{path} is a folder, not a capture store; pass --store with the store's file (e.g. {path / 'captures.sqlite3'})"
            )
        if size == 0:
            raise NoStore(f"{path} is an empty file, not yet a capture store; serve or the TUI sets it up (or pass --store PATH)")
        uri = path.resolve().as_uri() + "?mode=ro"
        # Even mode=ro creates -wal and -shm files beside a WAL database that nobody has open.
        # So when none is open, the file is first checked as immutable (no side files, no
        # locks): a file that is not our store is refused without a trace.
        probe = not Path(f"{path}-wal").exists()
        for query, last in ((uri + "&immutable=1", False), (uri, True)) if probe else ((uri, True),):
            try:
                db = sqlite3.connect(query, uri=True, isolation_level=None, check_same_thread=False, timeout=10)
            except (OSError, sqlite3.Error) as exc:
                raise StoreError(f"{path}: cannot open the capture store ({exc}); pass --store PATH to use another file") from None
            try:
                self._check_readonly(db)
            except StoreError:
                db.close()
                raise
            except sqlite3.DatabaseError as exc:
                db.close()
                raise StoreError(f"{path}: not a capture store ({exc}); pass --store PATH to use another file") from None
            if last:
                self.db = db
            else:
                db.close()

    def _check_readonly(self, db: sqlite3.Connection) -> None:
        """The checks of _prepare that need no writing: a store of this schema, or a clear
        refusal."""
        path = self.path
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{path}: written by a newer webhook-inspector (schema {version}, this one knows {SCHEMA_VERSION}); "
                "upgrade webhook-inspector or pass --store PATH to use another file"
            )
        if version == 0 and not tables:
            raise NoStore(f"{path} is an empty database, not yet a capture store; serve or the TUI sets it up (or pass --store PATH)")
        if "captures" not in tables:
            shown = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
            raise StoreError(f"{path}: not a capture store (it holds the tables {shown}); pass --store PATH to use another file")
        if version < SCHEMA_VERSION:
            raise StoreError(
                f"{path}: written by an older webhook-inspector (schema {version}); open it once with serve or the TUI to upgrade it"
            )
        db.execute(f"SELECT {self._COLUMNS} FROM captures LIMIT 0").fetchall()

    def start_checkpointer(self, every: float = 1.0) -> None:
        """Move WAL pages into the database from a thread of its own.

        SQLite's automatic checkpoint runs inside a commit, on the event loop, and fsyncs:
        a pause of several milliseconds now and then, which is what a p99 shows. A passive
        checkpoint from another connection never blocks the writer."""
        import threading

        if str(self.path) == ":memory:" or getattr(self, "_checkpointer", None) is not None:
            return
        self.db.execute("PRAGMA wal_autocheckpoint=0")
        self._no_autocheckpoint = True
        stop = threading.Event()

        def loop() -> None:
            conn, identity = None, None
            try:
                while not stop.wait(every):
                    now = self._file_identity()
                    if now is None:  # deleted: the writers create it again (_reopen)
                        continue
                    if now != identity:  # replaced or created again: follow the path
                        if conn is not None:
                            conn.close()
                        conn, identity = None, now
                    try:
                        self._mend_shm()
                        if conn is None:
                            conn = sqlite3.connect(str(self.path), timeout=1, check_same_thread=False)
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    except (sqlite3.Error, StoreError):
                        pass
            finally:
                if conn is not None:
                    conn.close()

        self._checkpointer = (stop, threading.Thread(target=loop, name="store-checkpoint", daemon=True))
        self._checkpointer[1].start()

    def checkpoint_elsewhere(self) -> None:
        """Another process's checkpointer moves WAL pages for this one (serve workers): no
        automatic checkpoint inside this writer's commits."""
        if str(self.path) != ":memory:":
            self.db.execute("PRAGMA wal_autocheckpoint=0")
            self._no_autocheckpoint = True

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
        except (sqlite3.Error, StoreError):  # their waiters have the error
            pass
        self._give_back()
        try:
            self.db.close()
        except sqlite3.Error:
            pass

    # Writing

    def _row_values(self, capture: Capture, capture_id: int) -> tuple[Capture, tuple]:
        """The row of a capture, and the capture as stored (with a note when its trace had to
        be shortened to fit, see trace_text)."""
        runs, note = trace_text(capture.runs) if capture.runs else ("[]", None)
        if note is not None:
            capture = capture.with_(notes=capture.notes + (note,))
        req = capture.request
        response = capture.response
        return capture, (
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
            runs,
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
                raise StoreError(
                    f"{self.path}: could not commit captures (another process held the store's write lock for more than {self.busy_seconds:g} s)"
                )
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
                self.db.execute("UPDATE sqlite_sequence SET seq=? WHERE name='captures' AND seq=?", (self._next_id - 1, self._id_end - 1))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        except sqlite3.Error:
            pass
        self._id_end = self._next_id

    # Writing

    def _add(
        self, capture: Capture, decide: Callable[[int], Response | Capture | None] | None, unstorable: Unstorable | None = None
    ) -> tuple[Capture, tuple]:
        new_id = self._take_id()
        result = decide(new_id) if decide is not None else None
        if isinstance(result, Capture):
            capture = result.with_(id=new_id)
        else:
            capture = capture.with_(id=new_id, response=result or capture.response)
        try:
            return self._row_values(capture, new_id)
        except Exception as exc:  # a value of ours the row cannot hold: keep the request
            why = f"the capture could not be stored as decided ({type(exc).__name__}: {exc}); the request is kept with a 500"
            response = (unstorable or _unstorable)(new_id, why)
            kept = capture.with_(response=response, runs=(), notes=capture.notes + (why,))
            try:
                return self._row_values(kept, new_id)
            except Exception:
                return kept, self._minimal_row(kept, new_id)

    def _minimal_row(self, capture: Capture, capture_id: int) -> tuple:
        """The row of `capture` from what cannot fail to encode: the request as received, the
        answer, the notes; a signature verdict that will not encode is kept as its status."""
        req, response = capture.request, capture.response

        def text(value: Any, fallback: str) -> str:
            try:
                return json.dumps(value, default=repr)  # ASCII: surrogates become \u escapes
            except Exception:
                return fallback

        sig = capture.signature
        return (
            capture_id,
            req.received_at,
            req.method,
            req.path,
            req.query,
            capture.tenant,
            capture.event_type,
            text([list(h) for h in req.headers.items], "[]"),
            req.body,
            req.body_size,
            int(req.truncated),
            req.client,
            capture.origin,
            capture.replay_of,
            text(sig.to_json(), text({"status": str(sig.status)}, "{}")),
            str(sig.status),
            response.status if response else None,
            text([list(h) for h in response.headers.items], "[]") if response else None,
            response.body if response else None,
            response.duration_ms if response else None,
            "[]",
            text([str(n) for n in capture.notes], "[]"),
        )

    def _fallbacks(self, capture: Capture, row: tuple) -> Callable[[str], list[tuple[str, Any]]]:
        """Rows to try instead when SQLite refuses this one (e.g. a value over its length
        limit): the request always, exact; the trace and then the response body if they must go."""

        def instead(why: str) -> list[tuple[str, Any]]:
            note = f"SQLite refused the capture as decided ({why})"
            alternatives = []
            if capture.runs:
                runs, _ = trace_text(_slim_runs(capture.runs))
                alternatives.append(
                    _with_columns(
                        row, runs=runs, notes=_dumps(list(capture.notes) + [note + "; its flow trace is stored without step outputs"])
                    )
                )
            notes = list(capture.notes) + [note + "; its flow trace and the response body are not stored"]
            alternatives.append(
                _with_columns(row, runs="[]", notes=_dumps(notes), response_body=b"" if row[_RESPONSE_BODY] is not None else None)
            )
            return [(self._INSERT, alt) for alt in alternatives]

        return instead

    def insert(self, capture: Capture, decide: Callable[[int], Response | Capture | None] | None = None) -> Capture:
        """Store a capture and commit at once. `decide(id)` makes the response from the new id,
        so the capture and its answer are committed together before the answer is sent."""
        capture, row = self._add(capture, decide)
        self._write([(self._INSERT, row, None, self._fallbacks(capture, row))], blocking=True)
        return capture

    async def add(
        self, capture: Capture, decide: Callable[[int], Response | Capture | None] | None = None, unstorable: Unstorable | None = None
    ) -> Capture:
        """`insert` for code on the event loop: takes its id and commits in a group commit,
        never blocking the loop on another writer's lock (see reserve_id). `unstorable(id,
        why)` is the answer when the decided capture cannot be stored (a 500 by default)."""
        await self.reserve_id()  # no await between this and insert_grouped
        capture, committed = self.insert_grouped(capture, decide, unstorable)
        await committed
        return capture

    def insert_grouped(
        self, capture: Capture, decide: Callable[[int], Response | Capture | None] | None = None, unstorable: Unstorable | None = None
    ) -> tuple[Capture, asyncio.Future[None]]:
        """Group commit for the server: the row joins a group that is written and committed
        once the event loop has taken every request that is ready; await the future before
        answering. Many requests share one short write transaction."""
        capture, row = self._add(capture, decide, unstorable)
        return capture, self._join((self._INSERT, row), self._fallbacks(capture, row))

    def update_grouped(self, capture_id: int, **changes: Any) -> asyncio.Future[None]:
        """`update` inside the next group commit; await the future before answering."""
        statement, fallbacks = self._update_statement(capture_id, **changes)
        return self._join(statement, fallbacks)

    def _join(self, statement: tuple[str, Any] | None, fallbacks: Callable[[str], list] | None = None) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        if statement is not None:
            # The waiter rides with its statement: if SQLite refuses that one, only its
            # sender hears of it (see _run_statements).
            self._group.append((statement[0], statement[1], waiter, fallbacks))
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

    def _write(self, statements: list[tuple], *, blocking: bool, reserve: int = 0, waiters: list | None = None, drop: bool = False) -> bool:
        """One write transaction of `statements` (a blocking write takes the open group
        first), and with `reserve`, more ids. Wakes `waiters` when committed, fails them with
        a StoreError if it cannot be. False when not `blocking` and another writer has the
        lock. A statement SQLite refuses fails only its own waiter (see _run_statements)."""
        waiters = list(waiters or ())
        if blocking and (self._group or self._waiters):
            statements = self._group + statements
            waiters += self._waiters
            self._group, self._waiters = [], []
        if self._broken is not None and not self._reopen_broken():
            self._fail(waiters, self._broken)
            raise StoreError(self._broken)
        try:
            self._mend_shm()
        except StoreError as exc:
            self._fail(waiters, exc)
            raise
        db = self.db
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
        ids = (self._next_id, self._id_end, list(self._spare))
        refused: list[tuple[Any, BaseException]] = []
        lost: dict[int, BaseException] = {}
        dead: set[int] = set()
        try:
            while True:
                try:
                    inserts = self._run_statements(statements, refused, lost, dead)
                    break
                except _TransactionLost as gone:
                    # SQLite gave up the whole transaction for one statement (it does for a
                    # full disk, SQLITE_FULL, or an I/O error): redo the group with that one
                    # replaced by its fallbacks, or left out if they cost the transaction too.
                    # Each redo settles one statement, so this ends.
                    if gone.index in lost:
                        dead.add(gone.index)
                    else:
                        lost[gone.index] = gone.error
                    if len(dead) + len(lost) > 2 * len(statements):
                        raise gone.error from None
                    refused.clear()
                    db.execute("BEGIN IMMEDIATE")
            if reserve or drop:
                self._reserve(reserve, drop)
            db.execute("COMMIT")
            if self._shm_size <= 0:
                self._remember_shm()
        except BaseException as exc:
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            # The reservation did not happen: forget the ids it added.
            self._next_id, self._id_end, self._spare = ids
            self._fail(waiters, exc)
            raise
        if self._identity is not None and self._file_identity() != self._identity:
            # The file was deleted or replaced (rm, mv) while we wrote: what we committed went
            # into a file nobody can open any more. Write the same group again into the file
            # now at the path, before any of its senders hears it is stored.
            try:
                self._reopen()
            except StoreError as exc:
                self._fail(waiters, exc)
                raise
            return self._write(statements, blocking=True, reserve=reserve, waiters=waiters)
        unowned = []
        for waiter, exc in refused:
            if waiter is None:
                unowned.append(exc)
            elif not waiter.done():
                waiter.set_exception(StoreError(f"{self.path}: could not store this request ({exc})"))
        for w in waiters:
            if not w.done():
                w.set_result(None)
        self._inserts += inserts
        if self._inserts >= self._next_retention:
            self._next_retention = self._inserts + 1000
            self.enforce_retention()
        if unowned:
            raise StoreError(f"{self.path}: could not store the capture ({unowned[0]})")
        return True

    def _run_statements(self, statements: list[tuple], refused: list, lost: dict[int, BaseException], dead: set[int]) -> int:
        """Execute a group's statements in the open transaction; returns the inserts done.
        SQLite undoes just the statement that fails (a value over its length limit, a
        constraint) and keeps the transaction: that statement's fallbacks are tried, and
        if none is taken it goes into `refused` with its waiter, while the others of the
        group still commit. Statements in `lost` (one that cost the transaction before) go
        straight to their fallbacks; those in `dead` (their fallbacks cost it too) are refused."""
        db = self.db
        inserts = 0
        for index, entry in enumerate(statements):
            sql = entry[0]
            if index in dead:
                refused.append((entry[2] if len(entry) > 2 else None, lost[index]))
                continue
            if index in lost:
                why: BaseException | None = lost[index]
            else:
                why = None
                try:
                    db.execute(sql, entry[1])
                except _REFUSED as exc:
                    if not db.in_transaction:
                        raise _TransactionLost(index, exc) from None
                    why = exc
            if why is not None:
                sql = self._store_instead(index, entry, why)
                if sql is None:
                    refused.append((entry[2] if len(entry) > 2 else None, why))
                    continue
            if sql is self._INSERT:
                inserts += 1
        return inserts

    def _store_instead(self, index: int, entry: tuple, why: BaseException) -> str | None:
        """Execute the first of a refused statement's fallbacks SQLite accepts; its SQL, or None."""
        fallbacks = entry[3] if len(entry) > 3 else None
        if fallbacks is None:
            return None
        try:
            alternatives = fallbacks(str(why) or type(why).__name__)
        except Exception:
            return None
        for sql, params in alternatives:
            try:
                self.db.execute(sql, params)
            except _REFUSED as exc:
                if not self.db.in_transaction:
                    raise _TransactionLost(index, exc) from None
                continue
            return sql
        return None

    def _fail(self, waiters: list, why: object) -> None:
        for w in waiters:
            if not w.done():
                w.set_exception(StoreError(f"{self.path}: could not commit captures ({why})"))

    # A store deleted or replaced while it is open

    def _file_identity(self) -> tuple[int, int] | None:
        """(device, inode) of the file at the path now; None when nothing is there. One stat
        per commit: about a microsecond, against tens for the commit itself."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError:
            return self._identity  # cannot tell: assume it is still ours
        return (st.st_dev, st.st_ino)

    def _sidecar_identities(self) -> dict[str, tuple[int, int]]:
        found = {}
        for suffix in ("-wal", "-shm"):
            try:
                st = os.stat(f"{self.path}{suffix}")
            except OSError:
                continue
            found[suffix] = (st.st_dev, st.st_ino)
        return found

    def _open_connection(self) -> None:
        if str(self.path) != ":memory:":
            create_private(self.path)  # a store made again after a deletion is private too
        self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=10)
        try:
            self._prepare()
            if self._no_autocheckpoint:
                self.db.execute("PRAGMA wal_autocheckpoint=0")
        except BaseException:
            self.db.close()
            raise
        self._identity = self._file_identity()
        self._sidecars = self._sidecar_identities()
        self._shm_size = 0  # another file's `-shm`: learnt at the next commit

    def _mend_shm(self) -> None:
        """SQLite maps the `-shm` file into memory: if something truncates it (a cleanup
        script, `truncate -s 0`), the next access to the mapping kills the process with
        SIGBUS, taking every capture in flight with it. Before each write transaction (and
        each checkpoint) the file is checked against the size last seen and grown back; the
        zeroed index makes SQLite rebuild it from the WAL. StoreError (a 503 for the senders)
        when it cannot be grown back. A truncation in the microseconds between this check
        and SQLite's access is not caught."""
        if self._shm_size <= 0:
            return
        shm = f"{self.path}-shm"
        try:
            size = os.stat(shm).st_size
        except FileNotFoundError:
            return  # unlinked: the mapping keeps the old file alive, nothing to mend
        except OSError:
            return
        if size >= self._shm_size:
            self._shm_size = size
            return
        try:
            os.truncate(shm, self._shm_size)
        except OSError as exc:
            raise StoreError(
                f"{shm} was cut to {size} bytes by another program and cannot be grown back ({exc}); "
                "captures are refused until the store is restarted"
            ) from None
        self.notice(
            f"warning: {shm} was cut to {size} bytes by another program; grown back to {self._shm_size} "
            "so that SQLite rebuilds its index instead of crashing"
        )

    def _remember_shm(self) -> None:
        try:
            self._shm_size = max(self._shm_size, os.stat(f"{self.path}-shm").st_size)
        except OSError:
            pass

    def _reopen(self) -> None:
        """Open the path again after the file was deleted (a fresh store is created) or
        replaced (the file now there is used, if it is a capture store), and say so once on
        stderr. StoreError, remembered for later writes, when the path cannot be used."""
        gone = self._file_identity() is None
        try:
            self.db.close()
        except sqlite3.Error:
            pass
        # SQLite leaves the WAL of a file that has moved where it was (it cannot tell whose
        # it is now), and would replay its pages over whatever file takes the path: ours go.
        for suffix, identity in self._sidecars.items():
            try:
                st = os.stat(f"{self.path}{suffix}")
                if (st.st_dev, st.st_ino) == identity:
                    os.unlink(f"{self.path}{suffix}")
            except OSError:
                pass
        last = max([self._id_end - 1] + [end - 1 for _, end in self._spare])
        if not gone:  # another file's ids: number afresh from what it holds
            self._next_id = self._id_end = 0
            self._spare = []
        what = "deleted" if gone else "replaced by another file"
        try:
            self._open_connection()
            if gone and last > 0:
                # A fresh file goes on numbering after the ids this writer handed out, so an
                # id never names two captures (and the ids in stock stay ours).
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    if self.db.execute("UPDATE sqlite_sequence SET seq=MAX(seq, ?) WHERE name='captures'", (last,)).rowcount == 0:
                        self.db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('captures', ?)", (last,))
                    self.db.execute("COMMIT")
                except BaseException:
                    self.db.execute("ROLLBACK")
                    raise
        except (OSError, sqlite3.Error, StoreError) as exc:
            self._broken = (
                f"{self.path} was {what} while in use and cannot be opened again ({exc}); "
                "captures are refused (503) until it is moved away or fixed, or restart with --store PATH"
            )
            self._broken_at = time.monotonic()
            self.notice(f"error: {self._broken}")
            raise StoreError(self._broken) from None
        self._broken = None
        self.notice(
            f"warning: {self.path} was {what} while in use; "
            + ("a new, empty capture store was created there" if gone else "new captures go into the file now there")
            + " (captures stored before it happened are not in it)"
        )

    def _reopen_broken(self) -> bool:
        """A path that could not be opened again is tried once more every half second (the
        user may have moved the wrong file away)."""
        if time.monotonic() - self._broken_at < 0.5:
            return False
        self._broken_at = time.monotonic()
        try:
            self._open_connection()
        except (OSError, sqlite3.Error, StoreError):
            return False
        self._broken = None
        self.notice(f"warning: {self.path} can be used again; captures are stored there")
        return True

    def _update_statement(
        self, capture_id: int, *, runs: list[dict] | None = None, response: Response | None = None, notes: list[str] | None = None
    ) -> tuple[tuple[str, list] | None, Callable[[str], list] | None]:
        """The UPDATE for these changes, and its fallbacks (see _run_statements)."""
        sets, args = [], []
        note = None
        if runs is not None:
            text, note = trace_text(runs)
            sets.append("runs=?")
            args.append(text)
        if response is not None:
            sets += ["response_status=?", "response_headers=?", "response_body=?", "response_ms=?"]
            args += [response.status, _dumps([list(h) for h in response.headers]), response.body, response.duration_ms]
        if notes is not None:
            sets.append("notes=?")
            args.append(_dumps(list(notes) + ([note] if note else [])))
        elif note is not None:
            sets.append(_APPEND_NOTE)
            args.append(note)
        if not sets:
            return None, None
        args.append(capture_id)

        def instead(why: str) -> list[tuple[str, list]]:
            keep, keep_args = [], []
            if response is not None:  # what the sender was told stays true; its body may go
                keep = ["response_status=?", "response_headers=?", "response_body=?", "response_ms=?"]
                keep_args = [response.status, _dumps([list(h) for h in response.headers]), b"", response.duration_ms]
            said = f"SQLite refused the flow trace or response of this capture ({why}); they are not stored"
            return [(f"UPDATE captures SET runs='[]', {', '.join(keep + [_APPEND_NOTE])} WHERE id=?", keep_args + [said, capture_id])]

        return (f"UPDATE captures SET {', '.join(sets)} WHERE id=?", args), instead

    def update(
        self, capture_id: int, *, runs: list[dict] | None = None, response: Response | None = None, notes: list[str] | None = None
    ) -> None:
        """Change a stored capture and commit at once (with any open group)."""
        statement, fallbacks = self._update_statement(capture_id, runs=runs, response=response, notes=notes)
        if statement is not None:
            self._write([(statement[0], statement[1], None, fallbacks)], blocking=True)

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
        """A stored row as a capture. A row damaged by hand or by another program is read as
        far as it can be, with a note saying what could not be: readers never fail on it."""
        try:
            return Store._row_exact(row)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            return damaged_row(row)

    @staticmethod
    def _row_exact(row: tuple) -> Capture:
        (
            cid,
            received_at,
            method,
            path,
            query,
            tenant,
            event_type,
            headers,
            body,
            body_size,
            truncated,
            client,
            origin,
            replay_of,
            signature,
            r_status,
            r_headers,
            r_body,
            r_ms,
            runs,
            notes,
        ) = row
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
            response=None
            if r_status is None
            else Response(int(r_status), Headers.of(tuple(map(_pair, _loads(r_headers or "[]")))), bytes(r_body or b""), r_ms),
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

    def iter_arrived(self, batch: int = 500) -> Iterator[Capture]:
        """Captures newest first by arrival (received_at, then id), read in batches: one
        ordered pass over the ids, each batch's rows fetched by id, so a store of any size
        never sits in memory and is sorted at most once."""
        ids = self._arrival_ids()
        while chunk := list(islice(ids, batch)):
            marks = ",".join("?" * len(chunk))
            rows = {r[0]: r for r in self.db.execute(f"SELECT {self._COLUMNS} FROM captures WHERE id IN ({marks})", chunk)}
            for cid in chunk:
                if cid in rows:  # gone if retention deleted it meanwhile
                    yield self._row(rows[cid])

    def _arrival_ids(self) -> Iterator[int]:
        # Through the received_at index; a store that lacks it is sorted once instead.
        for (cid,) in self.db.execute("SELECT id FROM captures WHERE received_at <= ? ORDER BY received_at DESC, id DESC", (math.inf,)):
            yield cid
        # Then rows whose time is not a number (damaged by hand): SQLite sorts text above
        # every number, which would list them as the newest.
        odd = self.db.execute("SELECT id FROM captures WHERE received_at > ? OR received_at IS NULL", (math.inf,)).fetchall()
        yield from sorted((cid for (cid,) in odd), reverse=True)

    def newer_than(self, capture_id: int, limit: int = 1000) -> list[Capture]:
        rows = self.db.execute(f"SELECT {self._COLUMNS} FROM captures WHERE id > ? ORDER BY id LIMIT ?", (capture_id, limit)).fetchall()
        return [self._row(r) for r in rows]

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM captures").fetchone()[0]

    def ids(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM captures ORDER BY id")]
