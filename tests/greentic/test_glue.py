"""A v1 ingress request runs the Greentic-shaped flows the runtime would choose, and each run
is a typed FlowRun with every Greentic field present (issue #20 item 2)."""

from __future__ import annotations

import json

import pytest

from inspector.flow import FlowSet
from inspector.flow.runs import FlowRun, runs_from_json, runs_to_json
from inspector.greentic import glue
from inspector.model import Headers, Request
from tests.greentic.shop_pack import write_pack


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    glue._STATES.clear()


def request(path: str, body: dict) -> Request:
    return Request("POST", path, "", Headers([("Content-Type", "application/json")]), json.dumps(body).encode(), "test", 1_700_000_000.0)


def order(kind: str = "new", order_id: str = "o-1") -> dict:
    return {"order": {"id": order_id}, "kind": kind}


def test_a_pack_webhook_runs_the_default_flow_node_by_node(tmp_path):
    fs = FlowSet.load(write_pack(tmp_path / "shop"))
    runs = glue.run_for_request(fs, request("/v1/events/ingress/webhook/acme/default/orders", order()))
    assert len(runs) == 1
    run = runs[0]
    assert (run.flow, run.status, run.file) == ("default", "ok", "shop/flows/on_webhook.ygtc")
    assert run.path == ("in", "count", "remember", "classify", "notify", "answer")
    got = [(s.flow, s.node, s.operation, s.status, s.depth) for s in run.steps]
    assert got == [
        ("default", "in", "emit.log", "ok", 0),
        ("default", "count", "state.get", "ok", 0),
        ("default", "remember", "state.set", "ok", 0),
        ("default", "classify", "templating.handlebars", "mocked", 0),
        ("default", "notify", "flow.call", "ok", 0),
        ("notify", "send", "chat.post", "mocked", 1),
        ("notify", "done", "emit.log", "ok", 1),
        ("default", "answer", "emit.response", "ok", 0),
    ]
    classify = run.steps[3]
    assert classify.input == {"text": "Order o-1: new"}
    assert classify.output == {"text": "Order o-1: new!"}
    assert classify.mocked == {"component": "templating.handlebars", "source": "shop/mocks.yaml:3:13"}
    assert [(d.expression, d.value, d.next) for d in classify.decision] == [
        ('in.event.payload.kind == "refund"', False, "refund"),
        ('in.event.payload.kind == "hold"', False, "hold"),
        (None, True, "notify"),
    ]
    assert run.steps[0].mocked is None and run.steps[0].decision is None and run.steps[0].next == "count"
    assert run.response == {"status": 200, "body": {"sent": True, "order": "o-1"}}


def test_every_greentic_field_is_present_and_the_json_round_trips(tmp_path):
    fs = FlowSet.load(write_pack(tmp_path / "shop"))
    run = glue.run_for_request(fs, request("/v1/events/ingress/webhook/acme", order()))[0]
    stored = json.loads(json.dumps(runs_to_json([run])))
    for step in stored[0]["steps"]:
        assert list(step) == [
            "node",
            "type",
            "status",
            "started_at",
            "duration_us",
            "output",
            "next",
            "decision",
            "error",
            "logs",
            "operation",
            "input",
            "mocked",
            "flow",
            "depth",
            "at",
        ]
    assert list(stored[0])[-5:] == ["state", "reason", "output", "response", "resume_at"]
    back = runs_from_json(stored)[0]
    assert back.to_json() == stored[0]
    assert back.is_greentic and back.steps[3].mocked["component"] == "templating.handlebars"
    assert [s.operation for s in back.steps] == [s.operation for s in run.steps]


def test_state_is_kept_between_webhooks_per_tenant(tmp_path):
    fs = FlowSet.load(write_pack(tmp_path / "shop"))
    first = glue.run_for_request(fs, request("/v1/events/ingress/webhook/acme", order()))[0]
    second = glue.run_for_request(fs, request("/v1/events/ingress/webhook/acme", order()))[0]
    other = glue.run_for_request(fs, request("/v1/events/ingress/webhook/globex", order()))[0]
    assert first.steps[1].output["found"] is False
    assert second.steps[1].output == {"key": "orders-seen", "value": "x", "found": True}
    assert other.steps[1].output["found"] is False


def test_a_wait_ends_the_run_waiting_with_where_it_resumes(tmp_path):
    fs = FlowSet.load(write_pack(tmp_path / "shop"))
    run = glue.run_for_request(fs, request("/v1/events/ingress/webhook/acme", order("hold")))[0]
    assert run.status == "waiting" and not run.failed
    assert run.steps[-1].node == "hold" and run.steps[-1].status == "waiting"
    assert run.resume_at == "notify"
    assert "session.wait at node 'hold'" in run.reason


def test_a_failing_mock_is_an_error_at_the_node(tmp_path):
    root = write_pack(tmp_path / "shop")
    fs = FlowSet.load(root)
    (root / "mocks.yaml").write_text("notify:\n  send:\n    output: {ok: false, error: {code: denied, message: no channel}}\n")
    fs.refresh()
    run = glue.run_for_request(fs, request("/v1/events/ingress/webhook/acme", order()))[0]
    assert run.status == "error" and run.failed
    assert run.error.node == "notify"
    assert "component io.acme.chat failed: denied: no channel" in run.error.message
    failed = [s for s in run.steps if s.status == "error"]
    assert [s.node for s in failed] == ["notify", "send"]
    assert failed[1].error.message.startswith("shop/flows/notify.ygtc:")  # the callee's file


