"""Running real-shaped flows node by node: branches, state, flow.call, session.wait, mocks,
vars, budgets and failures with positions (issue #20 items 2-3, docs/greentic-shape.md §2.4, §3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inspector.greentic.document import load_text
from inspector.greentic.mocks import load_mocks_text
from inspector.greentic.pack import load_bundle
from inspector.greentic.runner import MemoryState, Runner, finalize_output

from .shop_pack import webhook_entry, write_pack

CLOCK = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)


@pytest.fixture
def shop(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_pack(tmp_path / "pack")
    bundle = load_bundle("pack")
    assert bundle.errors == ()
    return bundle


def runner_for(*texts: str, mocks: str = "", **options) -> Runner:
    flows = {}
    for index, text in enumerate(texts):
        result = load_text(text, f"f{index}.ygtc")
        assert result.flow is not None, [str(p) for p in result.problems]
        flows[result.flow.id] = result.flow
    loaded, problems = load_mocks_text(mocks, "mocks.yaml")
    assert [p for p in problems if p.severity == "error"] == []
    return Runner(flows, mocks=loaded, clock=lambda: CLOCK, **options)


def trace(result) -> list[tuple]:
    return [(s.depth, s.node_id, s.status) for s in result.steps]


def test_a_plain_order_runs_state_a_mocked_component_and_a_flow_call(shop):
    state = MemoryState()
    runner = Runner.from_bundle(shop, state=state, clock=lambda: CLOCK)
    result = runner.run("default", webhook_entry("new"))
    assert result.status == "completed" and result.errors == ()
    assert trace(result) == [
        (0, "in", "ran"),
        (0, "count", "ran"),
        (0, "remember", "ran"),
        (0, "classify", "mocked"),
        (0, "notify", "ran"),
        (1, "send", "mocked"),
        (1, "done", "ran"),
        (0, "answer", "ran"),
    ]
    steps = {(s.flow_id, s.node_id): s for s in result.steps}
    classify = steps[("default", "classify")]
    assert classify.input == {"text": "Order o-1: new"} and classify.output == {"text": "Order o-1: new!"}
    assert classify.component == "templating.handlebars" and classify.mock == "pack/mocks.yaml:3:13"
    assert classify.route is not None and (classify.route.kind, classify.route.target, classify.route.arm) == ("next", "notify", 2)
    assert [c.result for c in classify.route.checks] == [False, False, True]
    send = steps[("notify", "send")]
    assert (send.component, send.input, send.output) == (
        "io.acme.chat",
        {"channel": "orders", "text": "Order o-1: new!"},
        {"ok": True, "ts": "1700000000.1"},
    )
    assert steps[("default", "notify")].output == [{"sent": True, "order": "o-1"}]  # the callee's egress
    assert result.response == {"status": 200, "body": {"sent": True, "order": "o-1"}}
    assert result.output == [{"message": "order o-1 from acme"}, {"status": 200, "body": {"sent": True, "order": "o-1"}}]
    assert str(steps[("default", "in")].position) == "pack/flows/on_webhook.ygtc:5:3"
    assert state.values == {("acme", "orders-seen"): "x"}
    again = runner.run("default", webhook_entry("new"))
    assert [s.output for s in again.steps if s.node_id == "count"] == [{"key": "orders-seen", "value": "x", "found": True}]
    assert state.values == {("acme", "orders-seen"): "xx"}


def test_a_branch_to_a_mocked_component_and_its_error_route(shop, tmp_path):
    result = Runner.from_bundle(shop, clock=lambda: CLOCK).run("default", webhook_entry("refund"))
    refund = next(s for s in result.steps if s.node_id == "refund")
    assert (refund.status, refund.component, refund.event, refund.route.target) == ("mocked", "refunds", "on_success", "notify")
    assert refund.input == {"component": "repo://acme/refunds", "input": {"order": "o-1"}}
    # A mock that fails takes the error route.
    write_pack(tmp_path / "pack", mocks="default:\n  refund:\n    output: {ok: false, error: {code: E1, message: card declined}}\n")
    failing = Runner.from_bundle(load_bundle("pack"), clock=lambda: CLOCK).run("default", webhook_entry("refund"))
    assert failing.status == "completed"
    assert [s.node_id for s in failing.steps][-2:] == ["refund", "failed"]
    assert failing.response == {"status": 502, "reason": "card declined"}
    assert any("mocks.yaml has no entry default/classify" in str(w) for w in failing.warnings)


def test_session_wait_pauses_with_the_resume_node(shop):
    result = Runner.from_bundle(shop).run("default", webhook_entry("hold"))
    assert result.status == "waiting" and result.resume_at == "notify"
    assert result.steps[-1].status == "paused" and result.reason == "session.wait at node 'hold': waiting for a person"


def test_a_conditional_list_that_falls_through_waits_at_the_node():
    runner = runner_for(
        'id: f\ntype: messaging\nnodes:\n  a:\n    emit.log: {}\n    routing:\n      - {condition: entry.go == "yes", to: b}\n  b: {emit.log: {m: b}}\n'
    )
    waiting = runner.run("f", {"go": "no"})
    assert (waiting.status, waiting.resume_at, trace(waiting)) == ("waiting", "a", [(0, "a", "ran")])
    assert runner.run("f", {"go": "YES"}).status == "completed"


def test_vars_init_var_set_and_vars_out():
    flow = """\
