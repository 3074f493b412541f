"""`diff` core: each kind of difference between two captures, on captures a real server
stored (the bundled samples) and on requests built to differ in one way."""

from __future__ import annotations

import asyncio
import json

import pytest

from inspector.config import load_config
from inspector.diff import ABSENT, VOLATILE, compare_values, diff_captures, shown, volatile_header
from inspector.flow import Engine, FlowSet
from inspector.model import Capture, Headers, Request, Response, SignatureResult
from inspector.pipeline import Pipeline
from inspector.store import Store
from tests.conftest import ROOT
from tests.test_rerun import record_samples


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Capture]:
    folder = tmp_path_factory.mktemp("diff")
    path = folder / "captures.sqlite3"
    asyncio.run(record_samples(path, ROOT / "answers.example.json", ROOT / "flows"))
    store = Store(path, readonly=True)
    try:
        return {c.request.headers.get("x-inspector-sample") or _sample_name(c): c for c in store.iter_arrived()}
    finally:
        store.close()


def _sample_name(c: Capture) -> str:
    gh = c.request.headers.get("x-github-event")
    return f"{c.event_type}.{gh}" if gh else f"{c.event_type}:{c.id}"


def capture(body: bytes = b'{"a": 1}', *, ctype="application/json", headers=(), query="", path="/webhooks/demo/order.created", **kw):
    hdrs = Headers([("Content-Type", ctype), *headers])
    req = Request("POST", path, query, hdrs, body, "127.0.0.1", 1.0)
    return Capture(id=kw.pop("id", 1), request=req, tenant="demo", event_type="order.created", signature=SignatureResult("unsigned"), **kw)


def wheres(diffs):
    return [(d.where, d.a, d.b) for d in diffs]


def test_a_capture_equals_itself(samples):
    for c in samples.values():
        assert diff_captures(c, c) == []


def test_two_github_events_differ_in_headers_body_answer_and_where_the_flow_parts(samples):
    push = next(c for c in samples.values() if c.request.headers.get("x-github-event") == "push")
    ping = next(c for c in samples.values() if c.request.headers.get("x-github-event") == "ping")
    diffs = diff_captures(push, ping)
    got = {d.where: (d.a, d.b) for d in diffs}
    assert got["headers.x-github-event"] == ("push", "ping")
    # Delivery ids and signatures are grouped as volatile.
    volatile = got[VOLATILE]
    assert set(volatile[0]) >= {"X-GitHub-Delivery", "X-Hub-Signature-256"}
    assert "headers.x-github-delivery" not in got
    # The JSON body by path, the answer by path, the flow's path and the first step apart.
    assert got["$.zen"] == (ABSENT, "Keep it logically awesome.")
    assert any(w.startswith("$.commits") or w == "$.commits" for w in got)
    assert got["response.body.result"] == ("Received 3 commits", "GitHub says: Keep it logically awesome.")
    assert got["flows.github.path"] == (["check_event", "handle_push", "ok"], ["check_event", "handle_ping", "ok"])
    assert got["flows.github.steps[0]"][0]["next"] == "handle_push"


def test_all_headers_lists_volatile_headers_one_by_one(samples):
    push = next(c for c in samples.values() if c.request.headers.get("x-github-event") == "push")
    ping = next(c for c in samples.values() if c.request.headers.get("x-github-event") == "ping")
    got = {d.where for d in diff_captures(push, ping, all_headers=True)}
    assert VOLATILE not in got
    assert {"headers.x-github-delivery", "headers.x-hub-signature-256"} <= got


def test_request_line_and_query():
    a = capture(query="x=1&y=2", path="/webhooks/demo/a")
    b = capture(query="x=1&y=3&z=", path="/webhooks/demo/b")
    assert wheres(diff_captures(a, b)) == [
        ("request.path", "/webhooks/demo/a", "/webhooks/demo/b"),
        ("query.y", "2", "3"),
        ("query.z", ABSENT, ""),
    ]
    b2 = a.with_(request=Request("PUT", a.request.path, a.request.query, a.request.headers, a.request.body))
    assert wheres(diff_captures(a, b2)) == [("request.method", "POST", "PUT")]


def test_headers_added_removed_and_changed():
    a = capture(headers=[("X-One", "1"), ("X-Two", "2"), ("Date", "Mon")])
    b = capture(headers=[("X-Two", "two"), ("X-Three", "3"), ("Date", "Tue")])
    assert wheres(diff_captures(a, b)) == [
        ("headers.x-one", "1", ABSENT),
        ("headers.x-two", "2", "two"),
        ("headers.x-three", ABSENT, "3"),
        (VOLATILE, {"Date": "Mon"}, {"Date": "Tue"}),
    ]
    assert ("headers.date", "Mon", "Tue") in wheres(diff_captures(a, b, all_headers=True))


@pytest.mark.parametrize(
    "name",
    [
        "Date",
        "X-GitHub-Delivery",
        "Stripe-Signature",
        "X-Slack-Request-Timestamp",
        "webhook-id",
        "svix-id",
        "X-Shopify-Triggered-At",
        # where it was sent: a replay in process has no Host, a tunnel's adds X-Forwarded-*
        "Host",
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "X-Real-IP",
    ],
)
def test_volatile_headers(name):
    assert volatile_header(name)


