"""Step, FlowRun and Decision get a faster __init__ (flow/runs.py `_quick_init`); they must stay the
frozen dataclasses they are declared as."""

from __future__ import annotations

import dataclasses

import pytest

from inspector.flow.runs import RUN_KEYS, STEP_KEYS, Decision, FlowRun, Step


def test_defaults_keywords_equality_and_immutability_are_the_dataclass_ones():
    step = Step("a", "script", "ok", "2026-01-01T00:00:00.000Z", 12)
    assert (step.output, step.next, step.decision, step.logs, step.keys) == (None, None, None, (), STEP_KEYS)
    assert step == Step(node="a", type="script", status="ok", started_at="2026-01-01T00:00:00.000Z", duration_us=12)
    assert step != dataclasses.replace(step, output=1) and hash(step) == hash(Step("a", "script", "ok", "2026-01-01T00:00:00.000Z", 12))
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.node = "b"  # type: ignore[misc]
    run = FlowRun(1, "f")
    assert (run.status, run.duration_us, run.path, run.keys) == ("ok", 0, (), RUN_KEYS)
    assert run == FlowRun(id=1, flow="f") and "flow='f'" in repr(run)
    with pytest.raises(TypeError):
        FlowRun(1)  # type: ignore[call-arg]  # `flow` has no default
    with pytest.raises(TypeError):
        FlowRun(1, "f", colour="red")  # type: ignore[call-arg]
    assert FlowRun.from_json(run.to_json()).to_json() == run.to_json()
    decision = Decision("x == 1", "b", error="boom", failed=True)
    assert (decision.value, decision.source) == (None, None) and decision.to_json() == {
        "expression": "x == 1",
        "error": "boom",
        "next": "b",
    }
    assert decision == Decision("x == 1", "b", None, "boom", True)


def test_the_engines_draft_builds_the_same_frozen_values():
    # The engine builds its Steps and FlowRuns through `_draft` (no type.__call__); they must be
    # the very values the constructor makes, frozen, of their own class.
    args = ("a", "script", "ok", "2026-01-01T00:00:00.000Z", 12, "out", "b", None, None, ("log",))
    step = Step._draft(*args)  # type: ignore[attr-defined]
    assert type(step) is Step and step == Step(*args) and hash(step) == hash(Step(*args))
    assert step.to_json() == Step(*args).to_json() and step.keys == STEP_KEYS
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.status = "error"  # type: ignore[misc]
    run = FlowRun._draft(1, "f")  # type: ignore[attr-defined]
    assert type(run) is FlowRun and run == FlowRun(1, "f") and run.keys == RUN_KEYS
    decision = Decision._draft("x == 1", "b", True)  # type: ignore[attr-defined]
    assert decision == Decision("x == 1", "b", True) and decision.to_json() == {"expression": "x == 1", "value": True, "next": "b"}
