"""The seed's three snippets (SPEC §0) on realistic GitHub push and Stripe payment_intent payloads."""

import copy

from inspector.script import compile, compile_expression, render_template

USER = {"name": "Mona Lisa", "email": "mona@example.com", "username": "octocat"}
GITHUB_PUSH = {
    "ref": "refs/heads/main",
    "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    "after": "59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5",
    "repository": {
        "id": 186853002,
        "name": "Hello-World",
        "full_name": "octocat/Hello-World",
        "private": False,
        "owner": {"login": "octocat", "id": 1, "type": "User"},
        "default_branch": "main",
    },
    "pusher": {"name": "octocat", "email": "mona@example.com"},
    "sender": {"login": "octocat", "id": 1, "type": "User", "site_admin": False},
    "created": False,
    "deleted": False,
    "forced": False,
    "commits": [
        {
            "id": f"{i:040x}",
            "tree_id": f"{i + 99:040x}",
            "distinct": True,
            "message": f"Fix #{i}",
            "timestamp": "2024-05-01T12:00:00+02:00",
            "author": USER,
            "committer": USER,
            "added": [],
            "removed": [],
            "modified": ["README.md"],
        }
        for i in range(20)
    ],
    "head_commit": None,
}
GITHUB_HEADERS = {
    "x-github-event": "push",
    "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    "x-hub-signature-256": "sha256=0000",
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/044aadd",
}
STRIPE_EVENT = {
    "id": "evt_3OqYxK2eZvKYlo2C0p8kX0Yb",
    "object": "event",
    "api_version": "2023-10-16",
    "created": 1714564800,
    "type": "payment_intent.succeeded",
    "livemode": False,
    "pending_webhooks": 1,
    "data": {
        "object": {
            "id": "pi_3OqYxK2eZvKYlo2C0Jt3VqHn",
            "object": "payment_intent",
            "amount": 2000,
            "currency": "usd",
            "status": "succeeded",
            "metadata": {"order_id": "1042"},
        }
    },
}
STRIPE_HEADERS = {"stripe-signature": "t=1714564800,v1=5257a869", "content-type": "application/json"}


def scope(payload, headers):
    payload = copy.deepcopy(payload)
    event = {
        "id": "01HX",
        "tenant": "demo",
        "event_type": "github",
        "method": "POST",
        "path": "/events/webhook/demo/github",
        "query": {},
        "headers": headers,
        "payload": payload,
        "body": "",
        "received_at": "2024-05-01T10:00:00Z",
        "signature": {"status": "valid", "scheme": "github"},
    }
    return {"event": event, "headers": headers, "payload": payload, "prev": None, "nodes": {}, "state": {}}


def test_seed_data_script_returns_the_payload():
    source = "let data = event.payload;\n// Process webhook data\ndata\n"
    s = scope(GITHUB_PUSH, GITHUB_HEADERS)
    assert compile(source, origin="flows/on_webhook.ygtc", line_offset=9).run(s).value == GITHUB_PUSH


def test_seed_commit_count_script():
    source = 'let commits = event.payload.commits;\nformat!("Received {} commits", commits.len())\n'
    result = compile(source).run(scope(GITHUB_PUSH, GITHUB_HEADERS))
    assert result.value == "Received 20 commits"
    assert result.logs == []


def test_seed_github_branch_expressions():
    s = scope(GITHUB_PUSH, GITHUB_HEADERS)
    assert compile_expression("headers['x-github-event'] == 'push'").run(s).value is True
    assert compile_expression("headers['x-github-event'] == 'pull_request'").run(s).value is False
    assert compile_expression("headers['X-GitHub-Event'] == 'push'").run(s).value is True
    ping = scope({"zen": "Keep it logically awesome."}, {**GITHUB_HEADERS, "x-github-event": "ping"})
    assert compile_expression("headers['x-github-event'] == 'push'").run(ping).value is False


def test_seed_stripe_branch_expressions():
    s = scope(STRIPE_EVENT, STRIPE_HEADERS)
    assert compile_expression("event.payload.type == 'payment_intent.succeeded'").run(s).value is True
    assert compile_expression("event.payload.type == 'payment_intent.failed'").run(s).value is False
    failed = scope({**STRIPE_EVENT, "type": "payment_intent.payment_failed"}, STRIPE_HEADERS)
    assert compile_expression("event.payload.type == 'payment_intent.succeeded'").run(failed).value is False


def test_seed_async_payload_template_keeps_the_map():
    s = scope(STRIPE_EVENT, STRIPE_HEADERS)
    assert render_template("{{event.payload}}", s) == STRIPE_EVENT


def test_a_richer_flow_script_on_the_push():
    source = """
    let commits = event.payload.commits;
    let by_author = #{};
    for c in commits {
        let who = c.author.username;
        by_author[who] = (by_author[who] ?? 0) + 1;
    }
    state.last_push = event.payload.after.sub_string(0, 7);
    #{
        branch: event.payload.ref.replace("refs/heads/", ""),
        count: commits.len(),
        authors: by_author,
        first: commits[0].message,
        last: commits[-1]?.message,
        touched_readme: commits.any(|c| "README.md" in c.modified),
    }
    """
    s = scope(GITHUB_PUSH, GITHUB_HEADERS)
    value = compile(source).run(s).value
    assert value == {
        "branch": "main",
        "count": 20,
        "authors": {"octocat": 20},
        "first": "Fix #0",
        "last": "Fix #19",
        "touched_readme": True,
    }
    assert s["state"] == {"last_push": "59b20b8"}
