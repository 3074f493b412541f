"""Captures in SQLite (SPEC §7): WAL, committed before the answer is sent, versioned schema.

One writer per process; other processes (`list`, `show`, `export`) read while `serve` writes.
`synchronous=NORMAL` in WAL mode keeps every committed capture across a crash of the process
(kill -9); only a power loss can take the last transactions.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from ..model import Capture
from . import schema
from .codec import COLUMNS, read_row, read_row_exact
from .commit import GroupCommit
from .errors import StoreError
from .ids import IdStock
from .schema import create_private
from .upkeep import Upkeep, _say

DEFAULT_PATH = ".inspector/captures.sqlite3"
DEFAULT_MAX_CAPTURES = 100_000


class Store(IdStock, GroupCommit, Upkeep):
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
        self._spare = []
        self.quiet_stock = quiet_stock
        self._ahead = quiet_stock  # ids to keep in stock (see BUSY_GROUP)
        self._stocked_at = 0.0  # loop time this writer last numbered captures or checked its stock
        # The open group: statements and the requests waiting for their commit.
        self._group = []
        self._waiters = []
        self._flush_handle = None
        self._retrying_since = 0.0
        self.busy_seconds = 10.0
        # The open file's (device, inode), to notice it being deleted or replaced (_write).
        self._identity = None
        self._broken = None  # why the path cannot be written since then
        self._broken_at = 0.0
        self._no_autocheckpoint = False
        self._sidecars = {}  # our -wal and -shm files (see _reopen)
        self.notice = _say  # one line for the person running it
        self._shm_size = 0  # the `-shm` file's size once SQLite has mapped it (see _mend_shm)
        if readonly:
            self._open_readonly()
            return
        try:
            if str(path) != ":memory:":
                create_private(self.path)
            self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{path}: cannot open the capture store ({exc}); pass --store PATH to use another file") from exc
        try:
            self._prepare()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise StoreError(f"{path}: not a capture store ({exc}); move the file away or pass --store PATH to use another file") from None
        if str(path) != ":memory:":
            self._identity = self._file_identity()
            self._sidecars = self._sidecar_identities()

    def _prepare(self) -> None:
        schema.prepare(self.db, self.path)

    def _open_readonly(self) -> None:
        self.db = schema.open_readonly(self.path)

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

    # Reading

    _COLUMNS = COLUMNS
    _row = staticmethod(read_row)
    _row_exact = staticmethod(read_row_exact)

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
        count: int = self.db.execute("SELECT COUNT(*) FROM captures").fetchone()[0]
        return count

    def ids(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM captures ORDER BY id")]
