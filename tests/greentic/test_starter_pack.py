"""`init --greentic`'s starter pack loads without a problem and runs as written (issue #20
item 4): an order.created webhook goes through state, the branch and flow.call to a mocked
component; anything else takes the other arm."""

from __future__ import annotations

import json

import pytest

from inspector.flow import FlowSet
from inspector.greentic import glue
from inspector.model import Headers, Request
from inspector.starter.greentic import starter_pack, write_greentic_starter


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    glue._STATES.clear()


def post(fs, body: dict):
    request = Request(
        "POST", "/v1/events/ingress/webhook/demo", "", Headers([("Content-Type", "application/json")]), json.dumps(body).encode()
    )
    return glue.run_for_request(fs, request)


def test_the_starter_pack_loads_cleanly_and_runs_both_arms(tmp_path):
    written = write_greentic_starter(tmp_path)
    assert sorted(str(p.relative_to(tmp_path)) for p in written) == sorted(f"pack/{name}" for name in starter_pack())
    fs = FlowSet.load("pack")
    assert fs.problems == []
    assert [f.id for f in fs.greentic_flows] == ["default", "notify"]
    [run] = post(fs, {"type": "order.created", "data": {"id": "ord_1", "total": "12.50"}})
    assert run.status == "ok"
    assert [(s.flow, s.node, s.status) for s in run.steps] == [
        ("default", "in", "ok"),
        ("default", "previous", "ok"),
        ("default", "remember", "ok"),
        ("default", "notify", "ok"),
        ("notify", "post", "mocked"),
        ("notify", "done", "ok"),
        ("default", "answer", "ok"),
    ]
    assert run.steps[4].input["input"]["text"] == "New order ord_1 (12.50)"
    assert run.steps[4].output["echoed"] == "New order ord_1 (12.50)"
    assert run.response == {"status": 200, "body": {"notified": True, "order": "ord_1", "previous_order": None}}
    [other] = post(fs, {"type": "order.paid", "data": {"id": "ord_2"}})
    assert other.path == ("in", "previous", "remember", "ignored")
    assert other.steps[1].output == {"key": "last-order", "value": "ord_1", "found": True}


def test_init_never_overwrites_the_pack(tmp_path):
    write_greentic_starter(tmp_path)
    (tmp_path / "pack" / "mocks.yaml").write_text("# mine\n")
    with pytest.raises(FileExistsError, match="mocks.yaml"):
        write_greentic_starter(tmp_path)
    assert (tmp_path / "pack" / "mocks.yaml").read_text() == "# mine\n"


def test_the_greentic_sample_reaches_the_starter_pack_on_the_ingress_route(tmp_path):
    from inspector.config import Config
    from inspector.samples import SAMPLES, build

    write_greentic_starter(tmp_path)
    fs = FlowSet.load("pack")
    request, _entry = build("greentic.order.created", Config(), tenant="acme", signed_url_base="http://127.0.0.1:8080")
    assert request.path == "/v1/events/ingress/webhook/acme"
    assert "greentic.order.created" not in SAMPLES  # every entry there runs against the documented flows
    [run] = glue.run_for_request(fs, request)
    assert run.status == "ok" and run.path == ("in", "previous", "remember", "notify", "answer")
