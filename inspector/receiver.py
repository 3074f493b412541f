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
import re
import socket
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.helpers import EMPTY_BODY_STATUS_CODES, rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE, HttpVersion10, HttpVersion11
from aiohttp.http_exceptions import BadHttpMethod, BadStatusLine, HttpProcessingError, InvalidHeader, InvalidURLError, LineTooLong
from aiohttp.web_protocol import RequestHandler

from .model import Headers, Request, Response, quick_init
from .pipeline import TRUNCATED_KEEP, Pipeline
from .store import StoreError

log = logging.getLogger("inspector.receiver")

# How much of an oversized body is read (and thrown away) so the sender still sees the 413.
DRAIN_LIMIT = 64 * 1024 * 1024
MAX_HEADER_FIELD = 64 * 1024
MAX_HEADERS = 128  # aiohttp's limit, named so that the rejection can say it
READ_CHUNK = 65536
# A request head (request line and headers) must be complete this long after its first
# byte, and a body may pause this long between bytes: a slow sender holds a connection for
# seconds, not for ever.
HEAD_TIMEOUT = 10.0
BODY_IDLE_TIMEOUT = 10.0
KEEPALIVE_TIMEOUT = 75.0  # an idle keep-alive connection (aiohttp's web default)
# Connections kept at once: below the open-file limit by this reserve (the store, flow files,
# worker pipes need descriptors too), so that accepting never meets EMFILE. Past the cap the
# connection that has waited longest for a request head is closed to make room.
FD_RESERVE = 128
MAX_CONNECTIONS = 10_000
# Connections the kernel holds for accepting. aiohttp's default (128) re-listens a socket
# with a queue short enough that a burst of senders has its handshakes dropped and retried
# seconds later.
BACKLOG = 1024
# At the cap with no idle connection to close, a body arriving slower than this (after the
# grace period) is cut, so that senders trickling bodies cannot keep the port full either.
SLOW_BODY_RATE = 1024  # bytes per second
SLOW_BODY_GRACE = 2.0
NOTE_EVERY = 60.0  # seconds between two notes of one kind (slow heads, shed connections)
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
        quiet_accept_errors(runner.get_loop())
        return runner.run(main)


_ACCEPT_ERRNOS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