id: v
type: job
parameters:
  vars_init:
    region: {default: us-east-1}
    counter: {default: 1}
nodes:
  seed:
    emit.log: {message: "{{vars.region}}"}
    routing: [{to: greet}]
  greet:
    var.set: {name: greeting, value: hi}
    routing: [{to: copy}]
  copy:
    var.set: {name: copy, value: "{{vars.counter}}"}
    routing: [{to: say}]
  say:
    emit.log:
      message: hello
      vars_out: {lastReply: "{{prev.message}}", ptr: /prev/message}
    routing: [{to: show}]
  show:
    emit.log: {message: "{{vars.greeting}}", copy: "{{vars.copy}}", last: "{{vars.lastReply}}", ptr: "{{vars.ptr}}"}
"""
    result = runner_for(flow).run("v", {})
    outputs = {s.node_id: s.output for s in result.steps}
    assert outputs["seed"] == {"message": "us-east-1"}  # case 26
    assert outputs["greet"] == {"ok": True}  # case 27
    assert outputs["say"] == {"message": "hello"}  # case 29: vars_out is not part of the input
    assert outputs["show"] == {"message": "hi", "copy": 1, "last": "hello", "ptr": "hello"}  # cases 27-29
    assert result.vars["copy"] == 1


def test_a_required_var_without_value_fails():
    result = runner_for("id: r\ntype: job\nparameters: {vars_init: {token: {required: true}}}\nnodes: {a: {emit.log: {}}}\n").run("r", {})
    assert result.status == "failed" and "required flow variable not provided: token" in str(result.errors[0])


def test_a_looping_flow_stops_at_the_step_budget_naming_the_node():
    flow = "id: loop\ntype: job\nnodes:\n  a:\n    emit.log: {}\n    routing: [{to: b}]\n  b:\n    state.get: {key: k}\n    routing: [{to: a}]\n"
    result = runner_for(flow, max_steps=50).run("loop", {})
    assert result.status == "failed" and len(result.steps) == 50
    assert (
        str(result.errors[0])
        == "f0.ygtc:4:3: stopped after 50 steps (max_steps) at node 'a': the flow loops; give the loop an exit condition"
    )


def test_recursive_flow_call_stops_at_the_depth_budget():
    flow = "id: self\ntype: job\nnodes:\n  again:\n    flow.call: {flow_id: self, input: {}}\n"
    result = runner_for(flow, max_depth=3).run("self", {})
    assert result.status == "failed"
    assert max(s.depth for s in result.steps) == 3
    assert "flow.call nested deeper than 3 (max_depth)" in str(result.errors[0]) and str(result.errors[0]).startswith("f0.ygtc:5:5: ")


def test_failures_name_their_position():
    flows = [
        "id: a\ntype: job\nnodes:\n  x:\n    flow.call: {flow_id: nowhere}\n",
        "id: b\ntype: job\nnodes:\n  x:\n    state.set: {key: '{{entry.k}}', value: 1}\n",
        "id: c\ntype: job\nnodes:\n  x:\n    session.wait: {reason: r}\n",
        "id: d\ntype: job\nnodes:\n  x:\n    mocked.op: {n: '{{entry.n}}'}\n",
    ]
    runner = runner_for(*flows, mocks="d:\n  x:\n    script: |\n      let a = 1;\n      input.n.nope()\n")
    assert str(runner.run("a", {}).errors[0]).startswith("f0.ygtc:5:5: flow.call: flow 'nowhere' is not in this folder or pack")
    assert str(runner.run("b", {}).errors[0]) == "f1.ygtc:5:5: state.set needs a non-empty string `key` (found '')"
    assert str(runner.run("c", {}).errors[0]).startswith("f2.ygtc:4:3: session.wait node x requires a non-empty route")
    failed = runner.run("d", {"n": 1})
    assert failed.steps[0].status == "failed" and failed.steps[0].input == {"n": 1}
    assert str(failed.errors[0]).startswith("mocks.yaml:5:") and "mock script of d/x failed" in str(failed.errors[0])
    assert runner.run("zzz", {}).errors[0].message == "flow 'zzz' is not loaded (flows: a, b, c, d)"


def test_a_failing_component_without_an_error_route_fails_the_run():
    runner = runner_for(
        "id: f\ntype: job\nnodes:\n  x:\n    http: {url: 'https://x'}\n",
        mocks="f:\n  x:\n    output: {ok: false, error: {code: E503, message: down}}\n",
    )
    result = runner.run("f", {})
    assert result.status == "failed" and str(result.errors[0]) == "f0.ygtc:5:5: component http failed: E503: down"


def test_an_outcome_picks_the_arm_and_a_missing_mock_is_an_empty_object():
    flow = """\
