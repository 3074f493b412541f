"""Where webhooks go and how the inspector marks its own traffic (SPEC §4): the two route
shapes, the URLs senders and flows' triggers are given, and the inspector's own headers.

One module that the pipeline, replay, samples, the CLI and the TUI all read, so none of them
imports another for a constant (no pipeline ↔ replay cycle).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

# The inspector's own headers. These link a request to what made it and are never stored as
# received: a resend names the capture it repeats, a sample names itself.
REPLAY_HEADER = "X-Inspector-Replay-Of"
SAMPLE_HEADER = "X-Inspector-Sample"
INTERNAL_HEADERS = (REPLAY_HEADER, SAMPLE_HEADER)
# On every answer: the id the request was stored under.
CAPTURE_HEADER = "X-Inspector-Capture"
# serve --forward-to marks what it forwards, so that a request coming back is recognised.
FORWARDED_BY = "X-Inspector-Forwarded-By"
# A forward target's own X-Inspector-Capture (it is another inspector), renamed so the sender
# sees one X-Inspector-Capture: ours.
TARGET_CAPTURE_HEADER = "X-Inspector-Forward-Target-Capture"

ROUTE_SHAPE = "/events/webhook/{tenant}/{event_type}"
_SEGMENT = re.compile(r"[A-Za-z0-9._-]+\Z")


@dataclass(frozen=True)
class Route:
    tenant: str
    event_type: str


def _segments(path: str) -> list[str] | None:
    if not path.startswith("/"):
        return None
    parts = path[1:].split("/")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # one trailing slash is forgiven
    out = []
    for part in parts:
        seg = unquote(part, errors="strict") if "%" in part else part
        out.append(seg)
    return out


def segment_ok(seg: str) -> bool:
    """Whether `seg` may be a tenant or event type: letters, digits, '.', '_', '-', not only dots."""
    return bool(_SEGMENT.match(seg)) and seg.strip(".") != ""


# match_route's answers by path: a sender posts to the same few paths again and again, and
# parsing one costs a few microseconds per request. Bounded in entries and in path length, so
# that a sender spraying distinct paths costs a cleared cache, never memory; `Route` is frozen,
# so one can be handed out many times.
_ROUTES: dict[str, Route | None] = {}
ROUTE_CACHE_SIZE = 1024
ROUTE_CACHE_PATH = 256  # characters; longer paths are parsed every time


def match_route(path: str) -> Route | None:
    """The two route shapes of SPEC §4; None for anything else."""
    try:
        return _ROUTES[path]
    except KeyError:
        pass
    route = _match(path)
    if len(path) <= ROUTE_CACHE_PATH:
        if len(_ROUTES) >= ROUTE_CACHE_SIZE:
            _ROUTES.clear()
        _ROUTES[path] = route
    return route


def _match(path: str) -> Route | None:
    try:
        segs = _segments(path)
    except UnicodeDecodeError:
        return None
    if not segs:
        return None
    if len(segs) == 4 and segs[0] == "events" and segs[1] == "webhook":
        if segment_ok(segs[2]) and segment_ok(segs[3]):
            return Route(segs[2], segs[3])
        return None
    if 5 <= len(segs) <= 7 and segs[:3] == ["v1", "events", "ingress"]:
        rest = segs[3:]
        if all(segment_ok(s) for s in rest):
            provider, tenant = rest[0], rest[1]
            handler = rest[3] if len(rest) == 4 else None
            return Route(tenant, handler or provider)
    return None


def webhook_url(base: str, tenant: str, event_type: str) -> str:
    """The URL a sender posts `event_type` events of `tenant` to, under `base`."""
    return f"{base.rstrip('/')}/events/webhook/{tenant}/{event_type}"
