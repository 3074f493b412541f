"""Group commit: captures and their updates written in short shared transactions, committed
before the answer is sent; a statement SQLite refuses falls back to a smaller row instead of
failing its group; retention."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..model import Capture, Response
from .base import Fallbacks, Statement, StoreBase
from .codec import INSERT, RESPONSE_BODY, Row, _dumps, minimal_row, row_values, slim_runs, trace_text, with_columns
from .errors import StoreError
from .ids import BUSY_GROUP, retry_delay
from .schema import BUSY_TIMEOUT_MS

RETENTION_GRACE = 5.0  # seconds; see enforce_retention
# The rows to drop are found by id, a range of the table itself: the `+` keeps SQLite from
# using the received_at index instead, which made it visit every capture older than the
# grace (all of them) each time: 10 ms per 50,000 captures, every 1,000 inserts.
RETENTION_DELETE = "DELETE FROM captures WHERE id <= ? AND +received_at < ?"

# What SQLite may refuse for one statement while the transaction goes on: a value over its
# length limit (DataError "string or blob too big"), a constraint; and what binding a value
# can raise before SQLite sees it (a str over INT_MAX bytes, a lone surrogate).
_REFUSED = (sqlite3.Error, OverflowError, ValueError)
_APPEND_NOTE = "notes=json_insert(notes, '$[#]', ?)"


class _TransactionLost(Exception):
    def __init__(self, index: int, error: BaseException):
        self.index, self.error = index, error


Unstorable = Callable[[int, str], Response]


def _unstorable(capture_id: int, why: str) -> Response:
    return Response.json(
        500,
        {"error": f"the inspector could not store this request as decided; it is kept as #{capture_id}", "detail": why, "id": capture_id},
    )


class GroupCommit(StoreBase):
    _INSERT = INSERT

    def _add(
        self, capture: Capture, decide: Callable[[int], Response | Capture | None] | None, unstorable: Unstorable | None = None
    ) -> tuple[Capture, Row]:
        new_id = self._take_id()
        result = decide(new_id) if decide is not None else None
        if isinstance(result, Capture):
            capture = result if result.id == new_id else result.with_(id=new_id)
        else:
            capture = capture.with_(id=new_id, response=result or capture.response)
        try:
            return row_values(capture, new_id)
        except Exception as exc:  # a value of ours the row cannot hold: keep the request
            why = f"the capture could not be stored as decided ({type(exc).__name__}: {exc}); the request is kept with a 500"
            response = (unstorable or _unstorable)(new_id, why)
            kept = capture.with_(response=response, runs=(), notes=capture.notes + (why,))
            try:
                return row_values(kept, new_id)
            except Exception:
                return kept, minimal_row(kept, new_id)

    def _fallbacks(self, capture: Capture, row: Row) -> Fallbacks:
        """Rows to try instead when SQLite refuses this one (e.g. a value over its length
        limit): the request always, exact; the trace and then the response body if they must go."""

        def instead(why: str) -> list[tuple[str, Any]]:
            note = f"SQLite refused the capture as decided ({why})"
            alternatives = []
            if capture.runs:
                runs, _ = trace_text(slim_runs(capture.runs))
                alternatives.append(
                    with_columns(
                        row, runs=runs, notes=_dumps(list(capture.notes) + [note + "; its flow trace is stored without step outputs"])
                    )
                )
            notes = list(capture.notes) + [note + "; its flow trace and the response body are not stored"]
            alternatives.append(
                with_columns(row, runs="[]", notes=_dumps(notes), response_body=b"" if row[RESPONSE_BODY] is not None else None)
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
        if not self._stock_ready(asyncio.get_running_loop()):
            await self.reserve_id()  # no await between this and insert_grouped
        capture, committed = self.insert_grouped(capture, decide, unstorable)
        await committed
        return capture

    def add_grouped(
        self, capture: Capture, decide: Callable[[int], Response | Capture | None] | None = None, unstorable: Unstorable | None = None
    ) -> tuple[Capture, asyncio.Future[None]] | None:
        """`add` without a coroutine, for the request path: `insert_grouped` when an id is in
        stock that needs no check (most requests); None when `add` must be awaited instead."""
        loop = asyncio.get_running_loop()
        if not self._stock_ready(loop):
            return None
        return self.insert_grouped(capture, decide, unstorable, loop)

    def insert_grouped(
        self,
        capture: Capture,
        decide: Callable[[int], Response | Capture | None] | None = None,
        unstorable: Unstorable | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> tuple[Capture, asyncio.Future[None]]:
        """Group commit for the server: the row joins a group that is written and committed
        once the event loop (`loop`, when the caller has it) has taken every request that is
        ready; await the future before answering. Many requests share one short write
        transaction."""
        capture, row = self._add(capture, decide, unstorable)
        return capture, self._join((self._INSERT, row), self._fallbacks(capture, row), loop)

    def update_grouped(self, capture_id: int, **changes: Any) -> asyncio.Future[None]:
        """`update` inside the next group commit; await the future before answering."""
        statement, fallbacks = self._update_statement(capture_id, **changes)
        return self._join(statement, fallbacks)

    def _join(
        self, statement: tuple[str, Any] | None, fallbacks: Fallbacks | None = None, loop: asyncio.AbstractEventLoop | None = None
    ) -> asyncio.Future[None]:
        if loop is None:
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
            # A lone server keeps at least its quiet stock when busy too: a reservation is a
            # read, an update and one more page in the commit; twice a group's worth alone
            # made one every other group.
            self._ahead = max(2 * inserts, self.quiet_stock) if inserts >= BUSY_GROUP else self.quiet_stock
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

    def _write(
        self,
        statements: list[Statement],
        *,
        blocking: bool,
        reserve: int = 0,
        waiters: list[asyncio.Future[None]] | None = None,
        drop: bool = False,
    ) -> bool:
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
        for waiter, error in refused:
            if waiter is None:
                unowned.append(error)
            elif not waiter.done():
                waiter.set_exception(StoreError(f"{self.path}: could not store this request ({error})"))
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

    def _run_statements(
        self,
        statements: list[Statement],
        refused: list[tuple[asyncio.Future[None] | None, BaseException]],
        lost: dict[int, BaseException],
        dead: set[int],
    ) -> int:
        """Execute a group's statements in the open transaction; returns the inserts done.
        SQLite undoes just the statement that fails (a value over its length limit, a
        constraint) and keeps the transaction: that statement's fallbacks are tried, and
        if none is taken it goes into `refused` with its waiter, while the others of the
        group still commit. Statements in `lost` (one that cost the transaction before) go
        straight to their fallbacks; those in `dead` (their fallbacks cost it too) are refused."""
        db = self.db
        insert = self._INSERT
        inserts = 0
        index, count = 0, len(statements)
        while index < count:
            entry = statements[index]
            sql = entry[0]
            why: BaseException | None = None
            if index in dead:
                refused.append((entry[2] if len(entry) > 2 else None, lost[index]))
                index += 1
                continue
            if index in lost:
                why = lost[index]
            elif sql is insert and not lost:
                # A run of inserts (most of a group) in one executemany; the one SQLite
                # refuses, if any, is handled below as a lone statement would be, and the
                # rest of the run goes on after it.
                end = index + 1
                while end < count and statements[end][0] is insert:
                    end += 1
                stopped, why = self._insert_run(statements, index, end)
                inserts += stopped - index
                if why is None:
                    index = end
                    continue
                if not db.in_transaction:
                    raise _TransactionLost(stopped, why) from None
                index, entry = stopped, statements[stopped]
            else:
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
                    index += 1
                    continue
            if sql is insert:
                inserts += 1
            index += 1
        return inserts

    def _insert_run(self, statements: list[Statement], start: int, end: int) -> tuple[int, BaseException | None]:
        """Execute the inserts statements[start:end] as one executemany: (end, None), or the
        index of the one SQLite refused and why (those before it are done, as each insert is
        a statement of its own). executemany takes each row from the iterator just before
        binding it, so the last row handed out is the one that failed."""
        at = start

        def rows() -> Iterator[Any]:
            nonlocal at
            for at in range(start, end):  # noqa: B007  (`at` is read after a failure)
                yield statements[at][1]

        try:
            self.db.executemany(self._INSERT, rows())
        except _REFUSED as exc:
            return at, exc
        return end, None

    def _store_instead(self, index: int, entry: Statement, why: BaseException) -> str | None:
        """Execute the first of a refused statement's fallbacks SQLite accepts; its SQL, or None."""
        fallbacks = entry[3] if len(entry) > 3 else None
        if fallbacks is None:
            return None
        try:
            alternatives: list[tuple[str, Any]] = fallbacks(str(why) or type(why).__name__)
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

    def _fail(self, waiters: list[asyncio.Future[None]], why: object) -> None:
        for w in waiters:
            if not w.done():
                w.set_exception(StoreError(f"{self.path}: could not commit captures ({why})"))

    def _update_statement(
        self, capture_id: int, *, runs: list[dict[str, Any]] | None = None, response: Response | None = None, notes: list[str] | None = None
    ) -> tuple[tuple[str, list[Any]] | None, Fallbacks | None]:
        """The UPDATE for these changes, and its fallbacks (see _run_statements)."""
        sets: list[str] = []
        args: list[Any] = []
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

        def instead(why: str) -> list[tuple[str, Any]]:
            keep, keep_args = [], []
            if response is not None:  # what the sender was told stays true; its body may go
                keep = ["response_status=?", "response_headers=?", "response_body=?", "response_ms=?"]
                keep_args = [response.status, _dumps([list(h) for h in response.headers]), b"", response.duration_ms]
            said = f"SQLite refused the flow trace or response of this capture ({why}); they are not stored"
            return [(f"UPDATE captures SET runs='[]', {', '.join(keep + [_APPEND_NOTE])} WHERE id=?", keep_args + [said, capture_id])]

        return (f"UPDATE captures SET {', '.join(sets)} WHERE id=?", args), instead

    def update(
        self, capture_id: int, *, runs: list[dict[str, Any]] | None = None, response: Response | None = None, notes: list[str] | None = None
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
        cur = self.db.execute(RETENTION_DELETE, (row[0] - self.max_captures, time.time() - RETENTION_GRACE))
        return cur.rowcount