id: f
type: job
nodes:
  ask:
    approval.call: {who: boss}
    routing:
      - {condition: event == "approved", to: yes}
      - {condition: event == "denied", to: no}
  yes: {emit.response: {ok: yes}}
  no: {emit.response: {ok: no}}
  other: {llm.chat: {}}
"""
    runner = runner_for(flow, mocks="f:\n  ask:\n    output: {decision: d}\n    outcome: denied\n")
    result = runner.run("f", {})
    assert [s.node_id for s in result.steps] == ["ask", "no"] and result.steps[0].event == "denied"
    bare = runner.run("f", {}, start="other")
    assert bare.steps[0].output == {} and bare.steps[0].mock is None
    assert str(bare.warnings[0]) == "f0.ygtc:11:11: node 'other' (llm.chat) is mocked and mocks.yaml has no entry f/other: its output is {}"


def test_flow_goto_hands_the_turn_over():
    a = "id: a\ntype: job\nnodes:\n  go:\n    flow.goto: {flow_id: b, node: second, input: {n: 2}}\n  never: {emit.log: {}}\n"
    b = "id: b\ntype: job\nnodes:\n  first: {emit.log: {x: 1}}\n  second:\n    emit.response: {n: '{{prev.n}}'}\n"
    result = runner_for(a, b).run("a", {})
    assert [(s.flow_id, s.node_id) for s in result.steps] == [("a", "go"), ("b", "second")]
    assert result.response == {"n": 2}
    loop = "id: l\ntype: job\nnodes:\n  go:\n    flow.goto: {flow_id: l}\n"
    failed = runner_for(loop).run("l", {})
    assert failed.status == "failed" and "redirect_limit" in str(failed.errors[0])


def test_a_template_that_fails_fails_the_node():
    runner = runner_for(
        "id: f\ntype: job\nnodes:\n  x:\n    emit.log: {p: /missing}\n    var.set: {name: a, value: /nope}\nschema_version: 1\n"
    )
    result = runner.run("f", {})
    assert result.status == "failed" and "mapping path `/nope` not found" in str(result.errors[0])


def test_finalize_output():
    assert finalize_output({"a": 1}, []) == {"a": 1}
    assert finalize_output({"a": 1}, [{"a": 1}]) == [{"a": 1}]
    assert finalize_output({"b": 2}, [{"a": 1}]) == [{"a": 1}, {"b": 2}]
    assert finalize_output([3, 4], [{"a": 1}]) == [{"a": 1}, 3, 4]
    assert finalize_output(None, [1]) == [1]
