"""The state the parts of Store share (ids, group commit, upkeep), declared once so each
part can be read and type-checked on its own."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

# What to try instead of a statement SQLite refused, given why: (SQL, parameters) pairs.
Fallbacks = Callable[[str], list[tuple[str, Any]]]
# A statement of a write: (SQL, parameters, the future of the request waiting for it or None,
# its Fallbacks or None).
Statement = tuple[Any, ...]


class StoreBase:
    path: Path
    db: sqlite3.Connection
    group_window: float
    max_captures: int
    quiet_stock: int
    busy_seconds: float
    notice: Callable[[str], None]
    _inserts: int
    _next_retention: int
    _next_id: int
    _id_end: int
    _spare: list[tuple[int, int]]
    _ahead: int
    _stocked_at: float
    _group: list[Statement]
    _waiters: list[asyncio.Future[None]]
    _flush_handle: asyncio.Handle | None
    _retrying_since: float
    _identity: tuple[int, int] | None
    _broken: str | None
    _broken_at: float
    _no_autocheckpoint: bool
    _sidecars: dict[str, tuple[int, int]]
    _shm_size: int
    _checkpointer: tuple[threading.Event, threading.Thread] | None  # set by start_checkpointer

    if TYPE_CHECKING:  # provided by the parts (ids, commit, upkeep)

        async def reserve_id(self) -> None: ...
        def _stock(self) -> int: ...
        def _stock_ready(self, loop: asyncio.AbstractEventLoop) -> bool: ...
        def _take_id(self) -> int: ...
        def _give_back(self) -> None: ...
        def _reserve(self, count: int, drop: bool = False) -> None: ...
        def _write(
            self,
            statements: list[Statement],
            *,
            blocking: bool,
            reserve: int = 0,
            waiters: list[asyncio.Future[None]] | None = None,
            drop: bool = False,
        ) -> bool: ...
        def enforce_retention(self) -> int: ...
        def _file_identity(self) -> tuple[int, int] | None: ...
        def _mend_shm(self) -> None: ...
        def _remember_shm(self) -> None: ...
        def _reopen(self) -> None: ...
        def _reopen_broken(self) -> bool: ...
        def _prepare(self) -> None: ...
