"""Resend captured requests — as captured, re-signed or edited — and forward live ones (SPEC §9).

Building the outgoing request is pure (`prepare`); sending it is one async function (`deliver`)
shared by `replay`, the TUI and `serve --forward-to`.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

from .config import Config
from .model import Capture, Headers, Request, Response, unicode_text
from .routes import INTERNAL_HEADERS, REPLAY_HEADER, match_route
from .signatures import scheme_for, select, sign_request

if TYPE_CHECKING:  # pragma: no cover
    from multidict import CIMultiDict

# Hop-by-hop headers (RFC 9110 §7.6.1) and the ones the client recomputes.
NOT_RESENT = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
    }
)
DEFAULT_TIMEOUT = 10.0


class ReplayError(Exception):
    """Why a resend cannot be made or did not get an answer; a sentence a person can act on."""


@dataclass(frozen=True)
class Edits:
    """Changes to a captured request before it is resent."""

    method: str | None = None
    path: str | None = None  # may carry a query: "/events/webhook/demo/x?a=1"
    set_headers: tuple[tuple[str, str], ...] = ()
    remove_headers: tuple[str, ...] = ()
    body: bytes | None = None

    @property
    def empty(self) -> bool:
        return self == Edits()


def parse_header_line(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    name = name.strip()
    if not colon or not name:
        raise ReplayError(f"header {text!r} has no colon; write it as 'Name: value'")
    if any(c.isspace() for c in name):
        raise ReplayError(f"header name {name!r} contains white space; write it as 'Name: value'")
    return name, value.strip()


def outgoing_headers(headers: Headers) -> Headers:
    drop = NOT_RESENT | {h.lower() for h in INTERNAL_HEADERS}
    return Headers((k, v) for k, v in headers if k.lower() not in drop)


def prepare(
    capture: Capture,
    config: Config,
    *,
    resign: bool = False,
    edits: Edits | None = None,
    signed_url_base: str,
    now: float | None = None,
) -> tuple[Request, str | None]:
    """The request to send, and a note on how it was signed (None when left as captured)."""
    req = capture.request
    if req.truncated:
        raise ReplayError(
            f"capture {capture.id} kept only the first {len(req.body)} of {req.body_size} body bytes (it was over max_body_bytes); it cannot be resent exactly"
        )
    method, path, query, headers, body = req.method, req.path, req.query, outgoing_headers(req.headers), req.body
    if edits is not None:
        if edits.method:
            method = edits.method.upper()
            if not method.isalpha():
                raise ReplayError(f"method {edits.method!r} is not an HTTP method")
        if edits.path:
            if not edits.path.startswith("/"):
                raise ReplayError(f"path {edits.path!r} must start with /")
            path, _, query = edits.path.partition("?")
        for name in edits.remove_headers:
            headers = headers.without(name)
        for name, value in edits.set_headers:
            headers = headers.with_set(name, value)
        if edits.body is not None:
            body = edits.body
    outgoing = Request(method, path, query, headers, body, None, req.received_at)
    note = None
    if resign:
        outgoing, note = resign_request(outgoing, config, capture.event_type, signed_url_base, now)
    return outgoing, note


def resign_request(
    request: Request, config: Config, event_type: str | None, signed_url_base: str, now: float | None = None
) -> tuple[Request, str]:
    """Fresh timestamp and signature for the scheme that applies (SPEC §3 selection)."""
    route = match_route(request.path)
    event_type = route.event_type if route else event_type
    selection = select(config, request, event_type)
    if selection is None:
        raise ReplayError(
            "no signature scheme applies to this request (no `signatures` entry for its event_type or headers, no secret_header), so there is nothing to re-sign; resend it as captured"
        )
    entry, scheme = selection.entry, selection.scheme
    if entry.problem or scheme is None:
        raise ReplayError(
            f"the `{entry.name}` entry is misconfigured ({entry.problem or 'unknown algorithm'}); fix answers.json to re-sign"
        )
    if not scheme.signs:
        raise ReplayError(
            f"`{entry.name}` uses {entry.algorithm}, a public-key scheme: only the sender holds the private key, so a replay cannot be re-signed; resend it as captured (it will fail verification unless `enforce` is false)"
        )
    now = time.time() if now is None else now
    signed = sign_request(config, request, event_type, signed_url_base + request.target, now)
    if signed is None:  # pragma: no cover - select() said it could
        raise ReplayError("the request could not be signed")
    extra, entry = signed
    headers = request.headers
    for name, value in extra:
        headers = headers.with_set(name, value)
    return Request(request.method, request.path, request.query, headers, request.body, None, now), f"re-signed with `{entry.name}`" + (
        f" ({entry.algorithm})" if entry.algorithm != entry.name else ""
    )


@dataclass
class Delivery:
    """What the target answered, or why it did not."""

    url: str
    request: Request
    response: Response | None = None
    error: str | None = None
    capture_id: int | None = None  # the inspector's X-Inspector-Capture, when it is the target
    sent_at: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        r = self.response
        return {
            "url": self.url,
            "status": r.status if r else None,
            "headers": [list(h) for h in r.headers] if r else None,
            "body": r.body_value() if r else None,
            "duration_ms": r.duration_ms if r else None,
            "error": self.error,
            "capture_id": self.capture_id,
        }


async def deliver(
    request: Request,
    url: str,
    *,
    session: aiohttp.ClientSession | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    extra_headers: tuple[tuple[str, str], ...] = (),
) -> Delivery:
    """Send the exact method, headers and body bytes to `url`; never raises."""
    headers = [(k, v) for k, v in request.headers] + list(extra_headers)
    out = Delivery(url, request, sent_at=time.time())
    if not _utf8_only(headers):
        # aiohttp writes header text as UTF-8 and drops what is not: bytes that were not
        # UTF-8 go out exactly through a plain HTTP/1.1 exchange of our own.
        return await _deliver_raw(out, headers, timeout)
    own = session is None
    client = aiohttp.ClientSession(auto_decompress=False) if session is None else session
    started = time.perf_counter()
    try:
        async with client.request(
            request.method,
            URL(url, encoded=True),
            data=request.body if request.body or request.method not in ("GET", "HEAD") else None,
            headers=_encoded(headers),
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout),
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        ) as resp:
            body = await resp.read()
            elapsed = round((time.perf_counter() - started) * 1000, 3)
            raw = [(k.decode("latin-1"), v.decode("utf-8", "surrogateescape")) for k, v in resp.raw_headers]
            out.response = Response(resp.status, Headers(raw), body, elapsed)
            out.capture_id = _capture_id(out.response.headers)
    except TimeoutError:
        out.error = f"{url} did not answer within {timeout:g} s; is it stuck, or slower than --timeout?"
    except aiohttp.ClientConnectorError as exc:
        out.error = f"cannot connect to {url}: {exc.os_error.strerror if exc.os_error else exc}; is the target running?"
    except aiohttp.ServerDisconnectedError:
        out.error = f"{url} closed the connection without answering"
    except aiohttp.ClientResponseError as exc:
        out.error = f"{url} answered something that is not valid HTTP ({exc.message})"
    except aiohttp.ClientError as exc:
        out.error = f"cannot reach {url}: {type(exc).__name__}: {exc}"
    except (OSError, ValueError) as exc:
        out.error = f"cannot send to {url}: {exc}"
    finally:
        if own:
            await client.close()
    return out


def _utf8_only(headers: list[tuple[str, str]]) -> bool:
    try:
        for k, v in headers:
            k.encode("utf-8")
            v.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _capture_id(headers: Headers) -> int | None:
    cid = headers.get("X-Inspector-Capture")
    return int(cid) if cid and cid.isascii() and cid.isdigit() else None


class _Unanswered(Exception):
    """A plain exchange that got no usable answer; the message is the sentence to show."""


MAX_ANSWER_HEAD = 256 * 1024
# What aiohttp refuses in a header too (RFC 9110 §5.5): control characters but tab.
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


async def _deliver_raw(out: Delivery, headers: list[tuple[str, str]], timeout: float) -> Delivery:
    started = time.perf_counter()
    try:
        status, got, body = await asyncio.wait_for(_exchange(out.request, out.url, headers), timeout)
    except TimeoutError:
        out.error = f"{out.url} did not answer within {timeout:g} s; is it stuck, or slower than --timeout?"
        return out
    except _Unanswered as exc:
        out.error = str(exc)
        return out
    elapsed = round((time.perf_counter() - started) * 1000, 3)
    out.response = Response(status, got, body, elapsed)
    out.capture_id = _capture_id(got)
    return out


def _wire(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


async def _exchange(request: Request, url: str, headers: list[tuple[str, str]]) -> tuple[int, Headers, bytes]:
    import ssl

    target = URL(url, encoded=True)
    if target.scheme not in ("http", "https") or not target.host:
        raise _Unanswered(f"cannot send to {url}: not an http:// or https:// URL")
    port = target.port or (443 if target.scheme == "https" else 80)
    lines = [_wire(f"{request.method} {target.raw_path_qs or '/'} HTTP/1.1")]
    names = {k.lower() for k, _ in headers}
    if "host" not in names:
        host = f"[{target.host}]" if ":" in target.host else target.host
        lines.append(_wire(f"Host: {host}" + ("" if target.port is None or target.is_default_port() else f":{port}")))
    for k, v in headers:
        if k.lower() in ("content-length", "transfer-encoding", "connection"):
            continue
        line = _wire(k) + b": " + _wire(v)
        if _CONTROL_BYTES.search(line):
            raise _Unanswered(
                f"cannot send to {url}: header {unicode_text(k)!r} holds a control character (CR, LF, NUL…), which HTTP cannot carry"
            )
        lines.append(line)
    if request.body or request.method not in ("GET", "HEAD"):
        lines.append(b"Content-Length: " + str(len(request.body)).encode())
    lines.append(b"Connection: close")
    try:
        reader, writer = await asyncio.open_connection(
            target.host,
            port,
            ssl=ssl.create_default_context() if target.scheme == "https" else None,
            limit=MAX_ANSWER_HEAD,
        )
    except OSError as exc:
        raise _Unanswered(f"cannot connect to {url}: {exc.strerror or exc}; is the target running?") from None
    try:
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + request.body)
        await writer.drain()
        while True:
            status, got = await _read_head(reader, url)
            if status >= 200 or status == 101:
                break  # 1xx answers before the real one are skipped
        body = b"" if request.method == "HEAD" or status in (204, 304) or status < 200 else await _read_body(reader, got, url)
        return status, got, body
    except (asyncio.IncompleteReadError, ConnectionError):
        raise _Unanswered(f"{url} closed the connection without answering") from None
    except asyncio.LimitOverrunError:
        raise _Unanswered(f"{url} answered something that is not valid HTTP (a header section over {MAX_ANSWER_HEAD} bytes)") from None
    except OSError as exc:
        raise _Unanswered(f"cannot reach {url}: {exc.strerror or exc}") from None
    finally:
        writer.close()


async def _read_head(reader: asyncio.StreamReader, url: str) -> tuple[int, Headers]:
    head = await reader.readuntil(b"\r\n\r\n")
    first, *rest = head[:-4].split(b"\r\n")
    parts = first.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not (len(parts[1]) == 3 and parts[1].isdigit()):
        raise _Unanswered(f"{url} answered something that is not valid HTTP (status line {first[:60]!r})")
    got = []
    for line in rest:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise _Unanswered(f"{url} answered something that is not valid HTTP (header line {line[:60]!r})")
        got.append((name.decode("latin-1"), value.strip(b" \t").decode("utf-8", "surrogateescape")))
    return int(parts[1]), Headers(got)


async def _read_body(reader: asyncio.StreamReader, headers: Headers, url: str) -> bytes:
    if "chunked" in (headers.get("transfer-encoding") or "").lower():
        body = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _Unanswered(f"{url} answered something that is not valid HTTP (chunk size {size_line[:20]!r})") from None
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailer fields
                return bytes(body)
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    length = headers.get("content-length")
    if length is not None:
        if not (length.isascii() and length.isdigit()):
            raise _Unanswered(f"{url} answered something that is not valid HTTP (Content-Length {length[:20]!r})")
        return await reader.readexactly(int(length))
    return await reader.read()


def _encoded(headers: list[tuple[str, str]]) -> CIMultiDict[str]:
    from multidict import CIMultiDict

    # aiohttp writes header values as UTF-8, which is exact for every value that arrived as
    # UTF-8; bytes that were not (kept as surrogate escapes) go out as U+FFFD.
    return CIMultiDict((k, unicode_text(v)) for k, v in headers)


def target_url(base: str, request: Request) -> str:
    return base.rstrip("/") + request.target


def replay_capture_record(original: Capture, delivery: Delivery, received_at: float) -> Capture:
    """The capture stored for a resend to an outside target (origin `replay`)."""
    from .model import SignatureResult

    req = delivery.request
    route = match_route(req.path)
    stored_request = Request(req.method, req.path, req.query, req.headers, req.body, "replay", received_at)
    notes = list(delivery.notes)
    if delivery.error:
        notes.append(f"no answer: {delivery.error}")
    notes.append(f"sent to {delivery.url}")
    return Capture(
        None,
        stored_request,
        route.tenant if route else original.tenant,
        route.event_type if route else original.event_type,
        SignatureResult("unsigned", reason="Not checked: this request was sent by the inspector to an outside target."),
        delivery.response,
        (),
        "replay",
        original.id,
        tuple(notes),
    )


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        u = URL(url)
        if u.scheme not in ("http", "https") or not u.host:
            return None
        return u.scheme, u.host.lower().rstrip("."), u.port or (443 if u.scheme == "https" else 80)
    except (ValueError, TypeError):
        return None


def same_origin(a: str, b: str) -> bool:
    first, second = _origin(a), _origin(b)
    return first is not None and first == second


_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_WILDCARD = frozenset({"", "0.0.0.0", "::", "*"})


def _is_loopback(host: str) -> bool:
    import ipaddress

    host = host.lower().rstrip(".")
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def forward_loop(forward_to: str, host: str, port: int, public_urls: tuple[str | None, ...] = ()) -> str | None:
    """Why forwarding to `forward_to` would send each request back to the inspector that
    listens on host:port (public as `public_urls`), or None. Names are compared, not
    looked up: a lookup could stall the start, and a forwarded request that comes back
    under a name this misses is still refused when it arrives (Pipeline._forward)."""
    import ipaddress

    target = _origin(forward_to)
    if target is None:
        return None
    for public in public_urls:
        if public and same_origin(forward_to, public):
            return f"it is this inspector's public URL ({public.rstrip('/')}), so every request would be forwarded to itself"
    _, target_host, target_port = target
    if target_port != port:
        return None
    listen = (host or "").lower().strip("[]")
    if target_host.strip("[]") in _WILDCARD:
        return f"{target_host} port {port} is where this inspector listens, so every request would be forwarded to itself"
    ours = _is_loopback(target_host.strip("[]"))
    if listen in _WILDCARD:
        same = ours
    elif _is_loopback(listen):
        same = ours
    else:
        try:
            same = ipaddress.ip_address(target_host.strip("[]")) == ipaddress.ip_address(listen)
        except ValueError:
            same = target_host.strip("[]") == listen
    if same:
        return f"{target_host}:{port} is this inspector (it listens on {host or '*'}:{port}), so every request would be forwarded to itself"
    return None


def is_public_key_scheme(algorithm: str) -> bool:
    scheme = scheme_for(algorithm)
    return scheme is not None and not scheme.signs


__all__ = [
    "Delivery",
    "Edits",
    "NOT_RESENT",
    "REPLAY_HEADER",
    "ReplayError",
    "deliver",
    "outgoing_headers",
    "parse_header_line",
    "prepare",
    "replay_capture_record",
    "resign_request",
    "target_url",
]
