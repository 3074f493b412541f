"""The Greentic webhook ingress (docs/greentic-shape.md §6): parse
`/v1/{domain}/ingress/{provider}/{tenant}[/{team}[/{handler}]]`, build the `webhook.received`
envelope and the flow input `{event, events, tenant, team, correlation_id}`, and choose the
flows the runtime would run for it.

    route = parse_route("/v1/events/ingress/webhook/acme/default/orders")
    envelope = build_envelope(route, "POST", path, query, headers, body, received_at)
    entry = flow_input(envelope, route, headers)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

__all__ = [
    "DOMAINS",
    "EVENT_TYPE",
    "PROVIDER",
    "ROUTE_HELP",
    "FlowChoice",
    "FlowInfo",
    "IngressRoute",
    "build_envelope",
    "choose_flows",
    "event_id_for",
    "flow_input",
    "parse_route",
    "rfc3339",
    "topic_matches",
]

DOMAINS = ("messaging", "events", "secrets", "oauth")
EVENT_TYPE = "webhook.received"
PROVIDER = "events.webhook"
#: Greentic's 400 message for a path the ingress cannot read.
ROUTE_HELP = "expected /v1/{domain}/ingress/{provider}/{tenant}/{team?}/{handler?}"


@dataclass(frozen=True)
class IngressRoute:
    domain: str
    provider: str
    tenant: str
    team: str  # "default" when the URL has none
    handler: str | None
    legacy: bool = False  # the form without `/v1`


def parse_route(path: str) -> IngressRoute | None:
    """The ingress route of a URL path (query ignored), None when it is not one. Empty
    segments are dropped; `v1`, `ingress` and the domain match case-insensitively; segments
    after the handler are ignored."""
    segments = [s for s in path.split("?", 1)[0].split("/") if s]
    legacy = not (segments and segments[0].lower() == "v1")
    if not legacy:
        segments = segments[1:]
    if len(segments) < 4 or segments[1].lower() != "ingress" or segments[0].lower() not in DOMAINS:
        return None
    domain, _, provider, tenant, *rest = segments
    team = rest[0] if rest else "default"
    handler = rest[1] if len(rest) > 1 else None
    return IngressRoute(domain.lower(), provider, tenant, team, handler, legacy)


def rfc3339(instant: datetime) -> str:
    """chrono's `to_rfc3339` in UTC: `+00:00`, with 0, 3, 6 (or 9) fraction digits."""
    when = instant.astimezone(UTC)
    base = when.strftime("%Y-%m-%dT%H:%M:%S")
    micro = when.microsecond
    if micro == 0:
        fraction = ""
    elif micro % 1000 == 0:
        fraction = f".{micro // 1000:03d}"
    else:
        fraction = f".{micro:06d}"
    return f"{base}{fraction}+00:00"