def quiet_accept_errors(loop: asyncio.AbstractEventLoop, warn: Callable[[str], None] | None = None) -> None:
    """asyncio's loop logs a traceback for every failed accept() when descriptors run out,
    about once a second, and pauses accepting that long (connections wait in the kernel's
    queue). That is worth one line a minute, not a traceback a second."""
    previous = loop.get_exception_handler()
    last = [-NOTE_EVERY]

    def handler(loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in _ACCEPT_ERRNOS and "accept" in str(context.get("message", "")):
            now = time.monotonic()
            if now - last[0] >= NOTE_EVERY:
                last[0] = now
                (warn or _stderr)(
                    f"warning: cannot accept connections ({exc.strerror}); they wait in the queue and accepting resumes "
                    "in a second — raise the open-file limit (`ulimit -n`) if this repeats"
                )
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


class PortInUse(Exception):
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        super().__init__(f"port {port} on {host} is already in use; pass --port N to choose another (--port 0 picks a free one)")


@quick_init
@dataclass(frozen=True)
class Body:
    """What `read_body` got: the bytes kept, how many came, and whether they are all."""

    data: bytes
    size: int  # bytes the sender sent (more than len(data) when truncated)
    truncated: bool  # over the limit: data holds the first TRUNCATED_KEEP bytes
    complete: bool  # the whole body arrived (and was read); if not, close the connection
    problem: str | None = None  # why it is not complete, for the capture's notes


class _Stalled(Exception):
    """The sender sent no body byte for the idle timeout."""


async def _next_chunk(content: Any, idle: float) -> bytes:
    # Most bodies are already buffered when the handler runs: no timer for those.
    chunk = content.read_nowait(READ_CHUNK)
    if chunk or content.is_eof():
        return chunk
    try:
        async with asyncio.timeout(idle):
            return await content.read(READ_CHUNK)
    except TimeoutError:
        raise _Stalled from None


async def read_body(request: web.BaseRequest, limit: int, idle: float = BODY_IDLE_TIMEOUT) -> Body:
    """The request's body as raw bytes. Over `limit`, the first TRUNCATED_KEEP bytes are kept
    and the rest is read (up to DRAIN_LIMIT) and counted. A sender that disconnects, pauses
    longer than `idle` or breaks the chunked encoding leaves what it sent, marked incomplete."""
    content = request.content
    declared = request.content_length
    chunks: list[bytes] = []
    kept = size = 0
    problem = None
    try:
        while size < DRAIN_LIMIT:
            chunk = await _next_chunk(content, idle)
            if not chunk:
                break
            size += len(chunk)
            if kept <= limit:  # until the body is known to be too large, all of it
                chunks.append(chunk)
                kept += len(chunk)
        else:
            problem = f"stopped reading the oversized body after {size} bytes"
    except _Stalled:
        problem = f"the sender sent nothing for {idle:g} s after {size} body bytes" + (f" of {declared}" if declared is not None else "")
    except asyncio.CancelledError:
        raise
    except ConnectionError:
        problem = f"the connection closed after {size} body bytes" + (f" of {declared}" if declared is not None else "")
    except Exception as exc:  # a broken chunked encoding and the like: keep what came
        problem = f"the body could not be read after {size} bytes ({type(exc).__name__})"
    if problem is None and declared is not None and size < declared:
        problem = f"the connection closed after {size} body bytes of {declared}"
    data = b"".join(chunks)
    truncated = size > limit
    if truncated:
        data = data[:TRUNCATED_KEEP]
    return Body(data, size, truncated, problem is None, problem)


def buffered_body(request: web.BaseRequest, limit: int) -> Body | None:
    """The body when all of it has already arrived (the usual webhook: one read brought the
    head and the body), as many bytes as were declared, and within `limit`; None, with
    nothing taken, when read_body must read it (still coming, over the limit, cut short or
    broken): read_body then says what happened."""
    content = request.content
    if not content.is_eof() or content.exception() is not None:
        return None
    size = content.total_bytes
    declared = request.content_length
    if size > limit or (declared is not None and size != declared):
        return None
    data = content.read_nowait(-1)  # at the end of the body, every byte of it is buffered
    return Body(data, len(data), False, True)


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
    sock.listen(BACKLOG)
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


def connection_cap() -> int:
    """How many connections to keep at once: MAX_CONNECTIONS, or fewer so that FD_RESERVE
    descriptors stay free under the open-file limit (`ulimit -n`)."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return MAX_CONNECTIONS
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return MAX_CONNECTIONS
    return max(16, min(MAX_CONNECTIONS, soft - max(FD_RESERVE, soft // 8)))


def _stderr(text: str) -> None:
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):  # no stderr to tell: the count still shows it
        pass


def can_share_port() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


# Rejected requests (HTTP the parser refused) are kept as far as they were read.

_METHOD = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32}")
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_SHOWN = re.compile("[\x00-\x1f\x7f-\x9f]")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _target_text(raw: bytes) -> str:
    # The store keeps paths as text, which cannot hold bytes that are not UTF-8 (headers
    # can: they are stored as JSON): those become %XX, as the sender should have sent them.
    return _ESCAPED_BYTE.sub(lambda m: f"%{ord(m.group()) - 0xDC00:02X}", _text(raw))


def shown(text: str, limit: int = 60) -> str:
    """Text from a sender, safe for one terminal line: control characters escaped, cut."""
    text = _SHOWN.sub(lambda m: f"\\x{ord(m.group()):02x}", text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def rejected_request(raw: bytes, read: int, client: str | None, received_at: float) -> Request:
    """A request the parser refused, from the bytes read of it (`raw`, the first `read`):
    request line and headers as far as they can be told apart, the rest as the body. Bytes
    that are not an HTTP request line at all (TLS, a port scan) are all body."""
    end, sep = raw.find(b"\r\n\r\n"), 4
    if end < 0:
        end, sep = raw.find(b"\n\n"), 2
    head, body = (raw, b"") if end < 0 else (raw[:end], raw[end + sep :])
    lines = head.split(b"\n")
    method, _, rest = lines[0].rstrip(b"\r").partition(b" ")
    truncated = read > len(raw)
    if not _METHOD.fullmatch(method):
        return Request("", "", "", Headers(), raw, client, received_at, truncated, read)
    target = rest.rpartition(b" HTTP/")[0] if b" HTTP/" in rest else rest
    path, _, query = _target_text(target).partition("?")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.rstrip(b"\r").partition(b":")
        if colon:
            headers.append((_text(name), _text(value.strip(b" \t"))))
        elif line.strip():  # not a header line; kept so that no byte read is lost
            headers.append((_text(line.rstrip(b"\r")), ""))
    return Request(_text(method), path, query, Headers(headers), body, client, received_at, truncated, read)


def parser_reason(exc: HttpProcessingError, request: Request) -> str:
    """What was wrong, in words a person can act on, without quoting what was sent (a header
    value can be a secret)."""
    message = (exc.message or "").split("\n", 1)[0]
    if isinstance(exc, BadHttpMethod):
        if not request.method and request.body.startswith(b"\x16\x03"):
            return "TLS (https://) traffic on this plain-HTTP port; send to http://, or to the tunnel's https:// URL"
        return "the request line does not start with an HTTP method (is this HTTP at all?)"
    if isinstance(exc, BadStatusLine):
        return "the request line is not `METHOD target HTTP/1.1`"
    if isinstance(exc, InvalidURLError):
        return "the request target has bytes HTTP does not allow (non-ASCII, spaces or control characters must be percent-encoded)"
    if isinstance(exc, LineTooLong):
        if not request.headers:
            return f"the request line is longer than {MAX_HEADER_FIELD} bytes"
        name = max(request.headers, key=lambda item: len(item[0]) + len(item[1]))[0]
        return f"header {shown(name)!r} is longer than {MAX_HEADER_FIELD} bytes"
    if "Too many headers" in message:
        return f"more than {MAX_HEADERS} headers ({len(request.headers)} read)"
    if isinstance(exc, InvalidHeader) or "header value char" in message:
        for name, value in request.headers:
            if _CONTROL.search(value):
                return f"header {shown(name)!r} has a control character in its value (only tab and visible characters are allowed)"
        return "a header value has a control character (only tab and visible characters are allowed)"
    if "header" in message.lower() and "token" in message.lower():
        return "a header name has characters HTTP does not allow (or a header line has no colon)"
    cut = re.split(r"\s*b['\"]", message, maxsplit=1)[0].strip().rstrip(":.")  # never the bytes
    return f"malformed HTTP: {shown(cut, 120) or type(exc).__name__}"


# The usual answer (a request read whole, answered with a body) is written as one bytes
# object made here, the bytes aiohttp's web.Response would write: status line, our headers
# in order, Content-Length, Content-Type when there is none, Date, Server, Connection when
# it is not the version's default. That skips, per request, a CIMultiDict of the headers,
# the response's prepare/write_eof coroutines and the StreamWriter's layers. What that path
# treats specially (HEAD, a status without a body, a header aiohttp sets itself, a non-ASCII
# name, a character it refuses or drops) still goes through web.Response.
_REASONS = {status.value: status.phrase for status in HTTPStatus}  # aiohttp's reason phrases
_SET_BY_AIOHTTP = frozenset({"content-length", "transfer-encoding", "date", "server", "connection"})
_REFUSED_IN_HEADERS = re.compile("[\x00-\x08\x0a-\x1f\x7f]")  # as aiohttp's writer refuses
_SERVER_LINE = f"Server: {SERVER_SOFTWARE}"


class _Answer:
    """A handler's answer that _Connection.finish_response writes itself (see answer_bytes).
    `keep_alive` is what aiohttp's connection loop reads of any answer once it is written."""

    __slots__ = ("response", "keep_alive")
    __http_exception__ = False  # aiohttp asks this of every handler's result

    def __init__(self, response: Response):
        self.response = response
        self.keep_alive: bool | None = None

    def aiohttp_response(self) -> web.Response:
        return aiohttp_response(self.response)


def aiohttp_response(response: Response) -> web.Response:
    """Our answer as aiohttp's: it copies the pairs into its own CIMultiDict, so none is
    built first."""
    return web.Response(status=response.status, body=response.body, headers=response.headers.items)


def answer_bytes(request: web.BaseRequest, response: Response) -> tuple[bytes, bool] | None:
    """What aiohttp's web.Response(status, body, headers) writes for `response` to `request`,
    head and body, and whether the connection stays open after it; None where that path
    must write it (see above)."""
    status = response.status
    body = response.body
    method = request.method
    if type(status) is not int or status in EMPTY_BODY_STATUS_CODES or method == "HEAD" or method == "CONNECT" or type(body) is not bytes:
        return None
    version = request.version
    keep_alive = request.keep_alive
    if version == HttpVersion11:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, '')}"]
        connection = "" if keep_alive else "Connection: close"
    elif version == HttpVersion10:
        lines = [f"HTTP/1.0 {status} {_REASONS.get(status, '')}"]
        connection = "Connection: keep-alive" if keep_alive else ""
    else:
        return None
    typed = not body  # aiohttp gives a body (only) a Content-Type when it has none
    for name, value in response.headers.items:
        lowered = name.lower()
        if lowered in _SET_BY_AIOHTTP or not name.isascii():
            return None
        if lowered == "content-type":
            typed = True
        lines.append(f"{name}: {value}")
    # aiohttp refuses a control character other than tab (ValueError): that path says so.
    # Text that is all printable has none, and most headers are (one test for all of them).
    written = "".join(lines)
    if not written.isprintable() and _REFUSED_IN_HEADERS.search(written):
        return None
    lines.append(f"Content-Length: {len(body)}")
    if not typed:
        lines.append("Content-Type: application/octet-stream")
    lines.append(f"Date: {rfc822_formatted_time()}")
    lines.append(_SERVER_LINE)
    if connection:
        lines.append(connection)
    lines.append("\r\n")  # joined: the last line's end and the empty line
    try:
        head = "\r\n".join(lines).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which aiohttp leaves out
        return None
    return head + body, keep_alive


