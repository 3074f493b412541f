"""Every shipped flow, exercised by a built-in sample through the real server."""

from __future__ import annotations

import json

import aiohttp
import pytest

from inspector.config import load_config
from inspector.flow import Engine, FlowSet
from inspector.pipeline import Pipeline
from inspector.receiver import Receiver
from inspector.samples import SAMPLES, build
from inspector.store import Store
from tests.conftest import ROOT, run_cli

EXPECTED = {
    "github.push": ("github", ["check_event", "handle_push", "ok"], 200, "Received 3 commits"),
    "github.pull_request": ("github", ["check_event", "handle_pr", "ok"], 200, "PR #42 opened: Fix the login redirect"),
    "github.ping": ("github", ["check_event", "handle_ping", "ok"], 200, "GitHub says: Keep it logically awesome."),
    "stripe.payment_intent.succeeded": (
        "stripe",
        ["handle_stripe", "payment_success", "ack"],
        200,
        "payment pi_3QExample0001 succeeded: 2000 usd",
    ),
    "stripe.payment_intent.payment_failed": (
        "stripe",
        ["handle_stripe", "payment_failed", "ack"],
        200,
        "payment pi_3QExample0001 failed: Your card has insufficient funds.",
    ),
    "shopify.orders.create": (
        "shopify",
        ["check_topic", "new_order", "ack"],
        200,
        "order #1001 from jon@example.com: 2 item(s), 59.00 USD",
    ),
    "generic.order.created": ("handle_webhook", ["process", "respond"], 200, None),
    "generic.report.generate": ("ack_then_process", ["acknowledge", "process_async"], 202, None),
}


def test_every_sample_is_covered():
    assert set(EXPECTED) == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_sample_through_the_server(tmp_path, name):
    config = load_config(ROOT / "answers.example.json", env={})
    store = Store(tmp_path / "s.sqlite3")
    pipeline = Pipeline(config, store, engine=Engine(FlowSet.load(ROOT / "flows")))
    receiver = Receiver(pipeline, "127.0.0.1", 0)
    await receiver.start()
    try:
        request, entry = build(name, config, signed_url_base=pipeline.base_url)
        async with aiohttp.ClientSession() as session:
            async with session.post(receiver.url + request.target, data=request.body, headers=list(request.headers)) as resp:
                status = resp.status
                cid = int(resp.headers["X-Inspector-Capture"])
        await pipeline.drain(5)
    finally:
        await receiver.stop()
    flow, path, want_status, output = EXPECTED[name]
    capture = store.get(cid)
    assert status == want_status
    assert capture.origin == "sample"
    assert capture.signature.status == ("valid" if entry else "unsigned")
    run = next(r for r in [r.to_json() for r in capture.runs] if r["flow"] == flow)
    assert run["status"] == "ok" and run["path"] == path
    if output is not None:
        assert run["steps"][1]["output"] == output
    if name == "generic.report.generate":
        child = capture.runs[-1].to_json()
        assert child["flow"] == "process_webhook_data" and child["parent_id"] == run["id"]
        assert child["steps"][0]["output"] == "processed 2 items"


def test_run_cli_json(tmp_path):
    body = json.dumps({"type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1", "amount": 5, "currency": "eur"}}})
    r = run_cli(
        "--answers",
        str(ROOT / "answers.example.json"),
        "--flows",
        str(ROOT / "flows"),
        "run",
        "--event-type",
        "stripe",
        "--body",
        body,
        "--no-verify",
        "--json",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["event"] == {"tenant": "demo", "event_type": "stripe", "method": "POST"}
    assert data["response"]["status"] == 200 and data["response"]["body"] == {"received": True}
    assert data["runs"][0]["path"] == ["handle_stripe", "payment_success", "ack"]
    assert data["signature"]["status"] == "unsigned"
    # without --no-verify the stripe entry applies and the body is unsigned: 401, runs skipped
    r = run_cli(
        "--answers",
        str(ROOT / "answers.example.json"),
        "--flows",
        str(ROOT / "flows"),
        "run",
        "--event-type",
        "stripe",
        "--body",
        body,
        "--json",
        cwd=tmp_path,
    )
    data = json.loads(r.stdout)
    assert r.returncode == 1 and data["response"]["status"] == 401 and data["runs"][0]["status"] == "skipped"


def test_run_cli_async_children_follow_their_parent(tmp_path):
    r = run_cli(
        "--flows", str(ROOT / "flows"), "run", "--event-type", "report.generate", "--body", '{"items": [1]}', "--json", cwd=tmp_path
    )
    data = json.loads(r.stdout)
    assert [run["flow"] for run in data["runs"]] == ["ack_then_process", "process_webhook_data"]
    assert [run["status"] for run in data["runs"]] == ["ok", "ok"]
    assert data["runs"][1]["steps"][0]["output"] == "processed 1 items"
    assert data["response"]["status"] == 202


def test_check_reports_broken_flows_with_positions(tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "ok.ygtc").write_text((ROOT / "flows" / "on_webhook.ygtc").read_text())
    (flows / "broken.ygtc").write_text(
        "name: broken\nnodes:\n  - id: a\n    type: scrip\n  - id: b\n    type: script\n    config:\n      script: 'let x = ;'\n"
    )
    r = run_cli("--flows", str(flows), "check", cwd=tmp_path)
    assert r.returncode == 1
    out = r.stdout.decode()
    assert "flows/broken.ygtc:4:11: unknown node type 'scrip'" in out
    assert "flows/broken.ygtc:8:" in out  # the script error, in the same pass
    assert "handle_webhook ← event order.created: http://127.0.0.1:8080/events/webhook/demo/order.created" in out


def test_send_needs_a_running_server_and_knows_its_samples(tmp_path):
    r = run_cli("send", cwd=tmp_path)
    assert r.returncode == 0 and b"github.push" in r.stdout
    assert b"greentic.order.created" in r.stdout  # the sample init --greentic's next step names
    r = run_cli("send", "nope", cwd=tmp_path)
    assert r.returncode == 2 and b"unknown sample" in r.stderr and b"greentic.order.created" in r.stderr
    r = run_cli("--port", "1", "send", "github.push", cwd=tmp_path)
    assert r.returncode == 2 and b"nothing listens" in r.stderr
