"""FlowRun.to_json (what the store encodes for every run) against a plain reference: each step
and decision written by its own to_json, as runs.py did before its fast path. The text must
be the same byte for byte, for runs of every shape the engine, the store and Greentic make."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.flow.runs import (
    GREENTIC_STEP_KEYS,
    NODE_ERROR_KEYS,
    STEP_ERROR_KEYS,
    STEP_KEYS,
    TRACED_KEYS,
    Decision,
    FlowRun,
    RunError,
    Step,
    runs_to_json,
)


def reference_run(run: FlowRun) -> Any:
    if run.source is not None or run.keys is not TRACED_KEYS:
        return run.to_json()
    error, state = run.error, run.state
    return {
        "id": run.id,
        "flow": run.flow,
        "file": run.file,
        "trigger": run.trigger,
        "parent_id": run.parent_id,
        "via_node": run.via_node,
        "status": run.status,
        "started_at": run.started_at,
        "duration_us": run.duration_us,
        "path": list(run.path),
        "steps": [reference_step(s) for s in run.steps],
        "error": None if error is None else error.to_json(),
        "warnings": list(run.warnings),
        "state": state,
    }


def reference_step(step: Step) -> dict[str, Any]:
    if step.source is not None:
        return step.source
    decision = step.decision
    out = {
        "node": step.node,
        "type": step.type,
        "status": step.status,
        "started_at": step.started_at,
        "duration_us": step.duration_us,
        "output": step.output,
        "next": step.next,
        "decision": None if decision is None else [d.to_json() for d in decision],
        "error": None if step.error is None else step.error.to_json(),
        "logs": list(step.logs),
    }
    if step.keys is not STEP_KEYS:
        out.update(operation=step.operation, input=step.input, mocked=step.mocked, flow=step.flow, depth=step.depth, at=step.at)
    return out


text = st.text(max_size=6)
maybe_text = st.none() | text
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
decisions = st.one_of(
    st.builds(lambda e, n, v: Decision(e, n, v), maybe_text, maybe_text, json_values),
    st.builds(lambda e, n, err: Decision(e, n, None, err, True), maybe_text, maybe_text, maybe_text),
    st.builds(
        lambda d: Decision.from_json(d), st.dictionaries(st.sampled_from(["expression", "value", "next", "error", "x"]), json_values)
    ),
)
errors = st.none() | st.builds(
    RunError,
    maybe_text,
    maybe_text,
    st.none() | st.integers(0, 99),
    st.none() | st.integers(0, 99),
    st.sampled_from([STEP_ERROR_KEYS, NODE_ERROR_KEYS]),
)
documented_steps = st.builds(
    Step,
    maybe_text,
    maybe_text,
    maybe_text,
    maybe_text,
    st.none() | st.integers(0, 10**6),
    json_values,
    maybe_text,
    st.none() | st.lists(decisions, max_size=3).map(tuple),
    errors,
    st.lists(text, max_size=2).map(tuple),
)
greentic_steps = st.builds(
    lambda node, op, depth: Step(
        node, op, "ok", None, 1, operation=op, input={"a": 1}, flow="f", depth=depth, at="f:1:1", keys=GREENTIC_STEP_KEYS
    ),
    maybe_text,
    text,
    st.none() | st.integers(0, 3),
)
stored_steps = st.dictionaries(st.sampled_from(["node", "type", "output", "decision", "logs", "other"]), json_values).map(Step.from_json)
steps = st.one_of(documented_steps, documented_steps, greentic_steps, stored_steps)
runs = st.builds(
    lambda rid, flow, status, dur, path, ss, err, warnings, state: FlowRun._draft(  # type: ignore[attr-defined]
        rid,
        flow,
        "flows/x.ygtc",
        "event:x",
        None,
        None,
        status,
        "2026-01-01T00:00:00.000Z",
        dur,
        path,
        ss,
        err,
        warnings,
        state,
        None,
        TRACED_KEYS,
    ),
    st.integers(1, 9),
    text,
    st.sampled_from(["ok", "error", "limit"]),
    st.integers(0, 10**6),
    st.lists(text, max_size=3).map(tuple),
    st.lists(steps, max_size=4).map(tuple),
    errors,
    st.lists(text, max_size=2).map(tuple),
    json_values,
)


@settings(max_examples=300)
@given(st.lists(runs, max_size=3))
def test_runs_json_is_the_references_byte_for_byte(made):
    got = json.dumps(runs_to_json(made))
    want = json.dumps([reference_run(r) for r in made])
    assert got == want