_TIMEOUT_ANSWER = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
_FULL_ANSWER = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class _Connection(RequestHandler):
    """aiohttp's connection handler, plus: the bytes of the request head being read (so
    that a request the parser refuses can still be captured), a deadline for that head, and
    what the connection cap needs to know (whether a request is being answered, since when
    the connection waits for one)."""

    def __init__(self, manager: _Server, receiver: Receiver, **kwargs: Any):
        super().__init__(manager, **kwargs)
        self.receiver = receiver
        self.head: list[bytes] = []  # the first TRUNCATED_KEEP bytes of the head being read
        self.head_kept = 0
        self.head_read = 0
        self.last_head: tuple[list[bytes], int] = ([], 0)  # of the last request parsed (or refused)
        self.open = 0  # requests parsed and not yet answered
        self.waiting_since = self._loop.time()  # for a request head, while open == 0
        self.head_timer: asyncio.TimerHandle | None = None
        self.shed = False
        self.abandon = False  # close right after this answer: the sender stopped sending its body
        self.body_since: float | None = None  # the handler is reading a body, since then
        self.body_read = 0  # bytes received while a request was open

    def data_received(self, data: bytes) -> None:
        if self.open == 0:  # body bytes are the handler's; pipelined heads are not kept
            if self.head_kept < TRUNCATED_KEEP:
                self.head.append(data)
                self.head_kept += len(data)
            self.head_read += len(data)
        else:
            self.body_read += len(data)
        count = self._request_count
        super().data_received(data)
        if self._request_count != count:
            self.open += self._request_count - count
            self.body_read = 0
            self.last_head = (self.head, self.head_read)
            self.head, self.head_kept, self.head_read = [], 0, 0
            if self.head_timer is not None:
                self.head_timer.cancel()
                self.head_timer = None
        elif data and self.open == 0 and self.head_timer is None and self.transport is not None:
            self.head_timer = self._loop.call_later(self.receiver.head_timeout, self._head_overdue)

    def resume_reading(self, resume_parser: bool = True) -> None:
        # The request's body stream calls this whenever it is read below its low-water mark,
        # so once per request (buffered_body's read), and aiohttp then runs the parser on no
        # bytes, in case it held back data while paused. Nothing is held back unless reading
        # was paused (flow control: `_reading_paused`) or the queue of parsed requests was
        # full (`_buffer_paused`, which also holds the parser's rest): otherwise there is
        # nothing to resume.
        if self._reading_paused or self._buffer_paused:
            super().resume_reading(resume_parser)

    def _head_overdue(self) -> None:
        self.head_timer = None
        if self.open or self.transport is None:
            return
        self.receiver.note(
            "slow-head",
            f"note: closed a connection from {self._peer()}: its request head was not complete "
            f"{self.receiver.head_timeout:g} s after it began (a stalled or very slow sender; answered 408)",
        )
        self.transport.write(_TIMEOUT_ANSWER)
        self.force_close()

    def shed_for_room(self) -> None:
        """Closed to make room under the connection cap: it waited longest for a request,
        or its upload came slowest. One partway through a request head (or not yet begun)
        is told 503; an idle keep-alive or a cut upload just closes (its capture says why)."""
        self.shed = True
        if self.transport is not None:
            if self.head_read or not self._request_count:  # an idle keep-alive just closes
                self.transport.write(_FULL_ANSWER)
            self.force_close()

    def _peer(self) -> str:
        peer = self.peername
        return str(peer[0]) if isinstance(peer, tuple) else "an unknown client"

    async def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        try:
            answer: Any = resp  # the handler's: aiohttp's kind, or an _Answer to write here
            if type(answer) is _Answer:
                written = None if self._upgraded or self._logging_enabled else answer_bytes(request, answer.response)
                if written is None:
                    resp = answer.aiohttp_response()
                else:
                    # As aiohttp's finish_response and StreamWriter do: a connection gone or
                    # closing is a reset; a sender reading slower than we write is waited for.
                    request._finish()
                    data, answer.keep_alive = written
                    transport = self.transport
                    if transport is None or transport.is_closing():
                        return resp, True
                    transport.write(data)
                    if self._paused:
                        try:
                            await self._drain_helper()
                        except ConnectionError:
                            return resp, True
                    return resp, False
            return await super().finish_response(request, resp, start_time)
        finally:
            if self.abandon:
                # Not aiohttp's lingering read (up to 10 s) of the rest of a body that
                # stopped coming: the connection goes as soon as the answer is written.
                self.abandon = False
                self.force_close()
            self.open = max(0, self.open - 1)
            if self.open == 0:
                self.waiting_since = self._loop.time()
                self.last_head = ([], 0)  # an idle keep-alive connection holds no old bytes

    def connection_lost(self, exc: BaseException | None) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None
        super().connection_lost(exc)

    def _make_error_handler(self, err_info: Any) -> Callable[[web.BaseRequest], Any]:
        exc = getattr(err_info, "exc", None)
        if getattr(err_info, "status", None) != 400 or not isinstance(exc, HttpProcessingError):
            return super()._make_error_handler(err_info)
        # aiohttp would log a traceback quoting the bytes (header values can be secrets) and
        # answer in plain text; the receiver captures the request instead.
        chunks, read = self.last_head
        raw = b"".join(chunks)[:TRUNCATED_KEEP]
        receiver = self.receiver

        async def rejected(request: web.BaseRequest) -> web.StreamResponse:
            return await receiver.reject(request, raw, read, exc)

        return rejected


