"""A branch step's record of the conditions it tried (its Decisions): the false ones before
the one that decided, then that one; or the one that failed, with the error. The records of
steps that do not fail are made once per loaded flow, so they must read the same in every
run, whichever way the branch goes."""

from __future__ import annotations

import textwrap
import time

import pytest

from inspector.flow import Engine, FlowSet
from inspector.flow.engine import Answer
from inspector.flow.runs import Decision
from inspector.model import Capture, Headers, Request, SignatureResult

FLOW = """
name: ways
nodes:
  - id: pick
    type: branch
    config:
      conditions:
        - expression: "payload.k == 'a'"
          next: a
        - expression: "payload.k == 'b'"
          next: b
        - expression: "payload.n"
          next: a
        - expression: "payload.missing.deeper == 1"
          next: b
      default: a
  - id: a
    type: script
    config:
      script: "'a'"
  - id: b
    type: script
    config:
      script: "'b'"
triggers:
  - type: event
    event_type: ways
    target: pick
"""

A = "payload.k == 'a'"
B = "payload.k == 'b'"
N = "payload.n"
DEEP = "payload.missing.deeper == 1"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    d = tmp_path_factory.mktemp("flows")
    (d / "ways.ygtc").write_text(textwrap.dedent(FLOW).lstrip("\n"))
    return Engine(FlowSet.load(d))


def _step(engine: Engine, body: bytes):
    request = Request("POST", "/events/webhook/demo/ways", "", Headers((("Content-Type", "application/json"),)), body, "t", time.time())
    capture = Capture(id=1, request=request, tenant="demo", event_type="ways", signature=SignatureResult("unsigned"))
    _event, runs, _pending = engine.run_triggered(capture, Answer(lambda response, where: True))
    return runs[0], runs[0].steps[0]


def test_the_first_true_condition_decides_after_the_false_ones(engine):
    for _ in range(2):  # the second run reads the same as the first
        run, step = _step(engine, b'{"k": "a"}')
        assert step.decision == (Decision(A, "a", True),) and step.output == {"matched": A, "next": "a"}
        run, step = _step(engine, b'{"k": "b"}')
        assert step.decision == (Decision(A, "a", False), Decision(B, "b", True)) and step.next == "b"
        assert run.path == ("pick", "b") and step.output == {"matched": B, "next": "b"}


def test_a_condition_that_is_not_a_bool_fails_the_step_after_the_false_ones(engine):
    run, step = _step(engine, b'{"k": "c", "n": 3}')
    assert run.status == "error" and step.status == "error"
    assert step.decision[:2] == (Decision(A, "a", False), Decision(B, "b", False))
    assert step.decision[2] == Decision(N, "a", None, "the condition is i64, not a bool", True)
    assert len(step.decision) == 3 and "gave i64 (3)" in step.error.message


def test_a_condition_that_raises_fails_the_step_with_its_error(engine):
    run, step = _step(engine, b'{"k": "c", "n": false}')
    assert run.status == "error"
    assert step.decision[:3] == (Decision(A, "a", False), Decision(B, "b", False), Decision(N, "a", False))
    last = step.decision[3]
    assert last.expression == DEEP and last.failed and last.error and last.value is None
    assert step.error.message.startswith("condition: ")


def test_no_true_condition_takes_the_default_with_every_condition_false(engine):
    run, step = _step(engine, b'{"k": "c", "n": false, "missing": {"deeper": 2}}')
    assert run.status == "ok" and step.next == "a" and step.output == {"matched": None, "next": "a"}
    assert step.decision == (Decision(A, "a", False), Decision(B, "b", False), Decision(N, "a", False), Decision(DEEP, "b", False))
    assert [d.to_json() for d in step.decision][0] == {"expression": A, "value": False, "next": "a"}
