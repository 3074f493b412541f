"""Keeping the file healthy while it is open: the checkpointer thread, mending a `-shm` cut by
another program, and opening the path again after the file was deleted or replaced."""

from __future__ import annotations

import os
import sqlite3
import sys
import time

from .base import StoreBase
from .errors import StoreError
from .schema import create_private


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# A WAL of more frames than this after a checkpoint pass is restarted (see start_checkpointer).
RESTART_FRAMES = 4096  # 16 MiB of 4 KiB pages: about a second of the ingest bench
# How long the restart may wait for the writer's transaction and for readers to leave the
# WAL, holding the write lock meanwhile; when a reader stays longer, the next pass tries again.
RESTART_WAIT_SECONDS = 0.02


class Upkeep(StoreBase):
    restart_frames = RESTART_FRAMES

    def start_checkpointer(self, every: float = 1.0) -> None:
        """Move WAL pages into the database from a thread of its own.

        SQLite's automatic checkpoint runs inside a commit, on the event loop, and fsyncs:
        a pause of several milliseconds now and then, which is what a p99 shows. A passive
        checkpoint from another connection never blocks the writer.

        But a passive checkpoint never starts the WAL over: SQLite does that only when a
        write transaction begins with every frame already copied, and under a steady stream
        of webhooks a commit always lands while the copy runs. The WAL then grew for as long
        as the stream lasted (over 300 MB in a minute of the ingest bench), each commit
        appending to new file pages. So once a pass leaves more than `restart_frames` in the
        WAL, a RESTART checkpoint follows it: it copies the few frames committed since (the
        passive pass copied the rest), waits for readers to leave the WAL, and makes the next
        commit write from its start again. It holds the write lock meanwhile, so it waits at
        most RESTART_WAIT_SECONDS (the server's group commit just retries a moment later)."""
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
                            conn = sqlite3.connect(str(self.path), timeout=RESTART_WAIT_SECONDS, check_same_thread=False)
                        _busy, frames, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()[0]
                        if frames >= self.restart_frames:
                            conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
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