class _Server(web.Server):
    """aiohttp's low-level server with our connection handler and a cap on connections."""

    def __init__(self, receiver: Receiver, handler: Any, **kwargs: Any):
        super().__init__(handler, **kwargs)
        self.receiver = receiver
        self.live = 0  # connections open and not shed

    def __call__(self) -> RequestHandler:
        return _Connection(self, self.receiver, loop=self._loop, **self._kwargs)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        self.live += 1
        if self.live > self.receiver.max_connections:
            self._make_room(handler)

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        if not getattr(handler, "shed", False):
            self.live -= 1
        super().connection_lost(handler, exc)

    def _make_room(self, newcomer: RequestHandler) -> None:
        # The connection waiting longest for a request head goes: a slowloris, or an idle
        # keep-alive. Else the one whose body comes slowest (below SLOW_BODY_RATE); one
        # whose request is being answered is never cut. If none qualifies, the newcomer goes.
        now = self._loop.time()
        oldest = slowest = None
        slowest_rate = float(SLOW_BODY_RATE)
        for conn in self._connections:
            if conn is newcomer or not isinstance(conn, _Connection) or conn.shed or conn.transport is None:
                continue
            if not conn.open:
                if oldest is None or conn.waiting_since < oldest.waiting_since:
                    oldest = conn
            elif conn.body_since is not None and now - conn.body_since >= SLOW_BODY_GRACE:
                rate = conn.body_read / (now - conn.body_since)
                if rate < slowest_rate:
                    slowest, slowest_rate = conn, rate
        victim = oldest or slowest or newcomer
        if isinstance(victim, _Connection):
            self.live -= 1
            victim.shed_for_room()
            what = (
                "the one that waited longest for a request"
                if victim is oldest
                else ("the slowest upload" if victim is slowest else "the new one (every other is answering a request)")
            )
            self.receiver.note(
                "shed",
                f"note: {self.receiver.max_connections} connections are open (the cap, below the open-file limit); "
                f"closing {what} to make room",
            )


