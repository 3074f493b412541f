"""Captures in SQLite (SPEC §7). `Store` is the façade; its parts, one job each:

* `schema`   — the table, its migrations, opening a file as a store (read-write or read-only)
* `codec`    — a Capture as a row and back (damaged rows, traces too large for a row)
* `ids`      — id reservation shared by every writer of a store
* `commit`   — group commit, fallbacks for refused rows, retention
* `upkeep`   — checkpointer thread, `-shm` mending, reopening after rm/mv
"""

from __future__ import annotations

from .codec import KEEP_MESSAGE_CHARS, MAX_TRACE_CHARS, damaged_row, trace_text
from .commit import RETENTION_GRACE, Unstorable
from .errors import NoStore, StoreError
from .facade import DEFAULT_MAX_CAPTURES, DEFAULT_PATH, Store
from .ids import (
    BUSY_GROUP,
    LONE_STALE_SECONDS,
    RETRY_MAX_SECONDS,
    RETRY_SECONDS,
    SERVER_STOCK,
    STALE_STOCK_SECONDS,
    retry_delay,
)
from .schema import BUSY_TIMEOUT_MS, MIGRATIONS, ORIGINS, SCHEMA_VERSION, create_private

__all__ = [
    "BUSY_GROUP",
    "BUSY_TIMEOUT_MS",
    "DEFAULT_MAX_CAPTURES",
    "DEFAULT_PATH",
    "KEEP_MESSAGE_CHARS",
    "LONE_STALE_SECONDS",
    "MAX_TRACE_CHARS",
    "MIGRATIONS",
    "ORIGINS",
    "RETENTION_GRACE",
    "RETRY_MAX_SECONDS",
    "RETRY_SECONDS",
    "SCHEMA_VERSION",
    "SERVER_STOCK",
    "STALE_STOCK_SECONDS",
    "NoStore",
    "Store",
    "StoreError",
    "Unstorable",
    "create_private",
    "damaged_row",
    "retry_delay",
    "trace_text",
]
