"""The HTTP side: an aiohttp server whose only job is to hand exact requests to the Pipeline.

Every path goes to the pipeline (unknown ones are captured and answered 404), bodies are read
as raw bytes (no automatic decompression), and headers keep their order and case.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import socket
import sys
from typing import Any, Callable, Coroutine

from aiohttp import web
from multidict import CIMultiDict

from .model import Headers, Request
from .pipeline import TRUNCATED_KEEP, Pipeline

log = logging.getLogger("inspector.receiver")

# How much of an oversized body is read (and thrown away) so the sender still sees the 413.
DRAIN_LIMIT = 64 * 1024 * 1024
MAX_HEADER_FIELD = 64 * 1024
SELFCHECK_PATH = "/__inspector/selfcheck/"
LOOP_ENV = "WEBHOOK_INSPECTOR_LOOP"  # "asyncio": the standard event loop even with uvloop


def run_server(main: Coroutine[Any, Any, Any]) -> Any:
    """Run a server's event loop to the end of `main`: uvloop where it is installed (a
    dependency on Linux and macOS; its transports cost about half of asyncio's per
    request), asyncio's own elsewhere or when WEBHOOK_INSPECTOR_LOOP=asyncio."""
    factory = None
    if os.environ.get(LOOP_ENV, "").strip().lower() != "asyncio":
        try:
            import uvloop

            factory = uvloop.new_event_loop
        except ImportError:
            pass
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


class PortInUse(Exception):
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        super().__init__(
            f"port {port} on {host} is already in use; pass --port N to choose another (--port 0 picks a free one)"
        )


async def read_body(request: web.BaseRequest, limit: int) -> tuple[bytes, int, bool, bool]:
    """(body, size sent, truncated, fully read)."""
    content = request.content
    declared = request.content_length
    if declared is not None and declared <= limit:
        try:
            body = await content.readexactly(declared)
        except asyncio.IncompleteReadError as exc:  # the sender gave up early: keep what came
            return exc.partial, len(exc.partial), False, False
        return body, declared, False, True
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await content.read(min(65536, limit + 1 - size) or 1)
        if not chunk:
            return b"".join(chunks), size, False, True
        chunks.append(chunk)
        size += len(chunk)
    kept = b"".join(chunks)[:TRUNCATED_KEEP]
    while size < DRAIN_LIMIT:
        chunk = await content.read(65536)
        if not chunk:
            return kept, size, True, True
        size += len(chunk)
    return kept, size, True, False


def listening_socket(host: str, port: int, *, shared: bool = False) -> socket.socket:
    """A TCP socket bound to host:port and listening; PortInUse when it is taken. `shared`
    sets SO_REUSEPORT, so that several sockets (one per `serve --workers` process) listen
    on the port and the kernel spreads connections over them."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUse(host, port) from None
        raise
    sock.listen(1024)
    return sock


def shared_listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` sockets listening on one port with SO_REUSEPORT. The port is first taken
    without it, so a port that anything (another inspector included) listens on is refused
    as usual instead of being silently shared."""
    probe = listening_socket(host, port)
    port = probe.getsockname()[1]
    probe.close()
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(listening_socket(host, port, shared=True))
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def can_share_port() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


class Receiver:
    def __init__(self, pipeline: Pipeline, host: str = "127.0.0.1", port: int = 8080, clock: Callable[[], float] | None = None):
        self.pipeline = pipeline
        self.host = host
        self.port = port
        self.clock = clock or pipeline.clock
        self._runner: web.ServerRunner | None = None
        self._site: web.SockSite | None = None
        self.socket: socket.socket | None = None  # the listening socket (handed to workers)
        self.inflight = 0
        self.idle = asyncio.Event()
        self.idle.set()
        # Self-check nonces in flight (tunnel.check_public_url adds and removes them) → arrived.
        self.selfcheck_nonces: dict[str, bool] = {}

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        self.inflight += 1
        self.idle.clear()
        try:
            return await self._handle(request)
        finally:
            self.inflight -= 1
            if self.inflight == 0:
                self.idle.set()

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if self.selfcheck_nonces and request.raw_path.startswith(SELFCHECK_PATH):
            # The port is public: only the nonce in flight answers; any other is an ordinary 404.
            nonce = request.raw_path[len(SELFCHECK_PATH):].partition("?")[0]
            if nonce in self.selfcheck_nonces:
                self.selfcheck_nonces[nonce] = True
                return web.json_response({"selfcheck": "ok", "nonce": nonce}, headers={"Cache-Control": "no-store"})
        received = self.clock()
        try:
            body, size, truncated, complete = await read_body(request, self.pipeline.config.max_body_bytes)
        except (asyncio.CancelledError, ConnectionError):
            raise
        except Exception as exc:  # a broken upload: nothing usable arrived
            log.debug("body read failed: %s", exc)
            body, size, truncated, complete = b"", 0, False, False
        target = request.raw_path
        path, _, query = target.partition("?")
        # Header bytes: UTF-8 where they are; others survive as surrogate escapes so replays
        # are exact.
        req = Request(
            method=request.method,
            path=path or "/",
            query=query,
            headers=Headers.of(tuple([(k.decode("utf-8", "surrogateescape"), v.decode("utf-8", "surrogateescape")) for k, v in request.raw_headers])),
            body=body,
            client=request.remote,
            received_at=received,
            truncated=truncated,
            size=size,
        )
        try:
            capture = await self.pipeline.handle(req)
        except Exception as exc:
            log.exception("pipeline failed")
            print(f"error: could not capture {req.method} {req.path}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            body_out = json.dumps({"error": "the inspector could not store this request", "detail": f"{type(exc).__name__}: {exc}"}).encode()
            return web.Response(status=503, body=body_out, content_type="application/json")
        response = capture.response
        assert response is not None
        out = web.Response(status=response.status, body=response.body, headers=CIMultiDict(response.headers.items))
        if not complete:
            out.force_close()
        return out

    async def start(self, sock: socket.socket | None = None) -> None:
        """Listen on host:port, or on `sock`, a listening socket another process bound
        (`serve --workers`: every worker accepts from the same socket)."""
        server = web.Server(
            self.handle,
            auto_decompress=False,
            max_field_size=MAX_HEADER_FIELD,
            max_line_size=MAX_HEADER_FIELD,
            access_log=None,
            handler_cancellation=False,
        )
        runner = web.ServerRunner(server, handle_signals=False, shutdown_timeout=5)
        await runner.setup()
        if sock is None:
            try:
                sock = listening_socket(self.host, self.port)
            except BaseException:
                await runner.cleanup()
                raise
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner, self._site, self.socket = runner, site, sock
        self.pipeline.local_base = self.url

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, let requests in flight finish (up to `grace` seconds), close."""
        if self._site is not None:
            await self._site.stop()
        try:
            await asyncio.wait_for(self.idle.wait(), grace)
        except asyncio.TimeoutError:
            pass
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = self._site = None