class Receiver:
    def __init__(
        self,
        pipeline: Pipeline,
        host: str = "127.0.0.1",
        port: int = 8080,
        clock: Callable[[], float] | None = None,
        *,
        head_timeout: float = HEAD_TIMEOUT,
        body_idle_timeout: float = BODY_IDLE_TIMEOUT,
        max_connections: int | None = None,
        warn: Callable[[str], None] | None = None,
    ):
        self.pipeline = pipeline
        self.head_timeout = head_timeout
        self.body_idle_timeout = body_idle_timeout
        self.max_connections = max_connections if max_connections is not None else connection_cap()
        self.warn = warn or _stderr
        self.rejected = 0  # requests the HTTP parser refused (each also a capture)
        self.on_reject: Callable[[str], None] | None = None  # told each refusal's reason (the TUI)
        self.noted: dict[str, int] = {}  # kind → how many (slow heads, shed connections, rejections)
        self._last_note: dict[str, float] = {}
        self._unnoted: dict[str, int] = {}
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

    def note(self, kind: str, text: str) -> None:
        """Tell the person running the server, once per NOTE_EVERY seconds per kind: under
        a flood, one line a minute rather than one per connection."""
        self.noted[kind] = self.noted.get(kind, 0) + 1
        now = time.monotonic()
        last = self._last_note.get(kind)
        if last is not None and now - last < NOTE_EVERY:
            self._unnoted[kind] = self._unnoted.get(kind, 0) + 1
            return
        self._last_note[kind] = now
        more = self._unnoted.pop(kind, 0)
        self.warn(text + (f" ({more} more like it since the last such note)" if more else ""))

    async def reject(self, request: web.BaseRequest, raw: bytes, read: int, exc: HttpProcessingError) -> web.StreamResponse:
        """A request aiohttp's parser refused: captured from the bytes read (the pipeline
        prints and shows it like any capture), answered 400 with the reason."""
        self.rejected += 1
        self.inflight += 1
        self.idle.clear()
        try:
            req = rejected_request(raw, read, request.remote, self.clock())
            reason = parser_reason(exc, req)
            try:
                capture = await self.pipeline.reject(req, reason)
            except Exception as store_exc:  # still answered and still shown, once
                self.note(
                    "reject-unstored", f"[400] rejected before routing: {reason} (not stored: {type(store_exc).__name__}: {store_exc})"
                )
                out = web.json_response({"error": "malformed HTTP request", "reason": reason}, status=400)
            else:
                response = capture.response
                assert response is not None
                out = aiohttp_response(response)
            out.force_close()
            if self.on_reject is not None:
                try:
                    self.on_reject(reason)
                except Exception:  # a display's failure must not fail the answer
                    log.debug("on_reject failed", exc_info=True)
            return out
        finally:
            self.inflight -= 1
            if self.inflight == 0:
                self.idle.set()

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        # One coroutine for the request (not a wrapper awaiting another): a frame less to
        # enter and to resume when its commit is done.
        self.inflight += 1
        self.idle.clear()
        try:
            if self.selfcheck_nonces and request.raw_path.startswith(SELFCHECK_PATH):
                # The port is public: only the nonce in flight answers; any other is an ordinary 404.
                nonce = request.raw_path[len(SELFCHECK_PATH) :].partition("?")[0]
                if nonce in self.selfcheck_nonces:
                    self.selfcheck_nonces[nonce] = True
                    return web.json_response({"selfcheck": "ok", "nonce": nonce}, headers={"Cache-Control": "no-store"})
            received = self.clock()
            # Most webhooks arrive whole, head and body in one read: take the body as it is, with
            # no coroutine, timer or bookkeeping for a read that cannot wait (see buffered_body).
            body = await self._expectation(request) if "Expect" in request.headers else None
            if body is None:
                body = buffered_body(request, self.pipeline.config.max_body_bytes)
            if body is None:
                conn = request.protocol if isinstance(request.protocol, _Connection) else None
                if conn is not None:
                    conn.body_since = conn._loop.time()
                body = await read_body(request, self.pipeline.config.max_body_bytes, self.body_idle_timeout)
                if conn is not None:
                    conn.body_since = None
                    if conn.shed and body.problem:
                        body = replace(
                            body,
                            problem=f"cut by the inspector after {body.size} body bytes"
                            + (f" of {request.content_length}" if request.content_length is not None else "")
                            + f": connections were at the cap and this body came slower than {SLOW_BODY_RATE} bytes/s",
                        )
            target = request.raw_path
            path, _, query = target.partition("?")
            # Header bytes: UTF-8 where they are; others survive as surrogate escapes so replays
            # are exact. Strict decoding is the same text for UTF-8, and faster.
            raw_headers = request.raw_headers
            try:
                headers = tuple([(k.decode(), v.decode()) for k, v in raw_headers])
            except UnicodeDecodeError:
                headers = tuple([(k.decode("utf-8", "surrogateescape"), v.decode("utf-8", "surrogateescape")) for k, v in raw_headers])
            req = Request(
                request.method,
                path or "/",
                query,
                Headers.of(headers),
                body.data,
                request.remote,
                received,
                body.truncated,
                body.size,
            )
            try:
                capture = await self.pipeline.handle(req, notes=(body.problem,) if body.problem else ())
            except Exception as exc:
                # One line per refused request for the person watching `serve` (a full disk or a
                # locked store says so itself); the traceback only when debugging.
                log.debug("pipeline failed", exc_info=True)
                why = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
                print(f"error: could not capture {req.method} {req.path}; answered 503: {why}", file=sys.stderr, flush=True)
                refusal = {"error": "the inspector could not store this request", "detail": why}
                if "full" in why:
                    refusal["hint"] = "free some disk space where the capture store is; the sender may retry"
                elif "lock" in why:
                    refusal["hint"] = "another process is writing the capture store; close it or pass --store PATH; the sender may retry"
                body_out = json.dumps(refusal).encode()
                return web.Response(status=503, body=body_out, content_type="application/json", headers={"Retry-After": "1"})
            response = capture.response
            assert response is not None
            if body.complete:
                return _Answer(response)  # type: ignore[return-value]  # _Connection writes it
            out = aiohttp_response(response)
            out.force_close()
            if body.size < DRAIN_LIMIT and isinstance(request.protocol, _Connection):
                request.protocol.abandon = True
            return out
        finally:
            self.inflight -= 1
            if self.inflight == 0:
                self.idle.set()

    async def _expectation(self, request: web.BaseRequest) -> Body | None:
        """`Expect: 100-continue`: the sender waits for a go-ahead before its body. Given
        (None: read the body) unless the declared body is over max_body_bytes: then it is
        refused at once (a 413 capture with no body bytes), so nothing large crosses the wire."""
        expect = request.headers.get("Expect")
        if expect is None or request.version < (1, 1) or expect.strip().lower() != "100-continue":
            return None
        declared = request.content_length
        limit = self.pipeline.config.max_body_bytes
        if declared is not None and declared > limit:
            why = f"refused before the body was sent (Expect: 100-continue): Content-Length {declared} is over max_body_bytes ({limit})"
            return Body(b"", declared, True, False, why)
        try:
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        except ConnectionError:
            return None  # reading the body will tell what came
        request.writer.output_size = 0  # the interim answer is not the answer's start
        return None

    async def start(self, sock: socket.socket | None = None) -> None:
        """Listen on host:port, or on `sock`, a listening socket another process bound
        (`serve --workers`: every worker accepts from the same socket)."""
        server = _Server(
            self,
            self.handle,
            keepalive_timeout=KEEPALIVE_TIMEOUT,
            max_headers=MAX_HEADERS,
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
        site = web.SockSite(runner, sock, backlog=BACKLOG)
        await site.start()
        self._runner, self._site, self.socket = runner, site, sock
        self.pipeline.local_base = self.url

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, let requests in flight finish (up to `grace` seconds), close."""
        if self._site is not None:
            await self._site.stop()
        try:
            await asyncio.wait_for(self.idle.wait(), grace)
        except TimeoutError:
            pass
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = self._site = None
