"""The per-request trace budget (engine.RequestLimits) counts each step's output as
script.values.json_size_at_least measures it. Branch and http_response steps give their size
without the output being walked again (StepOutcome.size); the count must be the same."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

from inspector.flow import Engine, FlowSet
from inspector.flow.engine import Answer
from inspector.model import Capture, Headers, Request, SignatureResult
from inspector.script.values import json_size_at_least

FLOW = """
name: counted
nodes:
  - id: pick
    type: branch
    config:
      conditions:
        - expression: "payload.kind == 'a'"
          next: answer
        - expression: "payload.kind == 'b'"
          next: answer
      default: plain
  - id: plain
    type: script
    config:
      script: |
        "no kind"
    next: answer
  - id: answer
    type: http_response
    config:
      status: 201
      headers:
        X-Kind: "{{payload.kind}}"
        X-Fixed: "yes"
      body:
        kind: "{{payload.kind}}"
        items: [1, "two", {three: 3}]
triggers:
  - type: event
    event_type: counted
    target: pick
"""

PLAIN_ANSWER = """
name: plain
nodes:
  - id: answer
    type: http_response
    config:
      body: "just text"
triggers:
  - type: event
    event_type: plain
    target: answer
"""


def _run(tmp_path: Path, text: str, event_type: str, body: bytes):
    d = tmp_path / "flows"
    d.mkdir(exist_ok=True)
    (d / f"{event_type}.ygtc").write_text(textwrap.dedent(text).lstrip("\n"))
    engine = Engine(FlowSet.load(d))
    request = Request(
        "POST", f"/events/webhook/demo/{event_type}", "", Headers((("Content-Type", "application/json"),)), body, "t", time.time()
    )
    capture = Capture(id=1, request=request, tenant="demo", event_type=event_type, signature=SignatureResult("unsigned"))
    answer = Answer(lambda response, where: True)
    _event, runs, _pending = engine.run_triggered(capture, answer)
    return answer.limits, runs


def _counted(runs) -> int:
    return sum(
        json_size_at_least(step.output, 1 << 62)[0] if type(step.output) is not str else len(step.output) + 2
        for run in runs
        for step in run.steps
    )


def test_branch_and_answer_sizes_are_the_walked_sizes(tmp_path):
    for body in (b'{"kind": "a"}', b'{"kind": "b"}', b'{"kind": "zzz"}'):
        limits, runs = _run(tmp_path, FLOW, "counted", body)
        assert [s.node for s in runs[0].steps][-1] == "answer" and runs[0].status == "ok"
        assert limits.max_trace - limits.trace_left == _counted(runs), body


def test_a_text_answer_is_counted_too(tmp_path):
    limits, runs = _run(tmp_path, PLAIN_ANSWER, "plain", b"{}")
    assert runs[0].steps[0].output["body"] == "just text"
    assert limits.max_trace - limits.trace_left == _counted(runs)


ID_FLOW = """
name: numbered
nodes:
  - id: answer
    type: http_response
    config:
      body:
        seen: "{{event.id}}"
triggers:
  - type: event
    event_type: numbered
    target: answer
"""


def test_an_inline_flow_sees_the_id_its_capture_is_stored_under(tmp_path):
    import asyncio
    import json

    from inspector.config import Config
    from inspector.pipeline import Pipeline
    from inspector.store import Store

    d = tmp_path / "flows"
    d.mkdir()
    (d / "numbered.ygtc").write_text(textwrap.dedent(ID_FLOW).lstrip("\n"))
    pipeline = Pipeline(Config(), Store(tmp_path / "s.sqlite3"), engine=Engine(FlowSet.load(d)))
    request = Request(
        "POST", "/events/webhook/demo/numbered", "", Headers((("Content-Type", "application/json"),)), b"{}", "t", time.time()
    )

    async def go():
        return [await pipeline.handle(request) for _ in range(2)]

    for capture in asyncio.run(go()):
        assert json.loads(capture.response.body) == {"seen": capture.id}
