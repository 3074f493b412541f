"""Built-in realistic webhook events (SPEC §9), signed with the scheme answers.json sets for them,
so a new user sees a full, green trace without any outside service."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from ..config import Config
from ..model import Headers, Request
from ..pipeline import SAMPLE_HEADER
from ..signatures import sign_request
from . import events


@dataclass(frozen=True)
class Sample:
    name: str
    event_type: str  # the URL's event_type segment
    description: str
    headers: tuple[tuple[str, str], ...]
    payload: Callable[[float], Any]  # built fresh, with the current time in it

    def path(self, tenant: str) -> str:
        return f"/events/webhook/{tenant}/{self.event_type}"


def _json(headers: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple([("Content-Type", "application/json")] + headers)


SAMPLES: dict[str, Sample] = {
    s.name: s
    for s in [
        Sample("github.push", "github", "GitHub push with 3 commits", _json([("User-Agent", "GitHub-Hookshot/7f3c2a1"), ("X-GitHub-Event", "push"), ("X-GitHub-Hook-ID", "512345678")]), events.github_push),
        Sample("github.pull_request", "github", "GitHub pull_request opened", _json([("User-Agent", "GitHub-Hookshot/7f3c2a1"), ("X-GitHub-Event", "pull_request"), ("X-GitHub-Hook-ID", "512345678")]), events.github_pull_request),
        Sample("github.ping", "github", "GitHub ping (sent when a webhook is created)", _json([("User-Agent", "GitHub-Hookshot/7f3c2a1"), ("X-GitHub-Event", "ping"), ("X-GitHub-Hook-ID", "512345678")]), events.github_ping),
        Sample("stripe.payment_intent.succeeded", "stripe", "Stripe payment_intent.succeeded", _json([("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")]), events.stripe_succeeded),
        Sample("stripe.payment_intent.payment_failed", "stripe", "Stripe payment_intent.payment_failed (card declined)", _json([("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")]), events.stripe_failed),
        Sample("shopify.orders.create", "shopify", "Shopify orders/create", _json([("X-Shopify-Topic", "orders/create"), ("X-Shopify-Shop-Domain", "example-shop.myshopify.com"), ("X-Shopify-API-Version", "2024-10")]), events.shopify_order),
        Sample("generic.order.created", "order.created", "The seed's order.created example", _json([("User-Agent", "curl/8.5.0")]), events.generic_order),
        Sample("generic.report.generate", "report.generate", "A long job: acknowledged with 202, processed by an async flow", _json([("User-Agent", "curl/8.5.0")]), events.generic_report),
    ]
}


class UnknownSample(KeyError):
    def __str__(self) -> str:
        return f"unknown sample {self.args[0]!r}; available: {', '.join(SAMPLES)}"


def get(name: str) -> Sample:
    try:
        return SAMPLES[name]
    except KeyError:
        raise UnknownSample(name) from None


def build(name: str, config: Config, *, tenant: str = "demo", signed_url_base: str, now: float | None = None, mark: bool = True) -> tuple[Request, str | None]:
    """The sample as a request, signed for the scheme that applies to it; also returns the
    name of the signing entry (None when nothing applies)."""
    sample = get(name)
    now = time.time() if now is None else now
    body = json.dumps(sample.payload(now), indent=2).encode()
    headers = list(sample.headers)
    if sample.event_type == "github":
        headers.append(("X-GitHub-Delivery", str(uuid.UUID(int=int(now * 1000) << 64 | 0x5A5A))))
    if sample.event_type == "shopify":
        headers.append(("X-Shopify-Webhook-Id", str(uuid.UUID(int=int(now * 1000) << 32 | 0xB0B))))
    if mark:
        headers.append((SAMPLE_HEADER, name))
    request = Request("POST", sample.path(tenant), "", Headers(headers), body, "sample", now)
    signed = sign_request(config, request, sample.event_type, signed_url_base + request.target, now)
    if signed is None:
        return request, None
    extra, entry = signed
    hdrs = request.headers
    for k, v in extra:
        hdrs = hdrs.with_set(k, v)
    return Request(request.method, request.path, request.query, hdrs, body, request.client, now), entry.name
