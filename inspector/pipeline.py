"""One request in, one stored capture and one response out (SPEC §4).

The receiver, `run`, resend and samples all come through `Pipeline.handle`; nothing else
decides how a request is answered.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol
from urllib.parse import unquote

from .config import Config
from .model import FAILED_SIGNATURE, Capture, Headers, Request, Response, SignatureResult
from .signatures import verify_request

REPLAY_HEADER = "X-Inspector-Replay-Of"
SAMPLE_HEADER = "X-Inspector-Sample"
CAPTURE_HEADER = "X-Inspector-Capture"
# Headers the inspector's own tools add to link a request; never stored as received.
INTERNAL_HEADERS = (REPLAY_HEADER, SAMPLE_HEADER)
TRUNCATED_KEEP = 64 * 1024
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


def _ok(seg: str) -> bool:
    return bool(_SEGMENT.match(seg)) and seg.strip(".") != ""


def match_route(path: str) -> Route | None:
    """The two route shapes of SPEC §4; None for anything else."""
    try:
        segs = _segments(path)
    except UnicodeDecodeError:
        return None
    if not segs:
        return None
    if len(segs) == 4 and segs[0] == "events" and segs[1] == "webhook":
        if _ok(segs[2]) and _ok(segs[3]):
            return Route(segs[2], segs[3])
        return None
    if 5 <= len(segs) <= 7 and segs[:3] == ["v1", "events", "ingress"]:
        rest = segs[3:]
        if all(_ok(s) for s in rest):
            provider, tenant = rest[0], rest[1]
            handler = rest[3] if len(rest) == 4 else None
            return Route(tenant, handler or provider)
    return None


class FlowDispatcher(Protocol):
    """What the flow engine offers the pipeline (SPEC §4 rules 2–4, §6)."""

    def triggered(self, event_type: str) -> list[str]: ...

    async def dispatch(self, capture: Capture, config: Config, answer: Callable[[Response], None]) -> list[dict[str, Any]]: ...


CaptureListener = Callable[[Capture], None]


class Pipeline:
    """Turns requests into captures. `config` may be swapped at any time (reload)."""

    def __init__(
        self,
        config: Config,
        store: Any = None,
        *,
        clock: Callable[[], float] = time.time,
        local_base: str = "http://127.0.0.1:8080",
        public_url: str | None = None,
    ):
        self.config = config
        self.store = store
        self.clock = clock
        self.local_base = local_base
        self.public_url = public_url  # the tunnel's URL, when one is up
        self.listeners: list[CaptureListener] = []

    # URLs

    @property
    def base_url(self) -> str:
        """Where senders reach us: the tunnel, else answers.json's public_base_url, else local."""
        return (self.public_url or self.config.public_base_url or self.local_base).rstrip("/")

    def webhook_url(self, tenant: str, event_type: str, base: str | None = None) -> str:
        return f"{(base or self.base_url).rstrip('/')}/events/webhook/{tenant}/{event_type}"

    def signed_url(self, request: Request) -> str:
        return self.base_url + request.target

    # The request path

    def verify(self, request: Request, event_type: str | None, now: float | None = None) -> SignatureResult:
        return verify_request(self.config, request, event_type, self.signed_url(request), now)

    def prepare(self, request: Request, origin: str = "live") -> tuple[Request, str, int | None]:
        """Strip the inspector's own linking headers and read what they say."""
        replay_of: int | None = None
        headers = request.headers
        if REPLAY_HEADER in headers or SAMPLE_HEADER in headers:
            raw = (headers.get(REPLAY_HEADER) or "").strip()
            if raw.isdigit() and len(raw) < 19:
                replay_of = int(raw)
                origin = "replay"
            if SAMPLE_HEADER in headers:
                origin = "sample"
            request = Request(
                request.method, request.path, request.query, headers.without(*INTERNAL_HEADERS),
                request.body, request.client, request.received_at, request.truncated, request.size,
            )
        return request, origin, replay_of

    def decide(self, request: Request, now: float | None = None) -> tuple[Route | None, SignatureResult, Callable[[int], Response] | None]:
        """The answer that needs no flow: disabled, too large, unrouted, or a failed signature."""
        config = self.config
        route = match_route(request.path)
        if not config.enabled:
            sig = SignatureResult("unsigned", reason="Not checked: the provider is disabled (`enabled: false`).")
            return route, sig, lambda _id: Response.json(503, {"error": "events-webhook provider is disabled"})
        if request.truncated:
            sig = SignatureResult("unsigned", reason=f"Not checked: the body is larger than max_body_bytes ({config.max_body_bytes}).")
            limit = config.max_body_bytes
            return route, sig, lambda cid: Response.json(
                413,
                {"error": f"body larger than max_body_bytes ({limit} bytes)", "hint": "raise events-webhook.max_body_bytes in answers.json", "id": cid},
            )
        sig = self.verify(request, route.event_type if route else None, now)
        if route is None:
            example = self.webhook_url("demo", "order.created", self.local_base)
            method, target = request.method, request.path

            def not_found(cid: int) -> Response:
                return Response.json(
                    404,
                    {
                        "error": f"no webhook route for {method} {target}",
                        "hint": f"send webhooks to {ROUTE_SHAPE} (tenant and event_type: letters, digits, '.', '_', '-'), e.g. {example}",
                        "id": cid,
                    },
                )

            return None, sig, not_found
        if sig.status in FAILED_SIGNATURE and config.enforce:
            status, reason = sig.status, sig.reason
            return route, sig, lambda cid: Response.json(401, {"error": f"signature {status}", "reason": reason, "id": cid})
        return route, sig, None

    async def handle(self, request: Request, origin: str = "live", now: float | None = None) -> Capture:
        started = time.perf_counter()
        request, origin, replay_of = self.prepare(request, origin)
        route, sig, early = self.decide(request, now)
        capture = Capture(
            id=None,
            request=request,
            tenant=route.tenant if route else None,
            event_type=route.event_type if route else None,
            signature=sig,
            origin=origin,
            replay_of=replay_of,
        )
        if early is None:
            early = self._accepted(route)

        def respond(cid: int) -> Response:
            response = early(cid)
            duration = round((time.perf_counter() - started) * 1000, 3)
            headers = Headers(response.headers.items + ((CAPTURE_HEADER, str(cid)),))
            return Response(response.status, headers, response.body, duration)

        capture = await self._store(capture, respond)
        self._notify(capture)
        return capture

    def _accepted(self, route: Route | None) -> Callable[[int], Response]:
        """SPEC §4 rules 5 and 6 (the flow engine adds 2–4)."""
        event_type = route.event_type if route else ""

        def answer(cid: int) -> Response:
            return Response.json(200, {"status": "accepted", "id": cid, "warning": f"no flow is triggered by event type {event_type}"})

        return answer

    async def _store(self, capture: Capture, respond: Callable[[int], Response]) -> Capture:
        if self.store is None:
            return capture.with_(id=0, response=respond(0))
        capture, committed = self.store.insert_grouped(capture, respond)
        await committed
        return capture

    def _notify(self, capture: Capture) -> None:
        for listener in list(self.listeners):
            try:
                listener(capture)
            except Exception:  # a broken listener must not break the request path
                pass


def request_from_parts(
    method: str,
    target: str,
    headers: list[tuple[str, str]] | Headers,
    body: bytes,
    received_at: float,
    client: str | None = None,
) -> Request:
    path, _, query = target.partition("?")
    hdrs = headers if isinstance(headers, Headers) else Headers(headers)
    return Request(method.upper(), path or "/", query, hdrs, body, client, received_at)
