"""A webhook to Greentic's ingress route through the real server (issue #20 item 2): it is
answered as Greentic answers (200, application/json, `accepted`) before the flows run, the
runs land in the capture's trace node by node, and a failed signature under `enforce` is our
401 with no run."""

from __future__ import annotations

import json

import aiohttp
import pytest

from inspector.config import Config, load_config
from inspector.flow import Engine, FlowSet
from inspector.greentic import glue
from inspector.pipeline import Pipeline
from inspector.receiver import Receiver
from inspector.store import Store
from tests.conftest import write_answers
from tests.greentic.shop_pack import write_pack
from tests.greentic.test_flowset import REAL


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    glue._STATES.clear()


async def post(fs: FlowSet, tmp_path, path: str, body: dict, config: Config | None = None, headers: dict | None = None):
    store = Store(tmp_path / "s.sqlite3")
    pipeline = Pipeline(config or Config(), store, engine=Engine(fs))
    receiver = Receiver(pipeline, "127.0.0.1", 0)
    await receiver.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(receiver.url + path, json=body, headers=headers or {}) as resp:
                answer = (resp.status, resp.headers["Content-Type"], await resp.read())
                cid = int(resp.headers["X-Inspector-Capture"])
        await pipeline.drain(10)
    finally:
        await receiver.stop()
    return answer, store.get(cid)


async def test_a_pack_webhook_is_accepted_and_its_flows_traced(tmp_path):
    fs = FlowSet.load(write_pack(tmp_path / "shop"))
    answer, capture = await post(fs, tmp_path, "/v1/events/ingress/webhook/acme/default/orders", {"order": {"id": "o-7"}, "kind": "refund"})
    assert answer == (200, "application/json", b"accepted")
    assert capture.tenant == "acme"
    [run] = capture.runs
    assert (run.flow, run.status) == ("default", "ok")
    assert run.path == ("in", "count", "remember", "classify", "refund", "notify", "answer")
    refund = run.steps[4]
    assert (refund.operation, refund.status, refund.mocked["component"]) == ("component.exec", "mocked", "refunds")
    assert refund.input == {"component": "repo://acme/refunds", "input": {"order": "o-7"}}
    assert refund.output == {"ok": True, "refund_id": "r-1"}
    assert run.response == {"status": 200, "body": {"sent": True, "order": "o-7"}}
    stored = capture.runs[0].to_json()
    assert stored["steps"][0]["operation"] == "emit.log" and stored["steps"][0]["mocked"] is None


async def test_a_folder_flow_is_reached_by_its_handler_segment(tmp_path):
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "orders.ygtc").write_text(REAL)
    (tmp_path / "flows" / "refunds.ygtc").write_text(REAL.replace("id: orders", "id: refunds"))
    fs = FlowSet.load("flows")
    answer, capture = await post(fs, tmp_path, "/v1/events/ingress/webhook/acme/team-a/refunds", {"x": 1})
    assert answer[0] == 200
    [run] = capture.runs
    assert run.flow == "refunds" and run.path == ("in", "answer")
    assert run.steps[0].output == {"message": "hello acme"}


async def test_the_documented_route_does_not_run_greentic_flows(tmp_path):
    fs = FlowSet.load(write_pack(tmp_path / "shop"))
    answer, capture = await post(fs, tmp_path, "/events/webhook/acme/order.created", {"x": 1})
    assert answer[0] == 200 and json.loads(answer[2])["warning"].startswith("no flow is triggered")
    assert capture.runs == ()


async def test_a_failed_signature_under_enforce_is_a_401_and_nothing_runs(tmp_path):
    fs = FlowSet.load(write_pack(tmp_path / "shop"))
    path = write_answers(
        tmp_path, {"enforce": True, "signatures": {"orders": {"header": "X-Signature", "algorithm": "sha256", "secret": "s3cret"}}}
    )
    config = load_config(path, env={})
    answer, capture = await post(
        fs, tmp_path, "/v1/events/ingress/webhook/acme/default/orders", {"x": 1}, config, {"X-Signature": "sha256=00"}
    )
    assert answer[0] == 401, answer
    assert capture.runs == ()


async def test_the_answered_capture_shows_the_chosen_flows_running_until_their_runs_are_recorded(tmp_path):
    fs = FlowSet.load(write_pack(tmp_path / "shop"))
    store = Store(tmp_path / "s.sqlite3")
    pipeline = Pipeline(Config(), store, engine=Engine(fs))
    answered, updated = [], []
    pipeline.listeners.append(answered.append)
    pipeline.update_listeners.append(updated.append)
    receiver = Receiver(pipeline, "127.0.0.1", 0)
    await receiver.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(receiver.url + "/v1/events/ingress/webhook/acme", json={"order": {"id": "o-1"}}) as resp:
                assert resp.status == 200
        await pipeline.drain(10)
    finally:
        await receiver.stop()
    [first] = answered
    assert [(r.flow, r.status, r.file) for r in first.runs] == [("default", "running", "shop/flows/on_webhook.ygtc")]
    [last] = updated
    assert [(r.flow, r.status) for r in last.runs] == [("default", "ok")]
    assert [(r.flow, r.status) for r in store.get(first.id).runs] == [("default", "ok")]
