"""pyngrok, held so that it neither writes on our terminal nor blocks the event loop."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

TUNNEL_NAME = "webhook-inspector"


_spawned: dict[str, subprocess.Popen[str]] = {}


class _PyngrokSubprocess:
    """Stands in for the `subprocess` module inside pyngrok.process. pyngrok leaves ngrok's
    stderr on our terminal, where its error box would garble `serve` and the TUI's screen; this
    sends it into the stdout pipe pyngrok already reads, and remembers each child so a death
    can be reported with its exit code."""

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    def Popen(self, args: Any, **kwargs: Any) -> subprocess.Popen[str]:  # noqa: N802 — subprocess's name
        kwargs.setdefault("stderr", subprocess.STDOUT)
        proc = subprocess.Popen(args, **kwargs)
        if isinstance(args, (list, tuple)) and args:
            _spawned[str(args[0])] = proc
        return proc


def _prepare_pyngrok() -> None:
    import logging

    from pyngrok import process

    if not isinstance(process.subprocess, _PyngrokSubprocess):
        process.subprocess = _PyngrokSubprocess()  # type: ignore[assignment]
    # pyngrok logs each ngrok line; without a handler, Python's last resort prints its errors on stderr.
    logger = logging.getLogger("pyngrok")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


def _ngrok_proc(path: str) -> subprocess.Popen[str] | None:
    proc = _spawned.get(path)
    if proc is not None:
        return proc
    from pyngrok import process

    running = process._current_processes.get(path)  # only if the stand-in above was bypassed
    return running.proc if running is not None else None


def upstream_url(local_url: str) -> str:
    """What ngrok should forward to: the listening address, wildcard hosts made loopback."""
    parts = urlsplit(local_url)
    host = parts.hostname or "127.0.0.1"
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme or 'http'}://{host}:{parts.port or 80}"


def _run_in_thread(fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
    """Run blocking pyngrok work on a daemon thread: unlike the default executor, a thread
    stuck on a dead agent can never hold up interpreter exit."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if not future.done():
            future.set_result(value) if ok else future.set_exception(value)

    def run() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:  # noqa: BLE001 — handed to the awaiting coroutine
            outcome = (False, exc)
        else:
            outcome = (True, result)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:
            pass

    threading.Thread(target=run, name="ngrok", daemon=True).start()
    return future
