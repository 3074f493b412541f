"""Loading .ygtc files: every validation of SPEC §6, each at file:line:column."""

import textwrap

import pytest

from inspector.flow import FlowSet, load_text


def load(text):
    return load_text(textwrap.dedent(text).lstrip("\n"), "f.ygtc")


def errors(text):
    flow, problems = load(text)
    return flow, [str(p) for p in problems if p.severity == "error"]


GOOD = """
name: good
nodes:
  - id: a
    type: script
    config:
      script: |
        let x = 1;
        x + 1
    next: b
  - id: b
    type: http_response
    config:
      status: 201
      body:
        ok: true
triggers:
  - type: event
    event_type: "order.*"
    target: a
"""


def test_good_flow_loads():
    flow, problems = load(GOOD)
    assert problems == []
    assert flow.name == "good" and [n.id for n in flow.nodes] == ["a", "b"]
    assert flow.trigger_for("order.created") and flow.trigger_for("order.x.y") and not flow.trigger_for("orders")


def test_name_defaults_to_file_stem():
    flow, _ = load_text("nodes:\n  - id: a\n    type: script\n    config: {script: '1'}\n", "flows/my_flow.ygtc")
    assert flow.name == "my_flow"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("nodes:\n  - id: a\n\ttype: script\n", "f.ygtc:3:1: YAML syntax error"),
        ("nodes: [\n", "f.ygtc:2:1: YAML syntax error"),
        ("- 1\n", "f.ygtc:1:1: the flow must be a mapping"),
        ("name: x\n", "f.ygtc:1:1: missing `nodes:`"),
        ("nodes: {}\n", "f.ygtc:1:8: `nodes` must be a list"),
        ("nodes: []\n", "f.ygtc:1:8: `nodes` is empty"),
        ("nodes:\n  - type: script\n", "f.ygtc:2:5: node without `id`"),
        ("nodes:\n  - id: a\n", "f.ygtc:2:5: node 'a' has no `type`"),
        ("nodes:\n  - id: a\n    type: scirpt\n", "f.ygtc:3:11: unknown node type 'scirpt' — did you mean 'script'?"),
        (
            "nodes:\n  - id: a\n    type: script\n    config: {script: '1'}\n  - id: a\n    type: script\n    config: {script: '2'}\n",
            "f.ygtc:5:5: duplicate node id 'a' (first at line 2)",
        ),
        ("nodes:\n  - id: a\n    type: script\n    config: {script: '1'}\n    next: nope\n", "f.ygtc:5:11: `next` 'nope' names no node"),
        (
            "nodes:\n  - id: a\n    type: script\n    config: {script: '1'}\n    next: b\n    to: b\n",
            "f.ygtc:6:5: node 'a' has both `next` and `to`",
        ),
        ("nodes:\n  - id: a\n    type: script\n    config:\n      script: |\n        let x = ;\n", "f.ygtc:6:17: script:"),
        (
            "nodes:\n  - id: a\n    type: script\n    config: {script: '1'}\ntriggers:\n  - type: cron\n    event_type: x\n",
            "f.ygtc:6:11: unknown trigger type 'cron'",
        ),
        (
            "nodes:\n  - id: a\n    type: script\n    config: {script: '1'}\ntriggers:\n  - event_type: x\n    target: zz\n",
            "f.ygtc:7:13: trigger target 'zz' names no node",
        ),
        (
            'nodes:\n  - id: a\n    type: branch\n    config:\n      conditions:\n        - expression: "x =="\n          next: a\n',
            "f.ygtc:6:28: condition: expected an expression",
        ),
        ("nodes:\n  - id: a\n    type: branch\n    config:\n      default: b\n", "f.ygtc:5:16: `default` 'b' names no node"),
        (
            "nodes:\n  - id: a\n    type: http_response\n    config:\n      status: 999\n",
            "f.ygtc:5:15: `status` must be an HTTP status code",
        ),
        ('nodes:\n  - id: a\n    type: http_response\n    config:\n      body: "{{ 1 + }}"\n', "f.ygtc:5:"),
        ("nodes:\n  - id: a\n    type: async\n    config: {}\n", "f.ygtc:2:5: async node 'a' has no `config.flow`"),
        ("name: a\nname: b\nnodes: []\n", "f.ygtc:2:1: duplicate key 'name'"),
        (
            "nodes:\n  - id: a\n    type: http_response\n    config:\n      body:\n        k: 1\n        k: 2\n",
            "f.ygtc:7:9: duplicate key 'k'",
        ),
        ("", "f.ygtc:1:1: the file is empty"),
        ("nodes:\n  - id: a\n    type: script\n    config: {script: '1'}\n---\nnodes: []\n", "f.ygtc:6:1: a .ygtc file holds one flow"),
    ],
)
def test_errors_have_positions(text, expected):
    flow, errs = errors(text)
    assert flow is None
    assert any(e.startswith(expected) for e in errs), errs


def test_script_error_position_points_into_the_file():
    text = "nodes:\n  - id: a\n    type: script\n    config:\n      script: |\n        let a = 1;\n        let b = a +* 2;\n"
    _, errs = errors(text)
    assert errs and errs[0].startswith("f.ygtc:7:"), errs


def test_unknown_keys_warn_but_load():
    flow, problems = load("nodes:\n  - id: a\n    type: script\n    colour: red\n    config: {script: '1', extra: 2}\nowner: me\n")
    assert flow is not None
    assert sorted(str(p) for p in problems) == [
        "f.ygtc:4:5: warning: unknown node key 'colour' ignored (known: config, id, next, to, type)",
        "f.ygtc:5:27: warning: unknown config key 'extra' for a script node (known: script)",
        "f.ygtc:6:1: warning: unknown key 'owner' ignored (known: description, name, nodes, triggers, version)",
    ]


def test_flowset_skips_invalid_files_and_duplicate_names(tmp_path):
    (tmp_path / "a.ygtc").write_text(GOOD)
    (tmp_path / "b.ygtc").write_text("nodes: [\n")
    (tmp_path / "c.ygtc").write_text(GOOD)
    (tmp_path / "d.ygtc").write_text("name: caller\nnodes:\n  - id: go\n    type: async\n    config:\n      flow: missing_flow\n")
    (tmp_path / "ignored.yaml").write_text("x: 1")
    fs = FlowSet.load(tmp_path)
    assert [f.name for f in fs.flows] == ["good", "caller"]
    messages = [str(p) for p in fs.errors]
    assert any("b.ygtc:2:1: YAML syntax error" in m for m in messages)
    assert any("duplicate flow name 'good'" in m for m in messages)
    assert any("d.ygtc:6:13: async node 'go' calls flow 'missing_flow', which is not loaded" in m for m in messages)


def test_flowset_reloads_on_change(tmp_path):
    path = tmp_path / "a.ygtc"
    path.write_text(GOOD)
    fs = FlowSet.load(tmp_path)
    assert not fs.refresh()
    path.write_text(GOOD.replace("name: good", "name: better"))
    assert fs.refresh()
    assert [f.name for f in fs.flows] == ["better"]
    path.unlink()
    assert fs.refresh() and fs.flows == []


def test_bundled_flows_load_cleanly():
    from tests.conftest import ROOT

    fs = FlowSet.load(ROOT / "flows")
    assert fs.problems == []
    assert {f.name for f in fs.flows} == {"handle_webhook", "github", "stripe", "shopify", "ack_then_process", "process_webhook_data"}
