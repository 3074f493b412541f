"""An http_response node knows its body's JSON size from the sizes of its fixed parts
(counted once at load) and of its rendered texts, instead of the answer walking the body.
The count must be json_size_at_least's, whatever the body's shape and whatever its
templates render to, and the trace limit must stop the same answers."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from inspector.flow import Engine, FlowSet
from inspector.flow.engine import Answer, RequestLimits
from inspector.model import Capture, Headers, Request, SignatureResult
from inspector.script.values import json_size_at_least

FLOW = """
name: sized
nodes:
  - id: answer
    type: http_response
    config:
      body: {body}
triggers:
  - type: event
    event_type: sized
    target: answer
"""

PAYLOAD = b'{"text": "h\\u00e9llo \\"q\\"", "n": 7, "none": null, "list": [1, "a", {"b": [2]}], "map": {"k": "v"}, "t": true}'

BODIES = [
    '{ok: true, result: "{{payload.text}}"}',
    '{result: "{{payload.n}}", also: "{{payload.none}}", flag: "{{payload.t}}"}',
    '{items: "{{payload.list}}", map: "{{payload.map}}", fixed: [1, "two", {three: 3}]}',
    '{mixed: "n is {{payload.n}}", nested: {inner: "{{payload.text}}"}, empty: {}, nothing: null}',
    '["{{payload.text}}", 1, "{{payload.list}}", [2, "{{payload.n}}"], {a: b}]',
    '"{{payload.map}}"',
    '"{{payload.text}}"',
    '"text {{payload.n}}"',
    "{}",
    "[]",
    '{static: [1, 2, {three: "3"}], "quoted key": "x"}',
    '"plain text"',
    "12",
    '{"{{k}}": "{{payload.n}}"}',
]


def _run(tmp_path: Path, body: str, limits: RequestLimits | None = None):
    d = tmp_path / "flows"
    d.mkdir(exist_ok=True)
    (d / "sized.ygtc").write_text(textwrap.dedent(FLOW).lstrip("\n").format(body=body))
    engine = Engine(FlowSet.load(d))
    request = Request("POST", "/events/webhook/demo/sized", "", Headers((("Content-Type", "application/json"),)), PAYLOAD, "t", time.time())
    capture = Capture(id=1, request=request, tenant="demo", event_type="sized", signature=SignatureResult("unsigned"))
    offered: list[dict] = []

    def on_answer(response: dict, where: dict) -> bool:
        offered.append(response)
        return True

    answer = Answer(on_answer) if limits is None else Answer(on_answer, limits=limits)
    _event, runs, _pending = engine.run_triggered(capture, answer)
    return answer.limits, runs, offered


@pytest.mark.parametrize("body", BODIES)
def test_the_answer_counts_what_a_walk_of_its_output_counts(tmp_path, body):
    limits, runs, _offered = _run(tmp_path, body)
    (run,) = runs
    assert run.status == "ok", run.error
    (step,) = run.steps
    assert limits.max_trace - limits.trace_left == json_size_at_least(step.output, 1 << 62)[0]


@pytest.mark.parametrize("body", BODIES)
def test_the_trace_limit_stops_an_answer_at_the_same_size(tmp_path, body):
    _limits, runs, _offered = _run(tmp_path, body)
    output = runs[0].steps[0].output
    body_size = json_size_at_least(output["body"], 1 << 62)[0]
    if type(output["body"]) not in (dict, list, str):
        return  # only lists, maps and texts are measured as the answer goes out
    # A limit just below the body's size stops the answer; at its size the answer goes out
    # (and the step's output, bigger than its body, reaches the limit after).
    _limits, runs, offered = _run(tmp_path, body, RequestLimits(max_trace=body_size - 1))
    assert runs[0].status == "limit" and "the response body" in runs[0].error.message and not offered
    _limits, runs, offered = _run(tmp_path, body, RequestLimits(max_trace=body_size))
    assert [r["body"] for r in offered] == [output["body"]]
