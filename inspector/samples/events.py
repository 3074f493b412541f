"""Payloads shaped like the real providers' (fields trimmed to what a flow typically reads)."""

from __future__ import annotations

from datetime import datetime, timezone


def _iso(now: float) -> str:
    return datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


REPO = {
    "id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": "hello-world", "full_name": "octo-org/hello-world",
    "private": False, "owner": {"login": "octo-org", "id": 6811672, "type": "Organization"},
    "html_url": "https://github.com/octo-org/hello-world", "default_branch": "main",
}
SENDER = {"login": "octocat", "id": 583231, "type": "User"}


def github_push(now: float) -> dict:
    commits = [
        {"id": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "message": "Fix the login redirect", "timestamp": _iso(now - 300),
         "author": {"name": "Mona Lisa", "email": "mona@example.com", "username": "monalisa"}, "added": [], "removed": [], "modified": ["app/login.py"]},
        {"id": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "message": "Add a test for the redirect", "timestamp": _iso(now - 200),
         "author": {"name": "Mona Lisa", "email": "mona@example.com", "username": "monalisa"}, "added": ["tests/test_login.py"], "removed": [], "modified": []},
        {"id": "0123456789abcdef0123456789abcdef01234567", "message": "Update the changelog", "timestamp": _iso(now - 100),
         "author": {"name": "The Octocat", "email": "octocat@example.com", "username": "octocat"}, "added": [], "removed": [], "modified": ["CHANGELOG.md"]},
    ]
    return {
        "ref": "refs/heads/main", "before": "9049f1265b7d61be4a8904a9a27120d2064dab3b", "after": commits[-1]["id"],
        "created": False, "deleted": False, "forced": False,
        "compare": "https://github.com/octo-org/hello-world/compare/9049f1265b7d...0123456789ab",
        "commits": commits, "head_commit": commits[-1], "repository": REPO,
        "pusher": {"name": "monalisa", "email": "mona@example.com"}, "sender": SENDER,
    }


def github_pull_request(now: float) -> dict:
    return {
        "action": "opened", "number": 42,
        "pull_request": {
            "id": 1789012345, "number": 42, "state": "open", "title": "Fix the login redirect", "draft": False,
            "user": SENDER, "body": "Redirect to the page the user came from.",
            "created_at": _iso(now), "updated_at": _iso(now),
            "head": {"ref": "fix-login", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e"},
            "base": {"ref": "main", "sha": "9049f1265b7d61be4a8904a9a27120d2064dab3b"},
            "html_url": "https://github.com/octo-org/hello-world/pull/42",
            "additions": 12, "deletions": 3, "changed_files": 2,
        },
        "repository": REPO, "sender": SENDER,
    }


def github_ping(now: float) -> dict:
    return {
        "zen": "Keep it logically awesome.", "hook_id": 512345678,
        "hook": {"type": "Repository", "id": 512345678, "name": "web", "active": True, "events": ["push", "pull_request"],
                 "config": {"content_type": "json", "insecure_ssl": "0", "url": "https://your-domain.ngrok-free.app/events/webhook/demo/github"}},
        "repository": REPO, "sender": SENDER,
    }


def _payment_intent(now: float, status: str, error: dict | None) -> dict:
    return {
        "id": "pi_3QExample0001", "object": "payment_intent", "amount": 2000, "amount_received": 2000 if status == "succeeded" else 0,
        "currency": "usd", "status": status, "customer": "cus_QExample0001", "description": "Order #1001",
        "created": int(now) - 5, "livemode": False, "payment_method": "pm_1QExampleCard",
        "metadata": {"order_id": "1001"}, "last_payment_error": error,
    }


def _stripe_event(now: float, type_: str, obj: dict) -> dict:
    return {
        "id": "evt_3QExample0001", "object": "event", "api_version": "2024-06-20", "created": int(now),
        "type": type_, "livemode": False, "pending_webhooks": 1,
        "request": {"id": "req_Example0001", "idempotency_key": "5f1c2e8a-0000-4000-8000-000000000001"},
        "data": {"object": obj},
    }


def stripe_succeeded(now: float) -> dict:
    return _stripe_event(now, "payment_intent.succeeded", _payment_intent(now, "succeeded", None))


def stripe_failed(now: float) -> dict:
    error = {"code": "card_declined", "decline_code": "insufficient_funds", "message": "Your card has insufficient funds.", "type": "card_error"}
    return _stripe_event(now, "payment_intent.payment_failed", _payment_intent(now, "requires_payment_method", error))


def shopify_order(now: float) -> dict:
    return {
        "id": 820982911946154508, "name": "#1001", "order_number": 1001, "email": "jon@example.com",
        "created_at": _iso(now), "currency": "USD", "total_price": "59.00", "subtotal_price": "54.00", "total_tax": "5.00",
        "financial_status": "paid", "fulfillment_status": None,
        "customer": {"id": 115310627314723954, "first_name": "Jon", "last_name": "Snow", "email": "jon@example.com"},
        "line_items": [
            {"id": 866550311766439020, "title": "Aviator sunglasses", "quantity": 1, "price": "39.00", "sku": "SKU-2006-001"},
            {"id": 141249953214522974, "title": "Mid-century lounger", "quantity": 1, "price": "15.00", "sku": "SKU-2006-020"},
        ],
        "shipping_address": {"city": "Ottawa", "country_code": "CA", "zip": "K2P 1L4"},
    }


def generic_order(now: float) -> dict:
    return {"message": "Hello from webhook", "order": {"id": "ord_1001", "total": 59.0, "currency": "USD", "created_at": _iso(now)}}


def generic_report(now: float) -> dict:
    return {"report": "monthly-sales", "requested_at": _iso(now), "items": [{"sku": "SKU-2006-001", "qty": 3}, {"sku": "SKU-2006-020", "qty": 1}]}
