"""What other connections wrote to a store: new captures and rows updated since.

A process that shows a store (the TUI) learns of its own captures from its pipeline; the rest
(`import`, `replay --to`, another `serve`, the processes of `serve --workers`) it learns of
here. `changed()` asks SQLite's `PRAGMA data_version` on a connection of its own: a few
microseconds, no table read, so polling it costs nothing while nobody writes. Only when it
moved does `poll()` read, and then only ids above the highest one known, the holes below it
(ids another writer had reserved but not yet committed: several writers number in blocks),
and the rows it reported that may still change (async flow runs record their trace when they
end).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import Capture
from .codec import COLUMNS, read_row
from .schema import open_readonly

# An id below the highest known that has not shown up is waited for this long: the writer
# that reserved it commits within milliseconds when busy, and an idle writer renews its stock
# after about a second (ids.LONE_STALE_SECONDS), so an id missing for longer was given up.
HOLE_SECONDS = 30.0
MAX_HOLES = 4096
START_HOLES = 256  # ids below the highest stored at start() that may still come
# Rows from other writers are read again when they change for this long after they were
# first seen (their async runs end and record their trace), the newest MAX_WATCHED of them.
SETTLE_SECONDS = 600.0
MAX_WATCHED = 1000
UPDATE_CHECK_SECONDS = 0.5  # at most this often, and only when the store changed
_CHUNK = 500  # ids per IN (...) query
_STATUS, _MS, _RUNS, _NOTES = 15, 18, 19, 20  # in codec.COLUMNS


@dataclass
class Changes:
    new: list[Capture] = field(default_factory=list)  # in id order
    updated: list[Capture] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.new or self.updated)


class StoreWatcher:
    """Reports captures written by other connections to the store at `path`.

    `start()` takes the highest id stored now as known (a history load shows those); from
    then on `poll()` returns each capture once as new, and again as updated when its row
    changes while it may still settle. `seen(id)` tells it about captures this process already
    shows, so they are not read again. Not thread-safe: call it from one thread at a time."""

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.monotonic):
        self.path = Path(path)
        self.clock = clock
        self.db: sqlite3.Connection | None = None
        self.top = 0  # highest id known
        self.holes: dict[int, float] = {}  # id below `top` not seen yet -> when it was noticed
        self._version: int | None = None
        self._watched: dict[int, tuple[int, float]] = {}  # id -> (fingerprint, first seen)
        self._update_due = 0.0
        self._dirty = False  # the store changed since the rows watched were last compared
        self._prints: dict[int, int] = {}  # fingerprints of the rows just read
        self._recheck: set[int] = set()
        # A poll runs in a worker thread; a close that comes meanwhile (the app quitting, or a
        # cancelled wait for the poll) is carried out by the poll when it ends: closing a
        # connection another thread is reading from crashes the process (SIGSEGV in SQLite).
        self._lock = threading.Lock()
        self._polling = False
        self._close_after_poll = False

    def start(self) -> None:
        """Open the connection (StoreError/NoStore as for a read-only open) and take what is
        stored now as known."""
        self.db = open_readonly(self.path)
        self._version = self._data_version()
        top = int(self.db.execute("SELECT MAX(id) FROM captures").fetchone()[0] or 0)
        # Other writers may still commit ids they reserved below the highest stored.
        floor = max(self.top, top - START_HOLES)
        present = {cid for (cid,) in self.db.execute("SELECT id FROM captures WHERE id > ?", (floor,))}
        self.top = max(self.top, top)
        self._gap(floor + 1, top, skip=present)

    def close(self) -> None:
        """Close the connection now, or when the poll running in another thread ends."""
        with self._lock:
            if self._polling:
                self._close_after_poll = True
                return
            self._close_connection()

    def _close_connection(self) -> None:
        if self.db is not None:
            try:
                self.db.close()
            except sqlite3.Error:
                pass
            self.db = None

    def _data_version(self) -> int:
        assert self.db is not None
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def seen(self, capture_id: int | None) -> None:
        """A capture this process shows already (its own pipeline stored it)."""
        if capture_id is None:
            return
        if capture_id > self.top:
            self._gap(self.top + 1, capture_id)
            self.top = capture_id
        else:
            self.holes.pop(capture_id, None)

    def recheck(self, capture_id: int) -> None:
        """Read this row again at the next poll and report it as updated (its writer said it
        changed), whatever the comparison of watched rows would find."""
        self._recheck.add(capture_id)

    def changed(self) -> bool:
        """Whether any other connection committed since the last call: one PRAGMA."""
        if self.db is None:
            return False
        version = self._data_version()
        if version == self._version:
            return False
        self._version = version
        self._dirty = True
        return True

    def poll(self, *, check_updates: bool = False) -> Changes:
        """Read what changed (call after `changed()` said so, or at any time): captures not
        known yet, in id order, and watched rows whose content changed. Watched rows are
        compared at most every UPDATE_CHECK_SECONDS unless `check_updates`."""
        with self._lock:
            if self.db is None:
                return Changes()
            self._polling = True
        try:
            return self._poll(check_updates)
        finally:
            with self._lock:
                self._polling = False
                if self._close_after_poll:
                    self._close_after_poll = False
                    self._close_connection()

    def _poll(self, check_updates: bool) -> Changes:
        changes = Changes()
        now = self.clock()
        found = self._new_ids(now)
        if found:
            changes.new = self._read(found)
            for capture in changes.new:
                if capture.id is not None:
                    self._watch(capture.id, now)
        if self._recheck:
            ids, self._recheck = sorted(self._recheck - {c.id for c in changes.new}), set()
            changes.updated = self._read(ids) if ids else []
            for capture in changes.updated:
                if capture.id is not None and capture.id in self._watched:
                    self._watch(capture.id, self._watched[capture.id][1])
            self._prints.clear()
        if self._dirty and (check_updates or now >= self._update_due):
            fresh = {c.id for c in changes.new}
            if any(cid not in fresh for cid in self._watched):
                self._dirty = False
                self._update_due = now + UPDATE_CHECK_SECONDS
                known = {c.id for c in changes.updated}
                changes.updated += [c for c in self._updated(now, skip=fresh) if c.id not in known]
        return changes

    # New ids: above `top`, and the holes below it

    def _new_ids(self, now: float) -> list[int]:
        assert self.db is not None
        for cid, noticed in list(self.holes.items()):
            if now - noticed > HOLE_SECONDS:
                del self.holes[cid]
        found = [cid for (cid,) in self.db.execute("SELECT id FROM captures WHERE id > ? ORDER BY id", (self.top,))]
        filled = [cid for cid in self._existing(list(self.holes)) if cid in self.holes] if self.holes else []
        for cid in filled:
            del self.holes[cid]
        if found:
            previous, self.top = self.top, found[-1]
            self._gap(previous + 1, self.top, skip=set(found))
        return sorted(filled + found)

    def _gap(self, first: int, end: int, skip: set[int] | frozenset[int] = frozenset()) -> None:
        now = self.clock()
        for cid in range(first, end):
            if cid not in skip:
                self.holes[cid] = now
        self._cap_holes()

    def _cap_holes(self) -> None:
        if len(self.holes) > MAX_HOLES:  # keep the newest: an old gap is the likeliest given up
            for cid in sorted(self.holes)[: len(self.holes) - MAX_HOLES]:
                del self.holes[cid]

    def _existing(self, ids: list[int]) -> Iterable[int]:
        assert self.db is not None
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            yield from (cid for (cid,) in self.db.execute(f"SELECT id FROM captures WHERE id IN ({marks})", chunk))

    def _read(self, ids: list[int]) -> list[Capture]:
        assert self.db is not None
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows += self.db.execute(f"SELECT {COLUMNS} FROM captures WHERE id IN ({marks})", chunk).fetchall()
        rows.sort(key=lambda row: row[0])
        for row in rows:
            self._prints[row[0]] = _fingerprint(row[_RUNS], row[_NOTES], row[_STATUS], row[_MS])
        return [read_row(row) for row in rows]

    # Rows that may still change

    def _watch(self, capture_id: int, now: float) -> None:
        self._watched[capture_id] = (self._prints.pop(capture_id, 0), now)
        if len(self._watched) > MAX_WATCHED:
            for cid in sorted(self._watched)[: len(self._watched) - MAX_WATCHED]:
                del self._watched[cid]

    def _fingerprints(self, ids: list[int]) -> dict[int, int]:
        """What an update changes (the trace, the notes, the answer), hashed per row."""
        assert self.db is not None
        out = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT id, runs, notes, response_status, response_ms FROM captures WHERE id IN ({marks})"
            for cid, runs, notes, status, ms in self.db.execute(query, chunk):
                out[cid] = _fingerprint(runs, notes, status, ms)
        return out

    def _updated(self, now: float, skip: set[int | None]) -> list[Capture]:
        for cid, (_, since) in list(self._watched.items()):
            if now - since > SETTLE_SECONDS:
                del self._watched[cid]
        ids = [cid for cid in self._watched if cid not in skip]
        if not ids:
            return []
        prints = self._fingerprints(ids)
        changed = []
        for cid in ids:
            if cid not in prints:  # deleted (retention)
                del self._watched[cid]
            elif prints[cid] != self._watched[cid][0]:
                self._watched[cid] = (prints[cid], self._watched[cid][1])
                changed.append(cid)
        self._prints.clear()
        return self._read(changed) if changed else []


def _fingerprint(runs: object, notes: object, status: object, ms: object) -> int:
    return hash((runs, notes, status, ms))
