"""Benchmark of the script language: the seed's branch expressions and scripts on realistic
GitHub push (20 commits) and Stripe payment_intent payloads, compiled once and evaluated
many times, against the same work written as plain Python functions in the same run.

    python -m bench.script            # a table
    python -m bench.script --json     # one JSON document

Targets (issue 3): at most 5x native for branch expressions, 10x for scripts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `inspector` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inspector.script import compile, compile_expression  # noqa: E402


def github_push(commits: int = 20) -> dict:
    """A GitHub `push` event shaped like the real one (trimmed of URLs that add nothing)."""
    user = {"name": "Mona Lisa", "email": "mona@example.com", "username": "octocat"}
    return {
        "ref": "refs/heads/main",
        "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
        "after": "0000000000000000000000000000000000000000",
        "repository": {
            "id": 186853002,
            "name": "Hello-World",
            "full_name": "octocat/Hello-World",
            "private": False,
            "owner": {"login": "octocat", "id": 1, "type": "User", "site_admin": False},
            "html_url": "https://github.com/octocat/Hello-World",
            "default_branch": "main",
            "stargazers_count": 80,
            "forks_count": 9,
            "open_issues_count": 0,
        },
        "pusher": {"name": "octocat", "email": "mona@example.com"},
        "sender": {"login": "octocat", "id": 1, "type": "User", "site_admin": False},
        "created": False,
        "deleted": False,
        "forced": False,
        "compare": "https://github.com/octocat/Hello-World/compare/6113728f27ae...000000000000",
        "commits": [
            {
                "id": f"{i:040x}",
                "tree_id": f"{i + 1000:040x}",
                "distinct": True,
                "message": f"Fix bug #{i} in the widget frobnicator",
                "timestamp": "2024-05-01T12:00:00+02:00",
                "url": f"https://github.com/octocat/Hello-World/commit/{i:040x}",
                "author": user,
                "committer": user,
                "added": [f"src/new_{i}.py"],
                "removed": [],
                "modified": ["README.md", f"src/mod_{i}.py"],
            }
            for i in range(commits)
        ],
        "head_commit": None,
    }


def stripe_payment_intent() -> dict:
    """A Stripe `payment_intent.succeeded` event."""
    return {
        "id": "evt_3OqYxK2eZvKYlo2C0p8kX0Yb",
        "object": "event",
        "api_version": "2023-10-16",
        "created": 1714564800,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": "req_9Hq0Mxb2Lz", "idempotency_key": "8e1b5c1e-2f0a-4c7e-9a59-5b1d8f3a2c11"},
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": "pi_3OqYxK2eZvKYlo2C0Jt3VqHn",
                "object": "payment_intent",
                "amount": 2000,
                "amount_capturable": 0,
                "amount_received": 2000,
                "currency": "usd",
                "customer": "cus_PfGh12AbCdEf",
                "description": "Order #1042",
                "metadata": {"order_id": "1042"},
                "payment_method": "pm_1OqYxJ2eZvKYlo2C",
                "payment_method_types": ["card"],
                "status": "succeeded",
                "livemode": False,
                "latest_charge": "ch_3OqYxK2eZvKYlo2C0h7Yq8aB",
                "receipt_email": "jenny@example.com",
            }
        },
    }


def github_scope() -> dict:
    payload = github_push(20)
    headers = {
        "x-github-event": "push",
        "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/044aadd",
    }
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


def stripe_scope() -> dict:
    payload = stripe_payment_intent()
    headers = {
        "stripe-signature": "t=1714564800,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
        "content-type": "application/json; charset=utf-8",
        "user-agent": "Stripe/1.0",
    }
    event = {
        "id": "01HY",
        "tenant": "demo",
        "event_type": "stripe",
        "method": "POST",
        "path": "/events/webhook/demo/stripe",
        "query": {},
        "headers": headers,
        "payload": payload,
        "body": "",
        "received_at": "2024-05-01T10:00:00Z",
        "signature": {"status": "valid", "scheme": "stripe"},
    }
    return {"event": event, "headers": headers, "payload": payload, "prev": None, "nodes": {}, "state": {}}


# (name, kind, source, native function, scope factory)
CASES = [
    (
        "github: headers['x-github-event'] == 'push'",
        "expression",
        "headers['x-github-event'] == 'push'",
        lambda s: s["headers"].get("x-github-event") == "push",
        github_scope,
    ),
    (
        "github: headers['x-github-event'] == 'pull_request'",
        "expression",
        "headers['x-github-event'] == 'pull_request'",
        lambda s: s["headers"].get("x-github-event") == "pull_request",
        github_scope,
    ),
    (
        "stripe: event.payload.type == 'payment_intent.succeeded'",
        "expression",
        "event.payload.type == 'payment_intent.succeeded'",
        lambda s: s["event"]["payload"].get("type") == "payment_intent.succeeded",
        stripe_scope,
    ),
    (
        "seed: let data = event.payload; data",
        "script",
        "let data = event.payload;\n// Process webhook data\ndata",
        lambda s: s["event"]["payload"],
        github_scope,
    ),
    (
        'seed: format!("Received {} commits", commits.len())',
        "script",
        'let commits = event.payload.commits;\nformat!("Received {} commits", commits.len())',
        lambda s: f"Received {len(s['event']['payload']['commits'])} commits",
        github_scope,
    ),
    (
        "stripe: amount summary",
        "script",
        "let pi = event.payload.data.object;\n"
        'if pi.status == "succeeded" { `Paid ${pi.amount / 100} ${pi.currency.to_upper()}` } else { "unpaid" }',
        lambda s: (
            (
                f"Paid {s['event']['payload']['data']['object']['amount'] // 100} "
                f"{s['event']['payload']['data']['object']['currency'].upper()}"
            )
            if s["event"]["payload"]["data"]["object"]["status"] == "succeeded"
            else "unpaid"
        ),
        stripe_scope,
    ),
    (
        "github: messages of octocat's commits (closures)",
        "script",
        'let commits = event.payload.commits;\ncommits.filter(|c| c.author.username == "octocat").map(|c| c.message).join("\\n")',
        lambda s: "\n".join(c["message"] for c in s["event"]["payload"]["commits"] if c["author"]["username"] == "octocat"),
        github_scope,
    ),
]

TARGETS = {"expression": 5.0, "script": 10.0}


def _batch(func, arg) -> int:
    """A batch size that takes about 10 ms."""
    batch = 1
    while True:
        start = time.perf_counter()
        for _ in range(batch):
            func(arg)
        if time.perf_counter() - start > 0.01:
            return batch
        batch *= 2


def _rates(script, native, arg, seconds: float) -> tuple[float, float]:
    """Best evaluations per second of each, timed in alternating batches so that a busy
    machine slows both alike."""
    batches = (_batch(script, arg), _batch(native, arg))
    best = [float("inf"), float("inf")]
    deadline = time.perf_counter() + seconds
    while True:
        for i, func in enumerate((script, native)):
            batch = batches[i]
            start = time.perf_counter()
            for _ in range(batch):
                func(arg)
            best[i] = min(best[i], (time.perf_counter() - start) / batch)
        if time.perf_counter() > deadline:
            return 1.0 / best[0], 1.0 / best[1]


def run(seconds: float = 1.0) -> list[dict]:
    results = []
    for name, kind, source, native, make_scope in CASES:
        scope = make_scope()
        program = compile_expression(source) if kind == "expression" else compile(source)
        expected = native(scope)
        got = program.run(scope).value
        if got != expected:
            raise SystemExit(f"{name}: script gave {got!r}, native gave {expected!r}")
        script_rate, native_rate = _rates(program.run, native, scope, seconds)
        ratio = native_rate / script_rate
        row = {
            "name": name,
            "kind": kind,
            "script_evals_per_s": round(script_rate),
            "native_evals_per_s": round(native_rate),
            "ratio": round(ratio, 2),
            "target": TARGETS[kind],
            "within_target": ratio <= TARGETS[kind],
        }
        if kind == "expression":  # the engine may test conditions with evaluate(): no logs
            fast_rate, native_rate2 = _rates(program.evaluate, native, scope, seconds)
            row["evaluate_evals_per_s"] = round(fast_rate)
            row["evaluate_ratio"] = round(native_rate2 / fast_rate, 2)
        results.append(row)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.script", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement (default 1.0)")
    args = parser.parse_args(argv)
    results = run(args.seconds)
    if args.json:
        print(json.dumps({"benchmark": "script", "python": sys.version.split()[0], "results": results}, indent=2))
        return 0
    print(f"{'case':<58} {'script/s':>11} {'native/s':>12} {'ratio':>7}  target")
    for r in results:
        mark = "ok" if r["within_target"] else "OVER"
        print(
            f"{r['name'][:58]:<58} {r['script_evals_per_s']:>11,} {r['native_evals_per_s']:>12,} "
            f"{r['ratio']:>6.2f}x  <= {r['target']:.0f}x {mark}"
        )
        if "evaluate_ratio" in r:
            print(f"{'  … with Program.evaluate()':<58} {r['evaluate_evals_per_s']:>11,} {'':>12} {r['evaluate_ratio']:>6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
