"""Where the running server listens, for the commands that talk to it (`send`, `replay`, `export`).

A server session writes one small JSON record per process next to its store
(`captures.sqlite3.server-PID.json`, mode 0600, replaced atomically), rewrites it when its public
URL changes and removes it on a clean stop. A record left by a process that was killed is stale:
its pid is gone, or the pid now belongs to a process that started at another time. Of the live
records, the newest one wins, so two servers on one store never read each other's address.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

RECORD_VERSION = 1
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@dataclass(frozen=True)
class ServerRecord:
    """One running server, as its session wrote it down."""

    pid: int
    local_url: str
    store: str
    started_at: float
    public_url: str | None = None
    tenant: str | None = None
    process_start: str | None = None  # the kernel's start time of `pid`; tells a reused pid
    version: int = RECORD_VERSION

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> ServerRecord | None:
        """None for anything that is not a record this version wrote (another program's file,
        a half-written one from an older build): it is ignored, never fatal."""
        if not isinstance(data, dict):
            return None
        pid, url, store, started = data.get("pid"), data.get("local_url"), data.get("store"), data.get("started_at")
        if type(pid) is not int or pid <= 0 or not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return None
        if not isinstance(store, str) or not isinstance(started, int | float) or isinstance(started, bool):
            return None
        public, tenant, start = data.get("public_url"), data.get("tenant"), data.get("process_start")
        return cls(
            pid=pid,
            local_url=url,
            store=store,
            started_at=float(started),
            public_url=public if isinstance(public, str) and public else None,
            tenant=tenant if isinstance(tenant, str) else None,
            process_start=start if isinstance(start, str) else None,
        )


def _prefix(store_path: str | Path) -> str:
    return Path(store_path).name + ".server-"


def record_path(store_path: str | Path, pid: int | None = None) -> Path:
    """The record of process `pid` (default: this one) serving the store at `store_path`."""
    store = Path(store_path)
    return store.parent / f"{_prefix(store)}{os.getpid() if pid is None else pid}.json"


def process_start(pid: int) -> str | None:
    """When `pid` started, in the kernel's clock ticks since boot (Linux /proc); None where that
    cannot be read. Two processes with one pid never share it."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from its last ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    except OSError:
        return False
    return True


def _answers(url: str, timeout: float = 0.3) -> bool:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        with socket.create_connection((parts.hostname or DEFAULT_HOST, port), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def is_live(record: ServerRecord) -> bool:
    """Whether the process that wrote `record` still runs: its pid exists and, where the start
    time can be read, is the same process; where it cannot, the port must still answer."""
    if not _pid_alive(record.pid):
        return False
    if record.process_start is not None:
        now = process_start(record.pid)
        if now is not None:
            return now == record.process_start
    return _answers(record.local_url)


def _read(path: Path) -> ServerRecord | None:
    try:
        if path.stat().st_size > 64 * 1024:
            return None
        return ServerRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def recorded_servers(store_path: str | Path) -> list[tuple[Path, ServerRecord, bool]]:
    """Every record next to the store: (file, record, live), newest first."""
    store = Path(store_path)
    try:
        paths = sorted(store.parent.glob(f"{_prefix(store)}*.json"))
    except OSError:
        return []
    found = []
    for path in paths:
        record = _read(path)
        if record is not None:
            found.append((path, record, is_live(record)))
    found.sort(key=lambda item: item[1].started_at, reverse=True)
    return found


def running_server(store_path: str | Path) -> ServerRecord | None:
    """The newest live server recorded next to the store, if any. Stale records are skipped
    (and left alone: readers never change the store's folder)."""
    for _path, record, live in recorded_servers(store_path):
        if live:
            return record
    return None


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Write `data` as the file at `path` atomically, readable by the owner only: readers see
    the old record or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
        os.write(fd, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
    finally:
        os.close(fd)
    try:
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class Recorder:
    """The record of this process's server: written once it listens, rewritten when the public
    URL changes, removed when it stops. A failure to write is reported once through `warn` and
    never stops the server (the commands then fall back to --to / --host / --port)."""

    def __init__(
        self,
        store_path: str | Path,
        *,
        tenant: str | None = None,
        warn: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = record_path(store_path)
        self.store = str(Path(store_path).resolve())
        self.tenant = tenant
        self.warn = warn
        self.clock = clock
        self.record: ServerRecord | None = None
        self._warned = False

    def listening(self, local_url: str) -> None:
        self._clean_stale()
        self.record = ServerRecord(
            pid=os.getpid(),
            local_url=local_url,
            store=self.store,
            started_at=self.clock(),
            tenant=self.tenant,
            process_start=process_start(os.getpid()),
        )
        self._write()

    def public_url(self, url: str | None) -> None:
        if self.record is None or self.record.public_url == url:
            return
        self.record = replace(self.record, public_url=url)
        self._write()

    def remove(self) -> None:
        if self.record is None:
            return
        self.record = None
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            self._fail(f"could not remove {self.path}: {exc.strerror or exc}")

    def _write(self) -> None:
        if self.record is None:
            return
        try:
            _write_private(self.path, self.record.to_json())
        except OSError as exc:
            self._fail(
                f"could not record where this server listens in {self.path} ({exc.strerror or exc}); "
                "send, replay and export need --to URL (or --port) to reach it"
            )

    def _clean_stale(self) -> None:
        """Records of killed servers on this store go: they would only slow every reader."""
        for path, record, live in recorded_servers(self.store):
            if not live and record.pid != os.getpid():
                try:
                    path.unlink()
                except OSError:
                    pass

    def _fail(self, text: str) -> None:
        if not self._warned and self.warn is not None:
            self._warned = True
            self.warn(text)


@dataclass(frozen=True)
class Target:
    """Where a command sends: `base` (scheme://host:port) and how it was chosen, for errors."""

    base: str
    how: str  # "--to", "--host/--port", "recorded", "default"
    record: ServerRecord | None = None

    def described(self, store_path: str | Path) -> str:
        """Words for an error: what was tried and why that address."""
        if self.how == "recorded" and self.record is not None:
            return f"the server recorded next to {store_path} (pid {self.record.pid})"
        if self.how == "default":
            return f"no running server recorded next to {store_path}"
        return f"from {self.how}"

    def advice(self) -> str:
        if self.how == "--to":
            return "check the URL, or start the target first"
        return "start `webhook-inspector serve` (or the TUI) with this --store, or pass --to URL"


def resolve_target(store_path: str | Path, *, to: str | None, host: str, port: int, explicit: bool) -> Target:
    """`--to` first, then an explicitly given --host/--port, then the newest live server
    recorded next to the store, then the default address."""
    if to:
        return Target(to.rstrip("/"), "--to")
    if explicit:
        return Target(f"http://{host}:{port}", "--host/--port")
    record = running_server(store_path)
    if record is not None:
        return Target(record.local_url.rstrip("/"), "recorded", record)
    return Target(f"http://{host}:{port}", "default")