@pytest.mark.parametrize("name", ["Content-Type", "X-GitHub-Event", "User-Agent", "X-Shopify-Topic", "X-GitHub-Hook-ID", "Content-Length"])
def test_not_volatile_headers(name):
    assert not volatile_header(name)


def test_json_bodies_by_path():
    a = capture(json.dumps({"commits": [{"message": "a"}, {"message": "b"}, {"message": "c"}], "n": 1, "flag": True}).encode())
    b = capture(json.dumps({"flag": 1, "n": 1.0, "commits": [{"message": "a"}, {"message": "b"}, {"message": "C"}, {}]}).encode())
    assert wheres(diff_captures(a, b)) == [
        ("$.commits[2].message", "c", "C"),
        ("$.commits[3]", ABSENT, {}),
        ("$.flag", True, 1),  # JSON's true is not 1; 1 and 1.0 are the same number
    ]


def test_odd_keys_are_quoted_in_paths():
    a = capture(b'{"a b": 1, "\xc3\xa9": 2}')
    b = capture(b'{"a b": 2, "\xc3\xa9": 3}')
    assert [w for w, *_ in wheres(diff_captures(a, b))] == ['$["a b"]', '$["é"]']


def test_form_bodies_by_field_and_their_json_payload_by_path():
    form = "application/x-www-form-urlencoded"
    a = capture(b"action=open&user=ann&payload=%7B%22n%22%3A1%7D", ctype=form)
    b = capture(b"action=close&team=x&payload=%7B%22n%22%3A2%7D", ctype=form)
    assert wheres(diff_captures(a, b)) == [
        ("form.action", "open", "close"),
        ("form.user", "ann", ABSENT),
        ("form.payload.n", 1, 2),
        ("form.team", ABSENT, "x"),
    ]


def test_other_bodies_get_a_byte_summary():
    a = capture(b"\x00\x01binary-one", ctype="application/octet-stream")
    b = capture(b"\x00\x01binary-two!", ctype="application/octet-stream")
    [(where, sa, sb)] = wheres(diff_captures(a, b))
    assert where == "body"
    assert sa["size"] == 12 and sb["size"] == 13
    assert sa["first_difference_at"] == sb["first_difference_at"] == 9
    assert sa["sha256"] != sb["sha256"]


def test_signature_and_answer():
    a = capture(response=Response.json(200, {"status": "accepted", "id": 1}))
    b = capture(
        id=2,
        response=Response.json(401, {"error": "signature invalid", "id": 2}),
    ).with_(signature=SignatureResult("invalid", scheme="github"))
    assert wheres(diff_captures(a, b)) == [
        ("signature.status", "unsigned", "invalid"),
        ("signature.scheme", None, "github"),
        ("response.status", 200, 401),
        # The inspector's own answers carry their capture's id; that is not a difference.
        ("response.body.status", "accepted", ABSENT),
        ("response.body.error", ABSENT, "signature invalid"),
    ]


def test_a_huge_difference_is_cut_with_a_count():
    a = list(range(1000))
    b = [x + 1 for x in a]
    diffs = compare_values(a, b, "$", limit=10)
    assert len(diffs) == 11
    assert diffs[-1].where == "$ (more)" and diffs[-1].a == "990 more differences not shown"


def test_shown_values():
    assert shown(ABSENT) == "(absent)"
    assert shown("x") == '"x"'
    assert shown({"a": [1, None]}) == '{"a": [1, null]}'
    assert shown("x" * 500, width=10).endswith("…")


async def test_a_replay_differs_from_its_original_only_where_it_was_edited(tmp_path):
    """A replay through the real pipeline keeps the body and flow path; an edited body shows
    up by path, and the flows' paths part at the branch."""
    config = load_config(ROOT / "answers.example.json", env={})
    store = Store(tmp_path / "s.sqlite3")
    pipeline = Pipeline(config, store, engine=Engine(FlowSet.load(ROOT / "flows")))
    from inspector.samples import build

    request, _ = build("github.push", config, signed_url_base=pipeline.base_url, mark=False)
    original = await pipeline.handle(request, wait=True)
    same = await pipeline.handle(request, wait=True)
    edited = Request(request.method, request.path, request.query, request.headers.with_set("X-GitHub-Event", "ping"), request.body)
    other = await pipeline.handle(edited, wait=True)
    await pipeline.drain(5)
    a, b, c = (store.get(x.id) for x in (original, same, other))
    store.close()
    assert diff_captures(a, b) == []
    got = {d.where: (d.a, d.b) for d in diff_captures(a, c)}
    assert got["headers.x-github-event"] == ("push", "ping")
    assert got["flows.github.path"] == (["check_event", "handle_push", "ok"], ["check_event", "handle_ping", "ok"])
    # They part at the branch: same node, another way out.
    apart = got["flows.github.steps[0]"]
    assert (apart[0]["node"], apart[0]["next"]) == ("check_event", "handle_push")
    assert (apart[1]["node"], apart[1]["next"]) == ("check_event", "handle_ping")


def test_two_captures_that_differ_only_in_id_are_equal():
    assert diff_captures(capture(), capture(id=9)) == []
