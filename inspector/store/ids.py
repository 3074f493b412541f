"""Id reservation. Each writer (a `serve` worker, the TUI, a CLI command) takes ids it
reserved in `sqlite_sequence` inside one of its write transactions, so the id a response
names is known before the row is written and no writer holds the write lock while it runs
flows. How many are kept in stock: see BUSY_GROUP."""

from __future__ import annotations

import asyncio
import sqlite3

from .base import StoreBase
from .errors import StoreError

# Ids a writer keeps in stock: twice the last group once groups reach BUSY_GROUP requests
# (one reservation per pass, folded into the group's own transaction); below that, the
# store's `quiet_stock`. A lone server keeps SERVER_STOCK, so a request never waits for a
# reservation; processes that share a store (serve --workers) keep none, so each request
# reserves its own id and their captures stay numbered in arrival order when traffic is
# light (busy, they interleave within a few milliseconds of arrivals).
BUSY_GROUP = 4
SERVER_STOCK = 64
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


class IdStock(StoreBase):
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
            if self._stock_ready(loop):
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

    def _stock_ready(self, loop: asyncio.AbstractEventLoop) -> bool:
        """The next insert has an id in stock that needs no check against the store: what
        `reserve_id` finds first, asked without entering a coroutine (most requests)."""
        return (self._next_id < self._id_end or bool(self._spare)) and loop.time() - self._stocked_at < (
            LONE_STALE_SECONDS if self.quiet_stock else STALE_STOCK_SECONDS
        )

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
