"""Flows shaped like greentic-flow's own examples (written here, not copied): a messaging flow
whose first node asks questions, a tool call and a Handlebars template with a section; a
`start` that is not the first node; a component operation named by its own key; and a node
that has no routing. Each loads without an error, `check`'s listing names its mocked nodes,
and a webhook runs it node by node with every mocked step marked."""

from __future__ import annotations

import json

import pytest

from inspector.flow import FlowSet
from inspector.greentic import glue
from inspector.model import Headers, Request

ASK = """\
id: forecast
type: messaging
parameters:
  days: 2
nodes:
  in:
    qa.process:
      welcome: "Which city?"
      questions:
        - id: city
          prompt: "City name"
    routing:
      - to: lookup
  lookup:
    mcp.exec:
      component: weather
      action: forecast
      args:
        q: "{{in.event.payload.city}}"
    routing:
      - to: render
  render:
    templating.handlebars:
      text: |
        Forecast for {{node.lookup.city}}:
        {{#node.lookup.days}}
        - {{date}}: {{high}}
        {{/node.lookup.days}}
    routing:
      - out: true
"""

STARTS_LATER = """\
id: hello
type: messaging
schema_version: 2
start: greet
nodes:
  unused:
    emit.log:
      message: never
    routing: out
  greet:
    handle_message:
      input:
        text: "Hello {{in.event.payload.city}}"
    routing: out
"""

MOCKS = """\
forecast:
  lookup:
    output:
      city: Paris
      days: [{date: "2026-12-05", high: 9}, {date: "2026-12-06", high: 11}]
"""


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    glue._STATES.clear()


def post(fs: FlowSet, handler: str) -> list:
    body = json.dumps({"city": "Paris"}).encode()
    request = Request(
        "POST", f"/v1/events/ingress/webhook/acme/default/{handler}", "", Headers([("Content-Type", "application/json")]), body
    )
    return glue.run_for_request(fs, request)


def test_example_shaped_flows_load_list_and_run(tmp_path):
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "forecast.ygtc").write_text(ASK)
    (tmp_path / "flows" / "hello.ygtc").write_text(STARTS_LATER)
    (tmp_path / "flows" / "mocks.yaml").write_text(MOCKS)
    fs = FlowSet.load("flows")
    assert fs.errors == [], fs.errors
    lines = glue.flow_lines(fs, "http://h", "acme")
    assert "    mocked: in (qa.process), lookup (mcp.exec), render (templating.handlebars)" in lines
    assert "  hello (messaging) flows/hello.ygtc: entry node greet; entrypoints: none" in lines

    [run] = post(fs, "forecast")
    assert [(s.node, s.operation, s.status) for s in run.steps] == [
        ("in", "qa.process", "mocked"),
        ("lookup", "mcp.exec", "mocked"),
        ("render", "templating.handlebars", "mocked"),
    ]
    assert run.steps[1].input["args"] == {"q": "Paris"}
    assert run.steps[2].input["text"] == "Forecast for Paris:\n- 2026-12-05: 9\n- 2026-12-06: 11\n"
    assert any("no entry forecast/in" in w for w in run.warnings)

    [hello] = post(fs, "hello")
    assert [(s.node, s.status, s.mocked["component"]) for s in hello.steps] == [("greet", "mocked", "handle_message")]
    assert hello.steps[0].input == {"input": {"text": "Hello Paris"}}
