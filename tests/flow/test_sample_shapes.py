"""Samples as the providers send them: the header names each provider documents, in its own
case, and bodies shaped like its current payloads (so a flow written against a sample works
on a real delivery)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid

import pytest

from inspector.config import load_config
from inspector.samples import SAMPLES, build
from tests.conftest import GITHUB_SECRET, ROOT

NOW = 1_700_000_000.0

GITHUB_HEADERS = [
    "X-GitHub-Delivery",
    "User-Agent",
    "Content-Type",
    "X-GitHub-Event",
    "X-GitHub-Hook-ID",
    "X-GitHub-Hook-Installation-Target-ID",
    "X-GitHub-Hook-Installation-Target-Type",
    "X-Hub-Signature",
    "X-Hub-Signature-256",
]
STRIPE_HEADERS = ["User-Agent", "Content-Type", "Stripe-Signature"]
SHOPIFY_HEADERS = [
    "Content-Type",
    "X-Shopify-Topic",
    "X-Shopify-Hmac-Sha256",
    "X-Shopify-Shop-Domain",
    "X-Shopify-API-Version",
    "X-Shopify-Webhook-Id",
    "X-Shopify-Triggered-At",
    "X-Shopify-Event-Id",
]
EXPECTED_HEADERS = {
    "github.push": GITHUB_HEADERS,
    "github.pull_request": GITHUB_HEADERS,
    "github.ping": GITHUB_HEADERS,
    "stripe.payment_intent.succeeded": STRIPE_HEADERS,
    "stripe.payment_intent.payment_failed": STRIPE_HEADERS,
    "shopify.orders.create": SHOPIFY_HEADERS,
}


def _build(name: str, **kw):
    config = load_config(ROOT / "answers.example.json", env={})
    return build(name, config, signed_url_base="http://127.0.0.1:8080", now=NOW, mark=False, **kw)


@pytest.mark.parametrize("name", sorted(EXPECTED_HEADERS))
def test_header_names_are_the_providers_own_case_included(name):
    request, entry = _build(name)
    names = [k for k, _ in request.headers]
    missing = [h for h in EXPECTED_HEADERS[name] if h not in names]
    assert not missing, f"{name} lacks {missing} (has {names})"
    assert len(names) == len({n.lower() for n in names})  # each header once
    assert entry is not None


@pytest.mark.parametrize("name", ["github.push", "github.pull_request", "github.ping"])
def test_github_header_values(name):
    request, _ = _build(name)
    h = dict(request.headers)
    assert re.fullmatch(r"GitHub-Hookshot/[0-9a-f]+", h["User-Agent"])
    assert uuid.UUID(h["X-GitHub-Delivery"]).version == 4
    assert h["X-GitHub-Event"] == name.split(".", 1)[1]
    assert h["X-GitHub-Hook-ID"].isdigit() and h["X-GitHub-Hook-Installation-Target-ID"].isdigit()
    assert h["X-GitHub-Hook-Installation-Target-Type"] == "repository"
    # GitHub sends both signatures, made with the same secret over the same raw bytes.
    sha1 = hmac.new(GITHUB_SECRET.encode(), request.body, hashlib.sha1).hexdigest()
    sha256 = hmac.new(GITHUB_SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert h["X-Hub-Signature"] == f"sha1={sha1}" and h["X-Hub-Signature-256"] == f"sha256={sha256}"


def test_the_same_instant_gives_the_same_request_and_another_a_new_delivery_id():
    a, _ = _build("github.push")
    b, _ = _build("github.push")
    assert list(a.headers) == list(b.headers) and a.body == b.body
    config = load_config(ROOT / "answers.example.json", env={})
    c, _ = build("github.push", config, signed_url_base="http://127.0.0.1:8080", now=NOW + 1, mark=False)
    assert dict(c.headers)["X-GitHub-Delivery"] != dict(a.headers)["X-GitHub-Delivery"]


def test_stripe_header_values():
    request, _ = _build("stripe.payment_intent.succeeded")
    h = dict(request.headers)
    assert h["User-Agent"] == "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
    assert h["Content-Type"] == "application/json; charset=utf-8"
    assert re.fullmatch(rf"t={int(NOW)},v1=[0-9a-f]{{64}}", h["Stripe-Signature"])


def test_shopify_header_values():
    request, _ = _build("shopify.orders.create")
    h = dict(request.headers)
    assert h["X-Shopify-Topic"] == "orders/create"
    assert h["X-Shopify-Shop-Domain"].endswith(".myshopify.com")
    assert re.fullmatch(r"\d{4}-\d{2}", h["X-Shopify-API-Version"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z", h["X-Shopify-Triggered-At"])
    uuid.UUID(h["X-Shopify-Webhook-Id"])
    uuid.UUID(h["X-Shopify-Event-Id"])
    assert len(base64.b64decode(h["X-Shopify-Hmac-Sha256"], validate=True)) == 32


def _body(name: str) -> dict:
    request, _ = _build(name)
    return json.loads(request.body)


def test_github_push_body_has_the_documented_fields():
    push = _body("github.push")
    assert {
        "ref",
        "before",
        "after",
        "repository",
        "pusher",
        "sender",
        "commits",
        "head_commit",
        "created",
        "deleted",
        "forced",
        "compare",
    } <= set(push)
    assert {"id", "name", "full_name", "owner", "private", "html_url", "default_branch"} <= set(push["repository"])
    for commit in push["commits"]:
        assert {"id", "message", "timestamp", "url", "author", "committer", "added", "removed", "modified"} <= set(commit)
        assert {"name", "email"} <= set(commit["author"]) and {"name", "email"} <= set(commit["committer"])
    assert push["head_commit"] == push["commits"][-1] and push["after"] == push["head_commit"]["id"]


@pytest.mark.parametrize(
    "name, status", [("stripe.payment_intent.succeeded", "succeeded"), ("stripe.payment_intent.payment_failed", "requires_payment_method")]
)
def test_stripe_event_body_has_the_documented_fields(name, status):
    event = _body(name)
    assert set(event) == {"id", "object", "api_version", "created", "data", "livemode", "pending_webhooks", "request", "type"}
    assert event["id"].startswith("evt_") and event["object"] == "event" and event["type"] == name.split(".", 1)[1]
    assert set(event["request"]) == {"id", "idempotency_key"}
    pi = event["data"]["object"]
    assert {
        "id",
        "object",
        "amount",
        "amount_capturable",
        "amount_received",
        "capture_method",
        "client_secret",
        "confirmation_method",
        "created",
        "currency",
        "customer",
        "last_payment_error",
        "latest_charge",
        "livemode",
        "metadata",
        "payment_method",
        "payment_method_types",
        "status",
    } <= set(pi)
    assert pi["object"] == "payment_intent" and pi["id"].startswith("pi_") and pi["status"] == status


def test_shopify_order_body_has_the_documented_fields():
    order = _body("shopify.orders.create")
    assert {
        "id",
        "admin_graphql_api_id",
        "confirmation_number",
        "created_at",
        "currency",
        "current_total_price",
        "email",
        "financial_status",
        "fulfillment_status",
        "line_items",
        "name",
        "order_number",
        "processed_at",
        "subtotal_price",
        "total_price",
        "total_tax",
        "customer",
        "billing_address",
        "shipping_address",
        "shipping_lines",
        "tax_lines",
        "updated_at",
        "test",
        "token",
    } <= set(order)
    for item in order["line_items"]:
        assert {"id", "product_id", "variant_id", "title", "quantity", "price", "sku"} <= set(item)


def test_every_sample_is_checked_here_or_is_a_generic_one():
    assert set(SAMPLES) - set(EXPECTED_HEADERS) == {"generic.order.created", "generic.report.generate"}


def test_send_keeps_the_providers_header_case_on_the_wire(tmp_path):
    from tests.conftest import run_cli
    from tests.test_cli import Serve

    s = Serve(tmp_path)
    try:
        port = s.url.rsplit(":", 1)[1]
        for name in ("github.push", "shopify.orders.create"):
            r = run_cli("--answers", str(ROOT / "answers.example.json"), "--port", port, "send", name, cwd=tmp_path)
            assert r.returncode == 0, r.stderr
    finally:
        s.stop()
    for cid, name in ((1, "github.push"), (2, "shopify.orders.create")):
        shown = json.loads(run_cli("show", str(cid), "--json", cwd=tmp_path).stdout)
        received = [k for k, _ in shown["headers"]]
        # urllib title-cased them on the way (X-Github-Event, X-Shopify-Api-Version)
        assert [h for h in EXPECTED_HEADERS[name] if h not in received] == [], received
