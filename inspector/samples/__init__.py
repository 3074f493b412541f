"""Built-in realistic webhook events (SPEC §9), signed with the scheme answers.json sets for them,
so a new user sees a full, green trace without any outside service."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from ..config import Config
from ..model import Headers, Request
from ..routes import SAMPLE_HEADER
from ..signatures import sign_request
from . import events

Header = tuple[str, str]


@dataclass(frozen=True)
class Sample:
    name: str
    event_type: str  # the URL's event_type segment
    description: str
    headers: Callable[[str, float], list[Header]]  # (sample name, now): the provider's own headers
    payload: Callable[[float], Any]  # built fresh, with the current time in it
    content_type: str = "application/json"
    form: bool = False  # the provider can also deliver it form-encoded (`send NAME --form`)
    route: str | None = None  # another path than the documented route, with `{tenant}` in it

    def path(self, tenant: str) -> str:
        if self.route is not None:
            return self.route.format(tenant=tenant)
        return f"/events/webhook/{tenant}/{self.event_type}"


def _uuid(name: str, now: float, salt: str) -> str:
    """A UUID (version 4 layout) fixed by the sample and the time, so that a sample built twice
    for the same instant is the same request (screenshots and tests rely on it)."""
    digest = hashlib.sha256(f"{salt}|{name}|{now!r}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


# Header names and their case as each provider documents and sends them.
GITHUB_HOOK_ID = "512345678"


def _github(event: str) -> Callable[[str, float], list[Header]]:
    def headers(name: str, now: float) -> list[Header]:
        return [
            ("X-GitHub-Delivery", _uuid(name, now, "delivery")),
            ("User-Agent", "GitHub-Hookshot/7f3c2a1"),
            ("X-GitHub-Event", event),
            ("X-GitHub-Hook-ID", GITHUB_HOOK_ID),
            ("X-GitHub-Hook-Installation-Target-ID", str(events.REPO["id"])),
            ("X-GitHub-Hook-Installation-Target-Type", "repository"),
        ]

    return headers


def _stripe(name: str, now: float) -> list[Header]:
    return [
        ("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"),
        ("Accept", "*/*; q=0.5, application/xml"),
        ("Cache-Control", "no-cache"),
    ]


def _shopify(topic: str) -> Callable[[str, float], list[Header]]:
    def headers(name: str, now: float) -> list[Header]:
        triggered = datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return [
            ("User-Agent", "Shopify-Captain-Hook"),
            ("X-Shopify-Topic", topic),
            ("X-Shopify-Shop-Domain", "example-shop.myshopify.com"),
            ("X-Shopify-API-Version", "2024-10"),
            ("X-Shopify-Webhook-Id", _uuid(name, now, "webhook")),
            ("X-Shopify-Triggered-At", triggered),
            ("X-Shopify-Event-Id", _uuid(name, now, "event")),
        ]

    return headers


def _curl(name: str, now: float) -> list[Header]:
    return [("User-Agent", "curl/8.5.0")]


SAMPLES: dict[str, Sample] = {
    s.name: s
    for s in [
        Sample("github.push", "github", "GitHub push with 3 commits", _github("push"), events.github_push, form=True),
        Sample(
            "github.pull_request", "github", "GitHub pull_request opened", _github("pull_request"), events.github_pull_request, form=True
        ),
        Sample("github.ping", "github", "GitHub ping (sent when a webhook is created)", _github("ping"), events.github_ping, form=True),
        Sample(
            "stripe.payment_intent.succeeded",
            "stripe",
            "Stripe payment_intent.succeeded",
            _stripe,
            events.stripe_succeeded,
            "application/json; charset=utf-8",
        ),
        Sample(
            "stripe.payment_intent.payment_failed",
            "stripe",
            "Stripe payment_intent.payment_failed (card declined)",
            _stripe,
            events.stripe_failed,
            "application/json; charset=utf-8",
        ),
        Sample("shopify.orders.create", "shopify", "Shopify orders/create", _shopify("orders/create"), events.shopify_order),
        Sample("generic.order.created", "order.created", "The seed's order.created example", _curl, events.generic_order),
        Sample(
            "generic.report.generate",
            "report.generate",
            "A long job: acknowledged with 202, processed by an async flow",
            _curl,
            events.generic_report,
        ),
    ]
}
# Samples for `init --greentic`'s pack (issue #20), sent by name but kept out of SAMPLES, whose
# every entry is run against the shipped documented flows.
GREENTIC_SAMPLES: dict[str, Sample] = {
    s.name: s
    for s in [
        Sample(
            "greentic.order.created",
            "webhook",
            "An order for Greentic-shaped flows (init --greentic), on Greentic's ingress route",
            _curl,
            events.greentic_order,
            route="/v1/events/ingress/webhook/{tenant}",
        ),
    ]
}
FORM_TYPE = "application/x-www-form-urlencoded"


class UnknownSample(KeyError):
    def __str__(self) -> str:
        return f"unknown sample {self.args[0]!r}; available: {', '.join([*SAMPLES, *GREENTIC_SAMPLES])}"


def get(name: str) -> Sample:
    try:
        return SAMPLES[name] if name in SAMPLES else GREENTIC_SAMPLES[name]
    except KeyError:
        raise UnknownSample(name) from None


def build(
    name: str,
    config: Config,
    *,
    tenant: str = "demo",
    signed_url_base: str,
    now: float | None = None,
    mark: bool = True,
    form: bool = False,
) -> tuple[Request, str | None]:
    """The sample as a request, signed for the scheme that applies to it; also returns the
    name of the signing entry (None when nothing applies). `form`: the body as GitHub's
    "application/x-www-form-urlencoded" setting sends it, the JSON in a `payload` field, and
    signed over those form bytes (ValueError for a sample whose provider has no such form)."""
    sample = get(name)
    if form and not sample.form:
        with_form = ", ".join(s.name for s in SAMPLES.values() if s.form)
        raise ValueError(f"sample {name!r} has no form-encoded version (its provider sends JSON only); these do: {with_form}")
    now = time.time() if now is None else now
    document = json.dumps(sample.payload(now), indent=2)
    if form:
        body = urlencode({"payload": document}).encode()
        content_type = FORM_TYPE
    else:
        body = document.encode()
        content_type = sample.content_type
    headers = sample.headers(name, now)
    # Content-Type where each provider puts it among its headers: after the identifying ones.
    headers.insert(min(2, len(headers)), ("Content-Type", content_type))
    request = Request("POST", sample.path(tenant), "", Headers(headers), body, "sample", now)
    signed = sign_request(config, request, sample.event_type, signed_url_base + request.target, now)
    entry = signed[1] if signed else None
    hdrs = request.headers
    for k, v in signed[0] if signed else ():
        hdrs = hdrs.with_set(k, v)
    if entry is not None and sample.event_type == "github" and entry.algorithm in ("github", "sha256") and "x-hub-signature" not in hdrs:
        # GitHub sends the legacy SHA-1 signature next to the SHA-256 one, with the same secret.
        sha1 = hmac.new(entry.secret.encode(), body, hashlib.sha1).hexdigest()
        hdrs = hdrs.with_set("X-Hub-Signature", f"sha1={sha1}")
    if mark:
        hdrs = hdrs.with_set(SAMPLE_HEADER, name)
    return Request(request.method, request.path, request.query, hdrs, body, request.client, now), entry.name if entry else None
