"""Conditions and arm choice exactly as the runner's tests state them (docs/greentic-shape.md §3)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from inspector.greentic.conditions import (
    RoutePlan,
    choose_event,
    choose_route,
    compile_routing,
    evaluate,
    parse_condition,
    routing_context,
)


@dataclass(frozen=True)
class A:
    to: str | None = None
    out: bool | None = None
    reply: bool | None = None
    status: str | None = None
    condition: str | None = None
    on_message: bool | None = None


@pytest.mark.parametrize(
    ("context", "condition", "expected"),
    [
        ({"a": {"age": 18}}, "a.age >= 18", True),
        ({"a": {"age": 18}}, "a.age > 18", False),
        ({"a": {"age": 18}}, "a.age <= 18", True),
        ({"a": {"age": 18}}, "a.age < 18", False),
        ({"c": {"text": "Hello World"}}, 'c.text contains "world"', True),
        ({"c": {"text": "Hello World"}}, 'c.text contains "bye"', False),
        ({"b": {"status": "ok"}}, 'b.status == "ok"', True),
        ({"b": {"status": "ok"}}, 'b.status != "ok"', False),
        ({"b": {"status": "ok"}}, "b.status >= 1", False),
        ({"b": {"status": "OK"}}, 'b.status == "ok"', True),  # ASCII case ignored
        ({"b": {"status": "ok"}}, "b.status == 'ok'", False),  # single quotes are kept
        ({"b": {"n": 3, "t": True, "z": None, "o": {"k": 1}}}, 'b.n == "3"', True),
        ({"b": {"t": True}}, "b.t == true", True),
        ({"b": {"z": None}}, "b.z == null", True),
        ({"b": {"o": {"k": 1}}}, 'b.o == {"k":1}', True),
        ({}, 'ghost.x != "y"', True),  # a missing path makes != true
        ({}, 'ghost.x == "y"', False),
        ({"x": "a"}, "x", False),  # no operator
        ({"entry": {"x": "a"}}, '{{entry.x}} == "a"', False),
        ({"entry": {"x": "a"}}, '{{entry.x}} != "a"', True),
        ({"l": [1]}, "l.0 == 1", False),  # no array indexing
    ],
)
def test_evaluate(context, condition, expected):
    assert evaluate(condition, context) is expected


def test_routing_context_sees_node_outputs_and_the_current_output():
    outputs = {"register": {"q_age": 21}}
    context = routing_context({"q_age": 30}, {}, outputs, "on_success")
    assert evaluate("node.register.q_age >= 18", context)
    assert evaluate("node.register.data.q_age >= 18", context)
    assert evaluate("q_age >= 30", context)
    assert not evaluate('node.ghost.x == "y"', context)
    assert {"entry", "in", "node", "response", "event"} <= set(context) and "prev" not in context and "vars" not in context


def test_a_conditional_list_waits_when_nothing_matches():
    arms = (A(to="next", condition='response.action == "go"'), A(out=True))
    plan = compile_routing(arms)
    waiting = choose_route(plan, routing_context({}, {"metadata": {"action": ""}}, {}, "on_success"))
    assert waiting.kind == "wait" and waiting.target is None
    going = choose_route(plan, routing_context({}, {"metadata": {"action": "go"}}, {}, "on_success"))
    assert (going.kind, going.target, going.arm) == ("next", "next", 0)
    assert going.checks[0].left == "go" and going.checks[0].result is True


@pytest.mark.parametrize(
    ("arms", "ok", "outcome", "target"),
    [
        ((A("next", condition='event == "on_success"'), A("err", condition='event == "on_error"')), True, None, "next"),
        ((A("next", condition='event == "on_success"'), A("err", condition='event == "on_error"')), True, "on_error", "err"),
        ((A("done", condition='event == "on_complete"'), A("cancel", condition='event == "on_cancel"')), True, None, "done"),
        ((A("done", condition='event == "on_submit"'), A("cancel", condition='event == "on_cancel"')), True, None, "done"),
        ((A("done", condition='event == "on_complete"'), A("cancel", condition='event == "on_cancel"')), False, None, "cancel"),
        (
            (A("a", condition='event == "approved"'), A("d", condition='event == "denied"'), A("t", condition='event == "timeout"')),
            True,
            "denied",
            "d",
        ),
        (
            (A("a", condition='event == "approved"'), A("d", condition='event == "denied"'), A("t", condition='event == "timeout"')),
            True,
            "timeout",
            "t",
        ),
    ],
)
def test_event_arms(arms, ok, outcome, target):
    event = choose_event(arms, ok=ok, outcome=outcome)
    decision = choose_route(compile_routing(arms), routing_context({}, {}, {}, event))
    assert decision.target == target


@pytest.mark.parametrize(
    ("routing", "plan"),
    [
        (None, RoutePlan("end")),
        ((), RoutePlan("end")),
        ("out", RoutePlan("end")),
        ("reply", RoutePlan("reply")),
        ((A(reply=True),), RoutePlan("reply")),
        ((A(to="x", out=True),), RoutePlan("end")),  # out beats to
        ((A(to="out"),), RoutePlan("end")),
        ((A(to="x"),), RoutePlan("next", "x")),
        ((A(to="a"), A(to="b")), RoutePlan("branch", "b")),  # the last plain arm
        ((A(to="a"), A(to="b", status="ok")), RoutePlan("branch", "a")),
        ((A(to="a", status="x"), A(to="b", status="y")), RoutePlan("end")),
    ],
)
def test_compile_routing(routing, plan):
    assert compile_routing(routing) == plan


def test_custom_lists():
    # The first unconditional arm with a target wins at once; arms after it are never reached.
    arms = (A(out=True), A(to="a"), A(to="b", condition="x == 1"))
    decision = choose_route(compile_routing(arms), {"x": 1})
    assert (decision.kind, decision.target, decision.arm) == ("next", "a", 1)
    assert choose_route(compile_routing((A(status="s"),)), {}).kind == "end"
    # An `on_message` arm is treated as unconditional.
    assert choose_route(compile_routing((A(to="m", on_message=True),)), {}).target == "m"


def test_parse_condition_order_and_quotes():
    assert parse_condition('a >= "1"') == parse_condition("a >= 1")
    parsed = parse_condition("a == b != c")
    assert parsed is not None and (parsed.path, parsed.operator, parsed.value) == ("a", "==", "b != c")
    assert parse_condition("no operator") is None
