"""The run's context (answers and async runs as its methods) and the started_at stamps the
engine writes without calling the stamper: the same trace whatever the clock gives."""

from __future__ import annotations

import math
import textwrap

import pytest

from inspector.flow import Engine, FlowSet
from inspector.flow.engine import Answer
from inspector.model import Capture, Headers, Request, SignatureResult, TimeStamper

FLOW = """
name: f
nodes:
  - id: first
    type: script
    config:
      script: |
        state.n = 1;
        "one"
    next: child
  - id: child
    type: async
    config:
      flow: g
    next: respond
  - id: respond
    type: http_response
    config:
      body: {ok: true, result: "{{nodes.first}}"}
triggers:
  - type: event
    event_type: "e"
    target: first
"""
CHILD = """
name: g
nodes:
  - id: only
    type: script
    config:
      script: |
        state.n + 1
"""


def _engine(tmp_path, clock):
    d = tmp_path / "flows"
    d.mkdir(exist_ok=True)
    (d / "f.ygtc").write_text(textwrap.dedent(FLOW).lstrip("\n"))
    (d / "g.ygtc").write_text(textwrap.dedent(CHILD).lstrip("\n"))
    return Engine(FlowSet.load(d), clock=clock)


def _capture():
    req = Request("POST", "/events/webhook/demo/e", "", Headers((("Content-Type", "application/json"),)), b"{}", "t", 1_700_000_000.0)
    return Capture(1, req, "demo", "e", SignatureResult("unsigned"))


@pytest.mark.parametrize(
    "times",
    [
        [1_700_000_000.0004, 1_700_000_000.0004, 1_700_000_000.0006, 1_700_000_000.0011],  # within a millisecond, then past it
        [1_700_000_000, 1_700_000_001, 1_700_000_001, 1_700_000_002],  # ints: never in a window's test
        [math.nan, 1_700_000_000.5, math.inf, 1_700_000_000.5],
        [5e-324, 1e300, -1.0, 1_700_000_000.9999],
    ],
)
def test_started_at_is_the_stampers_text_of_each_clock_reading(tmp_path, times):
    readings = iter(times)
    engine = _engine(tmp_path, lambda: next(readings))
    answers = []
    _, runs, pending = engine.run_triggered(_capture(), Answer(lambda r, w: answers.append((r, w)) or True))
    run = runs[0]
    expected = TimeStamper().text  # a fresh stamper: no window of its own yet
    assert run.started_at == expected(times[0])
    assert [s.started_at for s in run.steps] == [expected(t) for t in times[:3]]
    assert run.trigger == "event:e"


def test_answer_and_async_runs_name_their_node_and_run(tmp_path):
    engine = _engine(tmp_path, lambda: 1_700_000_000.0)
    answers = []
    event, runs, pending = engine.run_triggered(_capture(), Answer(lambda r, w: answers.append((r, w)) or True))
    assert answers == [({"status": 200, "headers": {}, "body": {"ok": True, "result": "one"}}, {"flow": "f", "node": "respond", "run": 1})]
    assert [(c.flow, c.parent_id, c.via_node, c.depth, c.state) for c in pending] == [("g", 1, "child", 1, {"n": 1})]
    steps = runs[0].steps
    assert [s.status for s in steps] == ["ok", "ok", "ok"]
    assert steps[2].output == {"status": 200, "headers": {}, "body": {"ok": True, "result": "one"}, "answered": True}
    children = engine.run_children(event, runs, pending, Answer(lambda r, w: False))
    assert [(r.flow, r.status, r.steps[0].output) for r in children] == [("f", "ok", "one"), ("g", "ok", 2)]


def test_a_second_answer_is_unused_and_a_full_trace_budget_stops_the_answer(tmp_path):
    engine = _engine(tmp_path, lambda: 1_700_000_000.0)
    taken = Answer(lambda r, w: True, taken=True)
    _, runs, _ = engine.run_triggered(_capture(), taken)
    assert runs[0].steps[2].status == "unused"
    assert runs[0].steps[2].output["answered"] is False
    full = Answer(lambda r, w: True)
    full.limits.trace_left = 40  # room for the first steps' outputs, not for the answer's body
    _, runs, _ = engine.run_triggered(_capture(), full)
    assert runs[0].status == "limit"
    assert runs[0].error.message.startswith("trace size limit: the response body would take")
    assert full.taken is False