def test_no_mock_gives_an_empty_output_and_a_warning(tmp_path):
    root = write_pack(tmp_path / "shop", mocks="{}\n")
    fs = FlowSet.load(root)
    run = glue.run_for_request(fs, request("/v1/events/ingress/webhook/acme", order()))[0]
    send = next(s for s in run.steps if s.node == "send")
    assert send.output == {} and send.mocked == {"component": "io.acme.chat", "source": None}
    assert any("mocks.yaml has no entry notify/send" in w for w in run.warnings)


def test_other_paths_and_sets_without_real_flows_run_nothing(tmp_path):
    fs = FlowSet.load(write_pack(tmp_path / "shop"))
    assert glue.run_for_request(fs, request("/events/webhook/acme/order.created", order())) == []
    assert glue.run_for_request(FlowSet.load(tmp_path / "nothing"), request("/v1/events/ingress/webhook/acme", order())) == []


def test_a_folder_flow_is_chosen_by_the_handler_segment(tmp_path):
    from tests.greentic.test_flowset import REAL

    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "a.ygtc").write_text(REAL)
    (tmp_path / "flows" / "b.ygtc").write_text(REAL.replace("id: orders", "id: refunds"))
    fs = FlowSet.load("flows")
    assert [r.flow for r in glue.run_for_request(fs, request("/v1/events/ingress/webhook/acme/default/refunds", {}))] == ["refunds"]
    [unresolved] = glue.run_for_request(fs, request("/v1/events/ingress/webhook/acme", {}))
    assert unresolved.status == "error" and "APP_FLOW_NOT_RESOLVED" in unresolved.error.message
    assert glue.webhook_urls("http://h:1", "acme", fs) == {
        "orders": "http://h:1/v1/events/ingress/webhook/acme/default/orders",
        "refunds": "http://h:1/v1/events/ingress/webhook/acme/default/refunds",
    }


def test_in_a_pack_only_the_default_flow_has_a_webhook_url(tmp_path):
    fs = FlowSet.load(write_pack(tmp_path / "shop"))
    assert glue.webhook_urls("http://h:1/", "acme", fs) == {
        "default": "http://h:1/v1/events/ingress/webhook/acme/default/default",
        "notify": None,
    }


def test_documented_steps_keep_their_json_shape():
    from inspector.flow.runs import Step

    step = Step("a", "script", "ok", "t", 1, {"x": 1})
    assert list(step.to_json()) == ["node", "type", "status", "started_at", "duration_us", "output", "next", "decision", "error", "logs"]
    assert not step.is_greentic and not FlowRun(1, "f").is_greentic


def test_a_step_names_its_node_s_position_and_its_yaml_lines_can_be_read(tmp_path):
    fs = FlowSet.load(write_pack(tmp_path / "shop"))
    run = glue.run_for_request(fs, request("/v1/events/ingress/webhook/acme", order()))[0]
    send = next(s for s in run.steps if s.node == "send")
    assert send.at == "shop/flows/notify.ygtc:4:3"
    assert glue.node_lines(send.at) == [
        (4, "  send:"),
        (5, "    chat.post:"),
        (6, "      channel: orders"),
        (7, '      text: "{{in.summary}}"'),
        (8, "    routing:"),
        (9, "      - to: done"),
    ]
    assert glue.node_lines("nowhere.ygtc:1:1") == [] and glue.node_lines(None) == [] and glue.node_lines("x") == []


def test_a_webhook_meant_for_a_flow_that_failed_to_load_says_which_file_and_why(tmp_path):
    from tests.greentic.test_flowset import REAL

    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "orders.ygtc").write_text(REAL.replace("- to: answer", "- to: answr"))
    fs = FlowSet.load("flows")
    assert fs.greentic_flows == [] and glue.serves(fs, "/v1/events/ingress/webhook/acme")
    [run] = glue.run_for_request(fs, request("/v1/events/ingress/webhook/acme/default/orders", {}))
    assert run.status == "error"
    assert "flow file failed to load: flows/orders.ygtc:" in run.error.message and "answr" in run.error.message
    assert glue.running_runs(fs, request("/v1/events/ingress/webhook/acme", {})) == []


def test_a_loop_carrying_a_large_value_stops_at_the_trace_budget_instead_of_filling_memory(tmp_path):
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "loop.ygtc").write_text(
        'id: loop\ntype: events\nnodes:\n  in:\n    emit.log:\n      message: "{{in.event.payload.text}}"\n    routing:\n      - to: in\n'
    )
    fs = FlowSet.load("flows")
    [run] = glue.run_for_request(fs, request("/v1/events/ingress/webhook/acme", {"text": "x" * 10_000}))
    assert run.status == "error" and "MAX_TRACE_CHARS" in run.error.message and (run.error.line, run.error.column) == (4, 3)
    assert len(run.steps) < 1_000  # not the 10,000 steps the step budget allows
    assert len(json.dumps(run.to_json())) < 32 * 1024 * 1024  # it held 289 MiB before
