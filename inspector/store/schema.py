"""The store's schema and its migrations, and opening a file as a store (read-write or
read-only) with the checks that refuse another program's database or a newer schema."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .codec import COLUMNS
from .errors import NoStore, StoreError

ORIGINS = ("live", "replay", "sample", "import")
BUSY_TIMEOUT_MS = 10_000  # how long a blocking write waits for another writer


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


WAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes


def prepare(db: sqlite3.Connection, path: Path) -> None:
    """Make the open connection a store of this schema: WAL, migrated, indexed; StoreError
    (the connection closed) for a newer schema or another program's database."""
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        db.close()
        raise StoreError(
            f"{path}: written by a newer webhook-inspector (schema {version}, this one knows {SCHEMA_VERSION}); "
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
            db.close()
            shown = ", ".join(foreign[:5]) + (", …" if len(foreign) > 5 else "")
            raise StoreError(f"{path}: not a capture store (it holds the tables {shown}); pass --store PATH to use another file")
    mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal" and str(path) != ":memory:":
        raise sqlite3.DatabaseError(f"cannot switch to WAL mode (got {mode})")
    db.execute("PRAGMA synchronous=NORMAL")
    # When a writer starts the WAL over, a WAL file grown past this by a burst is cut back to it.
    db.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
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
    # The first schema indexed event_type, which no query has ever used: it cost every capture
    # an index insert and every commit another page written. Dropped outside the migrations,
    # as above, so the store stays readable and writable by older versions.
    db.execute("DROP INDEX IF EXISTS captures_event_type")
    # Touch the table so that a file from another program fails here, not later.
    db.execute("SELECT id FROM captures LIMIT 1").fetchall()


def open_readonly(path: Path) -> sqlite3.Connection:
    """Open an existing store with SQLite's mode=ro: nothing is created, migrated or switched
    to WAL. NoStore when nothing is there yet, StoreError when it is not a store of ours."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise NoStore(f"no capture store at {path}; serve or the TUI creates it (or pass --store PATH)") from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot open the capture store ({exc.strerror or exc}); pass --store PATH to use another file") from None
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a capture store; pass --store with the store's file (e.g. {path / 'captures.sqlite3'})")
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
            check_readonly(db, path)
        except StoreError:
            db.close()
            raise
        except sqlite3.DatabaseError as exc:
            db.close()
            raise StoreError(f"{path}: not a capture store ({exc}); pass --store PATH to use another file") from None
        if last:
            return db
        db.close()
    raise AssertionError("unreachable: the last attempt returns or raises")


def check_readonly(db: sqlite3.Connection, path: Path) -> None:
    """The checks of _prepare that need no writing: a store of this schema, or a clear
    refusal."""
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
    db.execute(f"SELECT {COLUMNS} FROM captures LIMIT 0").fetchall()
