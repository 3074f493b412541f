"""Resend captured requests — as captured, re-signed or edited — and forward live ones (SPEC §9).

Building the outgoing request is pure (`prepare`); sending it is one async function (`deliver`)
shared by `replay`, the TUI and `serve --forward-to`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from yarl import URL

from .config import Config
from .model import Capture, Headers, Request, Response, unicode_text
from .pipeline import INTERNAL_HEADERS, REPLAY_HEADER, match_route
from .signatures import scheme_for, select, sign_request

# Hop-by-hop headers (RFC 9110 §7.6.1) and the ones the client recomputes.
NOT_RESENT = frozenset({
    "host", "content-length", "connection", "keep-alive", "proxy-connection", "te", "trailer",
    "transfer-encoding", "upgrade", "expect",
})
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
        raise ReplayError(f"capture {capture.id} kept only the first {len(req.body)} of {req.body_size} body bytes (it was over max_body_bytes); it cannot be resent exactly")
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


def resign_request(request: Request, config: Config, event_type: str | None, signed_url_base: str, now: float | None = None) -> tuple[Request, str]:
    """Fresh timestamp and signature for the scheme that applies (SPEC §3 selection)."""
    route = match_route(request.path)
    event_type = route.event_type if route else event_type
    selection = select(config, request, event_type)
    if selection is None:
        raise ReplayError("no signature scheme applies to this request (no `signatures` entry for its event_type or headers, no secret_header), so there is nothing to re-sign; resend it as captured")
    entry, scheme = selection.entry, selection.scheme
    if entry.problem or scheme is None:
        raise ReplayError(f"the `{entry.name}` entry is misconfigured ({entry.problem or 'unknown algorithm'}); fix answers.json to re-sign")
    if not scheme.signs:
        raise ReplayError(f"`{entry.name}` uses {entry.algorithm}, a public-key scheme: only the sender holds the private key, so a replay cannot be re-signed; resend it as captured (it will fail verification unless `enforce` is false)")
    now = time.time() if now is None else now
    signed = sign_request(config, request, event_type, signed_url_base + request.target, now)
    if signed is None:  # pragma: no cover - select() said it could
        raise ReplayError("the request could not be signed")
    extra, entry = signed
    headers = request.headers
    for name, value in extra:
        headers = headers.with_set(name, value)
    return Request(request.method, request.path, request.query, headers, request.body, None, now), f"re-signed with `{entry.name}`" + (f" ({entry.algorithm})" if entry.algorithm != entry.name else "")


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
    own = session is None
    if own:
        session = aiohttp.ClientSession(auto_decompress=False)
    started = time.perf_counter()
    try:
        async with session.request(
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
            cid = resp.headers.get("X-Inspector-Capture")
            out.capture_id = int(cid) if cid and cid.isascii() and cid.isdigit() else None
    except asyncio.TimeoutError:
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
            await session.close()
    return out


def _encoded(headers: list[tuple[str, str]]):
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
        None, stored_request,
        route.tenant if route else original.tenant,
        route.event_type if route else original.event_type,
        SignatureResult("unsigned", reason="Not checked: this request was sent by the inspector to an outside target."),
        delivery.response, (), "replay", original.id, tuple(notes),
    )


def is_public_key_scheme(algorithm: str) -> bool:
    scheme = scheme_for(algorithm)
    return scheme is not None and not scheme.signs


__all__ = [
    "Delivery", "Edits", "NOT_RESENT", "REPLAY_HEADER", "ReplayError", "deliver", "outgoing_headers",
    "parse_header_line", "prepare", "replay_capture_record", "resign_request", "target_url",
]
