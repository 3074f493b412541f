"""The v1 ingress route, the webhook envelope and flow input, and which flows run
(docs/greentic-shape.md §6); end to end through a real aiohttp server on port 0."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web

from inspector.greentic.ingress import (
    ROUTE_HELP,
    FlowInfo,
    IngressRoute,
    build_envelope,
    choose_flows,
    event_id_for,
    flow_input,
    parse_route,
    rfc3339,
    topic_matches,
)
from inspector.greentic.pack import load_bundle
from inspector.greentic.runner import MemoryState, Runner

from .shop_pack import write_pack

AT = datetime(2026, 12, 4, 18, 9, 27, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/v1/events/ingress/webhook/acme/ops/orders", IngressRoute("events", "webhook", "acme", "ops", "orders")),
        ("/v1/events/ingress/webhook/acme", IngressRoute("events", "webhook", "acme", "default", None)),
        ("/V1/EVENTS/Ingress/webhook/acme/ops", IngressRoute("events", "webhook", "acme", "ops", None)),
        ("//v1//events/ingress/webhook/acme/ops/orders/extra/more?x=1", IngressRoute("events", "webhook", "acme", "ops", "orders")),
        ("/events/ingress/webhook/acme", IngressRoute("events", "webhook", "acme", "default", None, legacy=True)),
        ("/v1/messaging/ingress/teams/t1/x/y", IngressRoute("messaging", "teams", "t1", "x", "y")),
    ],
)
def test_parse_route(path, route):
    assert parse_route(path) == route


@pytest.mark.parametrize(
    "path", ["/v1/events/ingress/webhook", "/v1/nope/ingress/webhook/t", "/v1/events/egress/webhook/t", "/", "/events/webhook/t/x"]
)
def test_not_an_ingress_route(path):
    assert parse_route(path) is None
    assert ROUTE_HELP == "expected /v1/{domain}/ingress/{provider}/{tenant}/{team?}/{handler?}"


def test_rfc3339_like_chrono():
    assert rfc3339(AT) == "2026-12-04T18:09:27.123+00:00"
    assert rfc3339(AT.replace(microsecond=0)) == "2026-12-04T18:09:27+00:00"
    assert rfc3339(AT.replace(microsecond=123456)) == "2026-12-04T18:09:27.123456+00:00"


def test_event_ids_are_deterministic_from_the_payload():
    assert event_id_for(None) == "ac3a9272-8aea-5362-8f0a-be3c3e88ca74"  # the id Greentic gives every webhook today
    assert event_id_for({"a": 1}) == event_id_for({"a": 1}) != event_id_for({"a": 2})


def test_the_envelope_and_the_flow_input():
    route = parse_route("/v1/events/ingress/webhook/acme/ops/orders")
    assert route is not None
    headers = {"Content-Type": "application/json", "X-Correlation-Id": "c-9"}
    envelope = build_envelope(route, "post", "/v1/events/ingress/webhook/acme/ops/orders", "a=1&b=", headers, b'{"order": {"id": 7}}', AT)
    assert envelope == {
        "event_id": event_id_for({"order": {"id": 7}}),
        "event_type": "webhook.received",
        "occurred_at": "2026-12-04T18:09:27.123+00:00",
        "source": {"domain": "events", "provider": "events.webhook", "handler_id": "orders"},
        "scope": {"tenant": "acme", "team": "ops", "correlation_id": "c-9"},
        "correlation_id": "c-9",
        "payload": {"order": {"id": 7}},
        "http": {
            "method": "POST",
            "path": "/v1/events/ingress/webhook/acme/ops/orders",
            "query": {"a": "1", "b": ""},
            "headers": {"content-type": "application/json", "x-correlation-id": "c-9"},
        },
    }
    entry = flow_input(envelope, route, headers)
    assert entry == {"event": envelope, "events": [envelope], "tenant": "acme", "team": "ops", "correlation_id": "c-9"}
    text = build_envelope(route, "POST", "/p", "", [], b"not json", AT)
    assert text["payload"] is None and text["raw"] == "not json" and text["correlation_id"] is None
    assert flow_input(text, route, [("x-correlation-id", "from-header")])["correlation_id"] == "from-header"


def test_the_exact_envelope_reproduces_greentic_today():
    route = parse_route("/v1/events/ingress/webhook/acme/ops/orders")
    exact = build_envelope(route, "POST", "/p", "", {"x-correlation-id": "c"}, b'{"a": 1}', AT, exact=True)
    assert exact == {
        "event_id": "ac3a9272-8aea-5362-8f0a-be3c3e88ca74",
        "event_type": "webhook.received",
        "occurred_at": "2026-12-04T18:09:27.123+00:00",
        "source": {"domain": "events", "provider": "events.webhook", "handler_id": "default"},
        "scope": {"tenant": "default", "team": None},
        "payload": {"a": 1},
    }


def test_topic_matches():
    assert topic_matches("*", "anything")
    assert topic_matches("webhook.*", "webhook") and topic_matches("webhook.*", "webhook.received")
    assert not topic_matches("webhook.*", "webhookx") and not topic_matches("webhook.received", "webhook")


@pytest.mark.parametrize(
    ("flows", "handler", "in_pack", "chosen"),
    [
        ([FlowInfo("a", "events", ("webhook.*",)), FlowInfo("b", "events", ("*",)), FlowInfo("default", "events")], None, True, ("a", "b")),
        ([FlowInfo("x", "events"), FlowInfo("default", "events")], None, True, ("default",)),
        ([FlowInfo("main", "messaging"), FlowInfo("other", "messaging")], None, True, ("main",)),
        ([FlowInfo("only", "messaging"), FlowInfo("ev", "events")], None, True, ("only",)),
        ([FlowInfo("orders", "events"), FlowInfo("other", "job")], "other", False, ("other",)),  # handler names a flow
        ([FlowInfo("orders", "events"), FlowInfo("other", "job")], "nope", False, ("orders",)),  # the single events flow
    ],
)
def test_choose_flows(flows, handler, in_pack, chosen):
    assert choose_flows(flows, "webhook.received", handler, in_pack=in_pack).flow_ids == chosen


def test_choose_flows_says_when_it_cannot_choose():
    choice = choose_flows([FlowInfo("a", "events"), FlowInfo("b", "events")])
    assert (
        choice.flow_ids == ()
        and choice.error is not None
        and choice.error.startswith("APP_FLOW_NOT_RESOLVED: cannot choose which flow to invoke (flows: a (events), b (events))")
    )


async def test_a_webhook_to_the_v1_route_runs_the_pack_s_default_flow(tmp_path, monkeypatch):
    """A stand-in for the later receiver integration: route → envelope → choice → run."""
    monkeypatch.chdir(tmp_path)
    write_pack(tmp_path / "pack")
    bundle = load_bundle("pack")
    runner = Runner.from_bundle(bundle, state=MemoryState())
    infos = [FlowInfo(f.id, f.type) for f in bundle.flows.values()]
    results = []

    async def ingress(request: web.Request) -> web.Response:
        route = parse_route(request.path)
        if route is None:
            return web.json_response({"success": False, "message": ROUTE_HELP}, status=400)
        body = await request.read()
        envelope = build_envelope(route, request.method, request.path, request.query_string, list(request.headers.items()), body, AT)
        choice = choose_flows(infos, envelope["event_type"], route.handler)
        for flow_id in choice.flow_ids:
            results.append(runner.run(flow_id, flow_input(envelope, route, list(request.headers.items()))))
        return web.Response(status=200, content_type="application/json", body=b"accepted")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", ingress)
    runner_app = web.AppRunner(app)
    await runner_app.setup()
    site = web.TCPSite(runner_app, "127.0.0.1", 0)
    await site.start()
    port = runner_app.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/v1/events/ingress/webhook/acme/default/orders"
            async with session.post(
                url, data=json.dumps({"order": {"id": "o-42"}, "kind": "refund"}), headers={"x-correlation-id": "c-1"}
            ) as response:
                assert (response.status, await response.read()) == (200, b"accepted")
            async with session.post(f"http://127.0.0.1:{port}/v1/events/nowhere") as response:
                assert response.status == 400
    finally:
        await runner_app.cleanup()
    assert len(results) == 1
    result = results[0]
    assert result.flow_id == "default" and result.status == "completed"
    assert [s.node_id for s in result.steps if s.depth == 0] == ["in", "count", "remember", "classify", "refund", "notify", "answer"]
    assert result.steps[0].output == {"message": "order o-42 from acme"}
    assert result.response == {"status": 200, "body": {"sent": True, "order": "o-42"}}


def test_event_ids_do_not_depend_on_key_order():
    assert event_id_for({"b": 1, "a": [1, {"d": 2, "c": 3}]}) == event_id_for({"a": [1, {"c": 3, "d": 2}], "b": 1})