def event_id_for(payload: Any) -> str:
    """The webhook component's receipt id: UUID v5 (OID namespace) of the payload's JSON text,
    compact and with keys sorted, as serde_json writes a map without its `preserve_order`
    feature (the providers' workspace does not turn it on)."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return str(uuid.uuid5(uuid.NAMESPACE_OID, text))


def _pairs(items: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(items.items()) if isinstance(items, Mapping) else list(items)


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)


def build_envelope(
    route: IngressRoute,
    method: str,
    path: str,
    query: str | Mapping[str, str] | Iterable[tuple[str, str]],
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes,
    received_at: datetime,
    *,
    exact: bool = False,
) -> dict[str, Any]:
    """The `webhook.received` envelope. By default the one the webhook component means to
    build (tenant, team and handler from the URL, the correlation id, `http`, `raw` for a
    body that is not JSON); `exact=True` reproduces what greentic-start hands flows today
    (§6.4: tenant "default", handler "default", no team, no correlation id, no `http`)."""
    header_pairs = _pairs(headers)
    try:
        payload = json.loads(body.decode("utf-8-sig")) if body.strip() else None
        raw = None
    except (UnicodeDecodeError, ValueError):
        payload = None
        raw = body.decode("utf-8", "replace")
    correlation = _header(header_pairs, "x-correlation-id")
    if exact:
        return {
            "event_id": event_id_for(None),
            "event_type": EVENT_TYPE,
            "occurred_at": rfc3339(received_at),
            "source": {"domain": "events", "provider": PROVIDER, "handler_id": "default"},
            "scope": {"tenant": "default", "team": None},
            "payload": payload,
        }
    query_pairs = parse_qsl(query, keep_blank_values=True) if isinstance(query, str) else _pairs(query)
    envelope: dict[str, Any] = {
        "event_id": event_id_for(payload),
        "event_type": EVENT_TYPE,
        "occurred_at": rfc3339(received_at),
        "source": {"domain": "events", "provider": PROVIDER, "handler_id": route.handler or "default"},
        "scope": {"tenant": route.tenant, "team": route.team, "correlation_id": correlation},
        "correlation_id": correlation,
        "payload": payload,
        "http": {
            "method": method.upper(),
            "path": path.split("?", 1)[0],
            "query": dict(query_pairs),
            "headers": {k.lower(): v for k, v in header_pairs},
        },
    }
    if raw is not None:
        envelope["raw"] = raw
    return envelope


def flow_input(
    envelope: Mapping[str, Any], route: IngressRoute, headers: Mapping[str, str] | Iterable[tuple[str, str]] = ()
) -> dict[str, Any]:
    """`{event, events, tenant, team, correlation_id}`: the correlation id from the envelope,
    else the `x-correlation-id` header, else null."""
    correlation = envelope.get("correlation_id") or _header(_pairs(headers), "x-correlation-id")
    return {
        "event": dict(envelope),
        "events": [dict(envelope)],
        "tenant": route.tenant,
        "team": route.team or "default",
        "correlation_id": correlation,
    }


# ---------------------------------------------------------------- which flows run (§6.6)


@dataclass(frozen=True)
class FlowInfo:
    id: str
    type: str
    subscribes_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlowChoice:
    """The flow ids to run, in order, and why; `error` when none could be chosen."""

    flow_ids: tuple[str, ...]
    reason: str
    error: str | None = None


def topic_matches(pattern: str, topic: str) -> bool:
    """`*` matches all; `p.*` matches `p` and `p.<anything>`; anything else matches exactly."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        prefix = pattern[:-2]
        return topic == prefix or topic.startswith(prefix + ".")
    return pattern == topic


def choose_flows(
    flows: Sequence[FlowInfo], event_type: str = EVENT_TYPE, handler: str | None = None, *, in_pack: bool = True
) -> FlowChoice:
    """Every flow whose `subscribes_to` matches, else the pack's default flow (`default`, else
    `main` of type messaging, else the only messaging flow). Outside a pack (a plain folder)
    two inspector extensions apply first: a handler segment naming a flow, and a single
    `events`/`event` flow."""
    if not in_pack:
        if handler is not None and any(f.id == handler for f in flows):
            return FlowChoice((handler,), f"the URL's handler segment names flow '{handler}' (an inspector extension)")
    subscribed = tuple(f.id for f in flows if any(topic_matches(p, event_type) for p in f.subscribes_to))
    if subscribed:
        return FlowChoice(subscribed, f"subscribes_to matches '{event_type}'")
    if any(f.id == "default" for f in flows):
        return FlowChoice(("default",), "the flow with id 'default'")
    main = next((f for f in flows if f.id == "main" and f.type == "messaging"), None)
    if main is not None:
        return FlowChoice(("main",), "the messaging flow 'main'")
    messaging = [f for f in flows if f.type == "messaging"]
    if len(messaging) == 1:
        return FlowChoice((messaging[0].id,), "the only messaging flow")
    if not in_pack:
        events = [f for f in flows if f.type in ("events", "event")]
        if len(events) == 1:
            return FlowChoice((events[0].id,), "the only events flow (an inspector extension)")
    names = ", ".join(f"{f.id} ({f.type})" for f in flows) or "none"
    return FlowChoice(
        (),
        "",
        f"APP_FLOW_NOT_RESOLVED: cannot choose which flow to invoke (flows: {names}); name one 'default', or give it `subscribes_to: [{event_type}]` in pack.yaml",
    )
