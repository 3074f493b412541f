"""Payloads shaped like the real providers' (fields trimmed to what a flow typically reads)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def _iso(now: float) -> str:
    return datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Shapes follow the providers' documented payloads (GitHub's "Webhook events and payloads",
# Stripe's Event and PaymentIntent objects, Shopify's orders/create example): a flow written
# against a sample keeps working on a real delivery.
OWNER = {
    "login": "octo-org",
    "id": 6811672,
    "node_id": "MDEyOk9yZ2FuaXphdGlvbjY4MTE2NzI=",
    "avatar_url": "https://avatars.githubusercontent.com/u/6811672?v=4",
    "url": "https://api.github.com/users/octo-org",
    "html_url": "https://github.com/octo-org",
    "type": "Organization",
    "site_admin": False,
}
REPO = {
    "id": 1296269,
    "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
    "name": "hello-world",
    "full_name": "octo-org/hello-world",
    "private": False,
    "owner": OWNER,
    "html_url": "https://github.com/octo-org/hello-world",
    "description": "A sample repository",
    "fork": False,
    "url": "https://api.github.com/repos/octo-org/hello-world",
    "git_url": "git://github.com/octo-org/hello-world.git",
    "ssh_url": "git@github.com:octo-org/hello-world.git",
    "clone_url": "https://github.com/octo-org/hello-world.git",
    "created_at": 1296068472,
    "updated_at": "2024-10-01T12:00:00Z",
    "pushed_at": 1727784000,
    "size": 108,
    "stargazers_count": 80,
    "watchers_count": 80,
    "language": "Python",
    "forks_count": 9,
    "open_issues_count": 2,
    "visibility": "public",
    "default_branch": "main",
    "master_branch": "main",
    "topics": [],
    "archived": False,
    "disabled": False,
}
SENDER = {
    "login": "octocat",
    "id": 583231,
    "node_id": "MDQ6VXNlcjU4MzIzMQ==",
    "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
    "url": "https://api.github.com/users/octocat",
    "html_url": "https://github.com/octocat",
    "type": "User",
    "site_admin": False,
}
ORGANIZATION = {
    "login": "octo-org",
    "id": 6811672,
    "node_id": "MDEyOk9yZ2FuaXphdGlvbjY4MTE2NzI=",
    "url": "https://api.github.com/orgs/octo-org",
    "description": "",
}


def _commit(
    now_iso: str, sha: str, message: str, who: tuple[str, str, str], added: list[str], removed: list[str], modified: list[str]
) -> dict[str, Any]:
    name, email, username = who
    person = {"name": name, "email": email, "username": username}
    return {
        "id": sha,
        "tree_id": sha[::-1],
        "distinct": True,
        "message": message,
        "timestamp": now_iso,
        "url": f"https://github.com/octo-org/hello-world/commit/{sha}",
        "author": person,
        "committer": {"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"} if username == "octocat" else person,
        "added": added,
        "removed": removed,
        "modified": modified,
    }


def github_push(now: float) -> dict[str, Any]:
    mona = ("Mona Lisa", "mona@example.com", "monalisa")
    commits = [
        _commit(_iso(now - 300), "6dcb09b5b57875f334f61aebed695e2e4193db5e", "Fix the login redirect", mona, [], [], ["app/login.py"]),
        _commit(
            _iso(now - 200),
            "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
            "Add a test for the redirect",
            mona,
            ["tests/test_login.py"],
            [],
            [],
        ),
        _commit(
            _iso(now - 100),
            "0123456789abcdef0123456789abcdef01234567",
            "Update the changelog",
            ("The Octocat", "octocat@example.com", "octocat"),
            [],
            [],
            ["CHANGELOG.md"],
        ),
    ]
    return {
        "ref": "refs/heads/main",
        "before": "9049f1265b7d61be4a8904a9a27120d2064dab3b",
        "after": commits[-1]["id"],
        "repository": REPO,
        "pusher": {"name": "monalisa", "email": "mona@example.com"},
        "organization": ORGANIZATION,
        "sender": SENDER,
        "created": False,
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "compare": "https://github.com/octo-org/hello-world/compare/9049f1265b7d...0123456789ab",
        "commits": commits,
        "head_commit": commits[-1],
    }


def github_pull_request(now: float) -> dict[str, Any]:
    return {
        "action": "opened",
        "number": 42,
        "pull_request": {
            "url": "https://api.github.com/repos/octo-org/hello-world/pulls/42",
            "id": 1789012345,
            "node_id": "PR_kwDOABCD1M5qn0xZ",
            "number": 42,
            "state": "open",
            "locked": False,
            "title": "Fix the login redirect",
            "draft": False,
            "user": SENDER,
            "body": "Redirect to the page the user came from.",
            "created_at": _iso(now),
            "updated_at": _iso(now),
            "closed_at": None,
            "merged_at": None,
            "merge_commit_sha": None,
            "assignees": [],
            "requested_reviewers": [],
            "labels": [],
            "head": {
                "label": "octo-org:fix-login",
                "ref": "fix-login",
                "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
                "user": OWNER,
                "repo": REPO,
            },
            "base": {
                "label": "octo-org:main",
                "ref": "main",
                "sha": "9049f1265b7d61be4a8904a9a27120d2064dab3b",
                "user": OWNER,
                "repo": REPO,
            },
            "html_url": "https://github.com/octo-org/hello-world/pull/42",
            "diff_url": "https://github.com/octo-org/hello-world/pull/42.diff",
            "author_association": "MEMBER",
            "merged": False,
            "mergeable": None,
            "comments": 0,
            "review_comments": 0,
            "commits": 2,
            "additions": 12,
            "deletions": 3,
            "changed_files": 2,
        },
        "repository": REPO,
        "organization": ORGANIZATION,
        "sender": SENDER,
    }


def github_ping(now: float) -> dict[str, Any]:
    return {
        "zen": "Keep it logically awesome.",
        "hook_id": 512345678,
        "hook": {
            "type": "Repository",
            "id": 512345678,
            "name": "web",
            "active": True,
            "events": ["push", "pull_request"],
            "config": {"content_type": "json", "insecure_ssl": "0", "url": "https://your-domain.ngrok-free.app/events/webhook/demo/github"},
            "updated_at": _iso(now),
            "created_at": _iso(now),
            "url": "https://api.github.com/repos/octo-org/hello-world/hooks/512345678",
            "test_url": "https://api.github.com/repos/octo-org/hello-world/hooks/512345678/test",
            "ping_url": "https://api.github.com/repos/octo-org/hello-world/hooks/512345678/pings",
            "deliveries_url": "https://api.github.com/repos/octo-org/hello-world/hooks/512345678/deliveries",
            "last_response": {"code": None, "status": "unused", "message": None},
        },
        "repository": REPO,
        "organization": ORGANIZATION,
        "sender": SENDER,
    }


def _payment_intent(now: float, status: str, error: dict[str, Any] | None) -> dict[str, Any]:
    succeeded = status == "succeeded"
    return {
        "id": "pi_3QExample0001",
        "object": "payment_intent",
        "amount": 2000,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 2000 if succeeded else 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": "pi_3QExample0001_secret_ExampleNotARealSecret",
        "confirmation_method": "automatic",
        "created": int(now) - 5,
        "currency": "usd",
        "customer": "cus_QExample0001",
        "description": "Order #1001",
        "invoice": None,
        "last_payment_error": error,
        "latest_charge": "ch_3QExample0001" if succeeded else None,
        "livemode": False,
        "metadata": {"order_id": "1001"},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": "pm_1QExampleCard" if succeeded else None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {"installments": None, "mandate_options": None, "network": None, "request_three_d_secure": "automatic"}
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": "jon@example.com",
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }


def _stripe_event(now: float, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "evt_3QExample0001",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(now),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": "req_Example0001", "idempotency_key": "5f1c2e8a-0000-4000-8000-000000000001"},
        "type": type_,
    }


def stripe_succeeded(now: float) -> dict[str, Any]:
    return _stripe_event(now, "payment_intent.succeeded", _payment_intent(now, "succeeded", None))


def stripe_failed(now: float) -> dict[str, Any]:
    error = {
        "charge": "ch_3QExample0001",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        "message": "Your card has insufficient funds.",
        "payment_method": {
            "id": "pm_1QExampleCard",
            "object": "payment_method",
            "type": "card",
            "card": {"brand": "visa", "last4": "9995", "exp_month": 12, "exp_year": 2030, "country": "US"},
        },
        "type": "card_error",
    }
    return _stripe_event(now, "payment_intent.payment_failed", _payment_intent(now, "requires_payment_method", error))


def _money(amount: str) -> dict[str, Any]:
    return {"shop_money": {"amount": amount, "currency_code": "USD"}, "presentment_money": {"amount": amount, "currency_code": "USD"}}


ADDRESS = {
    "first_name": "Jon",
    "last_name": "Snow",
    "name": "Jon Snow",
    "company": None,
    "address1": "150 Elgin Street",
    "address2": "8th floor",
    "city": "Ottawa",
    "province": "Ontario",
    "province_code": "ON",
    "country": "Canada",
    "country_code": "CA",
    "zip": "K2P 1L4",
    "phone": "555-625-1199",
    "latitude": 45.41634,
    "longitude": -75.6868,
}


def _line_item(id_: int, title: str, price: str, sku: str, product_id: int, variant_id: int) -> dict[str, Any]:
    return {
        "id": id_,
        "admin_graphql_api_id": f"gid://shopify/LineItem/{id_}",
        "current_quantity": 1,
        "fulfillable_quantity": 1,
        "fulfillment_service": "manual",
        "fulfillment_status": None,
        "gift_card": False,
        "grams": 200,
        "name": title,
        "price": price,
        "price_set": _money(price),
        "product_exists": True,
        "product_id": product_id,
        "properties": [],
        "quantity": 1,
        "requires_shipping": True,
        "sku": sku,
        "taxable": True,
        "title": title,
        "total_discount": "0.00",
        "total_discount_set": _money("0.00"),
        "variant_id": variant_id,
        "variant_inventory_management": "shopify",
        "variant_title": None,
        "vendor": "Example Co",
        "tax_lines": [],
        "duties": [],
        "discount_allocations": [],
    }


def shopify_order(now: float) -> dict[str, Any]:
    created = datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    customer = {
        "id": 115310627314723954,
        "email": "jon@example.com",
        "created_at": created,
        "updated_at": created,
        "first_name": "Jon",
        "last_name": "Snow",
        "state": "enabled",
        "note": None,
        "verified_email": True,
        "multipass_identifier": None,
        "tax_exempt": False,
        "phone": None,
        "currency": "USD",
        "tax_exemptions": [],
        "admin_graphql_api_id": "gid://shopify/Customer/115310627314723954",
        "default_address": ADDRESS,
    }
    return {
        "id": 820982911946154508,
        "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
        "app_id": None,
        "browser_ip": None,
        "buyer_accepts_marketing": True,
        "cancel_reason": None,
        "cancelled_at": None,
        "cart_token": None,
        "checkout_id": None,
        "checkout_token": None,
        "client_details": None,
        "closed_at": None,
        "confirmation_number": "ZC3WDJ7QX",
        "confirmed": True,
        "contact_email": "jon@example.com",
        "created_at": created,
        "currency": "USD",
        "current_subtotal_price": "54.00",
        "current_subtotal_price_set": _money("54.00"),
        "current_total_discounts": "0.00",
        "current_total_price": "59.00",
        "current_total_price_set": _money("59.00"),
        "current_total_tax": "5.00",
        "customer_locale": "en",
        "discount_codes": [],
        "email": "jon@example.com",
        "estimated_taxes": False,
        "financial_status": "paid",
        "fulfillment_status": None,
        "landing_site": None,
        "name": "#1001",
        "note": None,
        "note_attributes": [],
        "number": 1,
        "order_number": 1001,
        "order_status_url": "https://example-shop.myshopify.com/123456/orders/123456abcd/authenticate?key=abcdefg",
        "payment_gateway_names": ["shopify_payments"],
        "phone": None,
        "presentment_currency": "USD",
        "processed_at": created,
        "reference": None,
        "source_name": "web",
        "subtotal_price": "54.00",
        "subtotal_price_set": _money("54.00"),
        "tags": "",
        "tax_exempt": False,
        "tax_lines": [{"price": "5.00", "rate": 0.13, "title": "HST", "price_set": _money("5.00")}],
        "taxes_included": False,
        "test": True,
        "token": "123456abcd",
        "total_discounts": "0.00",
        "total_discounts_set": _money("0.00"),
        "total_line_items_price": "54.00",
        "total_line_items_price_set": _money("54.00"),
        "total_outstanding": "0.00",
        "total_price": "59.00",
        "total_price_set": _money("59.00"),
        "total_shipping_price_set": _money("0.00"),
        "total_tax": "5.00",
        "total_tax_set": _money("5.00"),
        "total_tip_received": "0.00",
        "total_weight": 400,
        "updated_at": created,
        "user_id": None,
        "billing_address": ADDRESS,
        "customer": customer,
        "discount_applications": [],
        "fulfillments": [],
        "line_items": [
            _line_item(866550311766439020, "Aviator sunglasses", "39.00", "SKU-2006-001", 632910392, 808950810),
            _line_item(141249953214522974, "Mid-century lounger", "15.00", "SKU-2006-020", 921728736, 457924702),
        ],
        "payment_terms": None,
        "refunds": [],
        "shipping_address": ADDRESS,
        "shipping_lines": [],
    }


def generic_order(now: float) -> dict[str, Any]:
    return {"message": "Hello from webhook", "order": {"id": "ord_1001", "total": 59.0, "currency": "USD", "created_at": _iso(now)}}


def greentic_order(now: float) -> dict[str, Any]:
    """What `init --greentic`'s pack branches on: `type`, then `data`."""
    return {"type": "order.created", "data": {"id": "ord_1001", "total": "59.00", "currency": "USD", "created_at": _iso(now)}}


def generic_report(now: float) -> dict[str, Any]:
    return {
        "report": "monthly-sales",
        "requested_at": _iso(now),
        "items": [{"sku": "SKU-2006-001", "qty": 3}, {"sku": "SKU-2006-020", "qty": 1}],
    }
