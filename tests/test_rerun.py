"""`rerun` core: real captures (the bundled samples sent through a real server on port 0 into a
real store) go through edited copies of the flows and answers.json."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path

import aiohttp
import pytest

from inspector.config import load_config
from inspector.flow import Engine, FlowSet
from inspector.pipeline import Pipeline
from inspector.receiver import Receiver
from inspector.rerun import IgnoreError, Rerunner, parse_ignore, summarize
from inspector.samples import SAMPLES, build
from inspector.store import Store
from tests.conftest import ROOT


async def record_samples(store_path: Path, answers: Path, flows: Path) -> None:
    """Every bundled sample, sent over HTTP to a real server that stores it."""
    config = load_config(answers, env={})
    store = Store(store_path)
    pipeline = Pipeline(config, store, engine=Engine(FlowSet.load(flows)))
    receiver = Receiver(pipeline, "127.0.0.1", 0)
    await receiver.start()
    try:
        async with aiohttp.ClientSession() as session:
            for name in sorted(SAMPLES):
                request, _entry = build(name, config, signed_url_base=pipeline.base_url)
                async with session.post(receiver.url + request.target, data=request.body, headers=list(request.headers)) as resp:
                    await resp.read()
        await pipeline.drain(5)
    finally:
        await receiver.stop()
        store.close()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """A store holding one capture of every sample, as the shipped flows answered them."""
    folder = tmp_path_factory.mktemp("recorded")
    path = folder / "captures.sqlite3"
    asyncio.run(record_samples(path, ROOT / "answers.example.json", ROOT / "flows"))
    return path


@pytest.fixture
def flows(tmp_path) -> Path:
    """A copy of the shipped flows to edit."""
    folder = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def rerun(store_path: Path, flows: Path, answers: Path = ROOT / "answers.example.json", ignore=(), where=None):
    config = load_config(answers, env={})
    store = Store(store_path, readonly=True)
    try:
        captures = [c for c in store.iter_arrived() if where is None or where(c)]
    finally:
        store.close()
    results = Rerunner(config, FlowSet.load(flows), ignore=[parse_ignore(i) for i in ignore]).rerun(captures)
    return {(r.before.event_type, r.before.request.headers.get("x-github-event")): r for r in results}, results


def by_type(results, event_type, github_event=None):
    return next(r for r in results if r.before.event_type == event_type and r.before.request.headers.get("x-github-event") == github_event)


def test_every_recorded_sample_reruns_as_same_through_the_same_flows(recorded, flows):
    _, results = rerun(recorded, flows)
    assert len(results) == len(SAMPLES)
    assert [(r.id, r.verdict, r.differences) for r in results] == [(r.id, "same", ()) for r in results]
    assert summarize(results).line() == f"{len(SAMPLES)} same, 0 changed, 0 fixed, 0 regressed"
    # Async children ran again too: the report sample's child is in the rerun's runs.
    report = by_type(results, "report.generate")
    assert [r.flow for r in report.after.runs] == ["ack_then_process", "process_webhook_data"]
    assert report.after.runs[1].status == "ok"


def test_a_changed_answer_body_is_changed_and_named_by_path(recorded, flows):
    edit(flows / "github.ygtc", 'format!("Received {} commits", commits.len())', 'format!("Got {} commits", commits.len())')
    _, results = rerun(recorded, flows)
    push = by_type(results, "github", "push")
    assert push.verdict == "changed"
    assert [d.to_json("before", "after") for d in push.differences] == [
        {"where": "response.body.result", "before": "Received 3 commits", "after": "Got 3 commits"}
    ]
    assert summarize(results).counts == {"same": len(SAMPLES) - 1, "changed": 1, "fixed": 0, "regressed": 0}


def test_a_changed_path_is_changed(recorded, flows):
    edit(flows / "github.ygtc", "next: handle_push", "next: handle_ping")
    _, results = rerun(recorded, flows)
    push = by_type(results, "github", "push")
    assert push.verdict == "changed"
    wheres = {d.where: (d.a, d.b) for d in push.differences}
    assert wheres["flows.github.path"] == (["check_event", "handle_push", "ok"], ["check_event", "handle_ping", "ok"])
    assert "response.body.result" in wheres


def test_a_failing_node_is_a_regression_and_fixing_it_again_is_fixed(recorded, flows, tmp_path):
    edit(flows / "github.ygtc", 'format!("Received {} commits", commits.len())', "no_such_function(commits)")
    _, results = rerun(recorded, flows)
    push = by_type(results, "github", "push")
    assert push.verdict == "regressed"
    wheres = {d.where: (d.a, d.b) for d in push.differences}
    assert wheres["response.status"] == (200, 500)
    assert wheres["flows.github.status"] == ("ok", "error")
    assert summarize(results).regressed

    # Record through the broken flows, rerun through the shipped ones: fixed.
    broken_store = tmp_path / "broken.sqlite3"
    asyncio.run(record_samples(broken_store, ROOT / "answers.example.json", flows))
    _, results = rerun(broken_store, ROOT / "flows")
    push = by_type(results, "github", "push")
    assert push.verdict == "fixed"
    assert not summarize(results).regressed
    assert summarize(results).counts["fixed"] == 1


def test_a_2xx_that_becomes_a_4xx_is_a_regression(recorded, flows):
    edit(flows / "github.ygtc", "status: 200", "status: 422")
    _, results = rerun(recorded, flows)
    push = by_type(results, "github", "push")
    assert push.verdict == "regressed"
    assert [(d.where, d.a, d.b) for d in push.differences] == [("response.status", 200, 422)]


def test_an_async_child_that_now_fails_is_a_regression(recorded, flows):
    edit(flows / "process_webhook_data.ygtc", "state.processed = items.len();", "state.processed = nope();")
    _, results = rerun(recorded, flows)
    report = by_type(results, "report.generate")
    assert report.verdict == "regressed"
    assert ("flows.process_webhook_data.status", "ok", "error") in [(d.where, d.a, d.b) for d in report.differences]
    # The answer (202 from the parent) did not change.
    assert report.after.response.status == 202


def test_a_changed_secret_regresses_the_signature(recorded, flows, tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text((ROOT / "answers.example.json").read_text().replace("example-github-secret-change-me", "another-secret"))
    _, results = rerun(recorded, flows, answers=answers)
    push = by_type(results, "github", "push")
    assert push.verdict == "regressed"
    wheres = {d.where: (d.a, d.b) for d in push.differences}
    assert wheres["signature.status"] == ("valid", "invalid")
    assert wheres["response.status"] == (200, 401)  # enforce: true


def test_ignore_drops_the_differences_at_and_under_its_path(recorded, flows):
    edit(flows / "github.ygtc", 'result: "{{prev}}"', 'result: "{{prev}}"\n        at: "a generated id"')
    _, results = rerun(recorded, flows)
    push = by_type(results, "github", "push")
    assert push.verdict == "changed"
    _, results = rerun(recorded, flows, ignore=["response.body.at"])
    push = by_type(results, "github", "push")
    assert push.verdict == "same" and push.differences == ()
    assert [d.where for d in push.ignored] == ["response.body.at"]
    _, results = rerun(recorded, flows, ignore=["response.body"])
    assert by_type(results, "github", "push").verdict == "same"
    # A wildcard and a flow path.
    edit(flows / "github.ygtc", "next: handle_push", "next: handle_ping")
    _, results = rerun(recorded, flows, ignore=["response.body", "flows.*.path"])
    assert by_type(results, "github", "push").verdict == "same"
    _, results = rerun(recorded, flows, ignore=["response.body", "flows.stripe.path"])
    assert by_type(results, "github", "push").verdict == "changed"


@pytest.mark.parametrize(
    "path, says",
    [
        ("", "needs a path"),
        ("body.result", "starts with response, signature or flows"),
        ("response.headers", "response.status and response.body"),
        ("flows.github.steps", "each flow's status and path"),
        ("signature.scheme", "signature.status"),
        ("response..body", "not a path"),
        ("response.body[x]", "not a path"),
    ],
)
def test_a_bad_ignore_path_says_what_would_do(path, says):
    with pytest.raises(IgnoreError) as caught:
        parse_ignore(path)
    assert says in str(caught.value)
    assert "e.g. response.body.result" in str(caught.value)


def test_good_ignore_paths_match_what_they_name():
    assert parse_ignore("response.body.result").matches("response.body.result")
    assert parse_ignore("response.body.result").matches("response.body.result.deep[2]")
    assert not parse_ignore("response.body.result").matches("response.body.results")
    assert parse_ignore("flows.github.path").matches("flows.github#2.path")
    assert parse_ignore('response.body["a b"]').matches('response.body["a b"]')
    assert parse_ignore("response.body.items[0]").matches("response.body.items[0].id")
    assert not parse_ignore("response.body.items[0]").matches("response.body.items[1]")


def test_the_json_shape(recorded, flows):
    edit(flows / "github.ygtc", 'format!("Received {} commits", commits.len())', 'format!("Got {} commits", commits.len())')
    _, results = rerun(recorded, flows)
    push = by_type(results, "github", "push").to_json()
    assert set(push) == {"id", "verdict", "before", "after", "differences"}
    assert push["before"] == {
        "status": 200,
        "body": {"ok": True, "result": "Received 3 commits"},
        "signature": "valid",
        "flows": [{"flow": "github", "status": "ok", "path": ["check_event", "handle_push", "ok"]}],
    }
    assert push["after"]["body"] == {"ok": True, "result": "Got 3 commits"}
    assert push["differences"] == [{"where": "response.body.result", "before": "Received 3 commits", "after": "Got 3 commits"}]
    json.dumps(push)


async def test_a_signature_is_checked_at_the_captures_own_time(tmp_path, flows):
    """A Stripe event signed and received a week ago is valid, not expired, in a rerun."""
    config = load_config(ROOT / "answers.example.json", env={})
    week_ago = time.time() - 7 * 86400
    store = Store(tmp_path / "old.sqlite3")
    pipeline = Pipeline(config, store, engine=Engine(FlowSet.load(flows)), clock=lambda: week_ago)
    request, entry = build("stripe.payment_intent.succeeded", config, signed_url_base=pipeline.base_url, now=week_ago)
    captured = await pipeline.handle(request.__class__(**{**request.__dict__, "received_at": week_ago}), now=week_ago, wait=True)
    await pipeline.drain(5)
    assert captured.signature.status == "valid"
    stored = store.get(captured.id)
    store.close()
    [result] = await Rerunner(config, FlowSet.load(flows)).arerun([stored])
    assert result.after.signature.status == "valid", result.after.signature.reason
    assert result.verdict == "same"


def test_a_forwarded_capture_compares_its_flows_and_signature_not_the_targets_answer(recorded, flows):
    """serve --forward-to: the sender got the target's answer, which a rerun does not ask for
    again; its flows still ran and are compared."""
    store = Store(recorded, readonly=True)
    push = next(c for c in store.iter_arrived() if c.request.headers.get("x-github-event") == "push")
    store.close()
    from inspector.model import Response

    forwarded = push.with_(
        response=Response.json(201, {"from": "the app"}), notes=("forwarded to http://127.0.0.1:3000/hook: 201 in 3.1 ms",)
    )
    config = load_config(ROOT / "answers.example.json", env={})
    [result] = Rerunner(config, FlowSet.load(flows)).rerun([forwarded])
    assert result.verdict == "same"
    edit(flows / "github.ygtc", "next: handle_push", "next: handle_ping")
    [result] = Rerunner(config, FlowSet.load(flows)).rerun([forwarded])
    assert result.verdict == "changed"
    assert [d.where for d in result.differences] == ["flows.github.path"]
