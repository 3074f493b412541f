"""Loading real-shaped `.ygtc` flows: values, positions, and every error and warning at
`file:line:column` (issue #20 item 1, docs/greentic-shape.md §1-§3, §7)."""

from __future__ import annotations

import textwrap

import pytest

from inspector.greentic.document import detect_file, detect_shape, load_file, load_text

ORDERS = textwrap.dedent(
    """\
    id: orders
    type: events
    title: Orders
    description: Routes order webhooks
    start: classify
    entrypoints:
      default: classify
    parameters:
      vars_init:
        region: {default: eu}
    tags: [shop]
    nodes:
      classify:
        emit.log:
          message: "order {{in.event.payload.id}}"
        routing:
          - condition: in.event.payload.kind == "refund"
            to: refund
          - to: done
      refund:
        component.exec:
          component: repo://acme/refunds
        operation: refund
        in_map:
          order: "{{in.event.payload.id}}"
        routing: [{to: done}]
      done:
        emit.response: {status: 200}
        routing: out
    """
)


def problems(text: str, file: str = "flows/x.ygtc") -> list[str]:
    return [str(p) for p in load_text(text, file).problems]


def test_a_real_flow_loads_with_positions():
    result = load_text(ORDERS, "flows/orders.ygtc")
    assert result.problems == ()
    flow = result.flow
    assert flow is not None
    assert (flow.id, flow.type, flow.title, flow.start, flow.entry, flow.schema_version) == (
        "orders",
        "events",
        "Orders",
        "classify",
        "classify",
        2,
    )
    assert (
        flow.entrypoints == {"default": "classify"}
        and flow.parameters == {"vars_init": {"region": {"default": "eu"}}}
        and flow.tags == ("shop",)
    )
    assert flow.node_ids == ("classify", "refund", "done")  # file order
    classify, refund, done = flow.nodes
    assert str(classify.position) == "flows/orders.ygtc:13:3"
    assert classify.operation == "emit.log" and classify.config == {"message": "order {{in.event.payload.id}}"}
    assert str(classify.key_position("routing")) == "flows/orders.ygtc:16:5"
    first, second = classify.arms
    assert (first.condition, first.to, str(first.position)) == ('in.event.payload.kind == "refund"', "refund", "flows/orders.ygtc:17:9")
    assert str(first.positions["to"]) == "flows/orders.ygtc:18:9"
    assert (second.to, second.condition) == ("done", None)
    assert refund.operation == "component.exec" and refund.sibling_operation == "refund"
    assert refund.in_map == {"order": "{{in.event.payload.id}}"} and refund.input_mapping == refund.in_map
    assert refund.config == {"component": "repo://acme/refunds"}
    assert done.routing == "out" and done.input_mapping == {"status": 200}


def test_entry_is_start_else_in_else_the_first_node():
    two = "id: f\ntype: messaging\nnodes:\n  a: {emit.log: {}}\n  in: {emit.log: {}}\n"
    assert load_text(two).flow.entry == "in"
    assert load_text(two.replace("  in:", "  b:")).flow.entry == "a"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "id: f\ntype: webhook\nnodes:\n  a: {emit.log: {}}\n",
            "flows/x.ygtc:2:7: unknown flow type 'webhook' (the JSON schema lists it, but Greentic's compiler refuses it); use one of: messaging, event, events, component-config, job, http",
        ),
        (
            "id: f\ntype: evnets\nnodes:\n  a: {emit.log: {}}\n",
            "flows/x.ygtc:2:7: unknown flow type 'evnets' — did you mean 'events'?; use one of",
        ),
        ("id: f\nnodes:\n  a: {emit.log: {}}\n", "flows/x.ygtc:1:1: missing `type:` (one of: messaging"),
        ("type: events\nnodes:\n  a: {emit.log: {}}\n", "flows/x.ygtc:1:1: missing `id:`"),
        (
            "id: f\ntype: events\nnodes:\n  x:\n    qa.process: {}\n    mcp.exec: {}\n",
            "flows/x.ygtc:5:5: node 'x' must contain exactly one operation key (found: qa.process, mcp.exec); split it into one node per operation",
        ),
        (
            "id: f\ntype: events\nnodes:\n  x:\n    routing: out\n",
            "flows/x.ygtc:5:5: node 'x' must contain exactly one operation key (found: none); add the operation",
        ),
        (
            "id: f\ntype: events\nnodes:\n  x:\n    emit.log: {}\n    next: y\n  y: {emit.log: {}}\n",
            "flows/x.ygtc:5:5: node 'x' must contain exactly one operation key (found: emit.log, next); `next:` is not a Greentic key",
        ),
        (
            "id: f\ntype: events\nnodes:\n  menu:\n    emit.log: {}\n    routing:\n      - to: nowhere\n",
            "flows/x.ygtc:7:9: routing arm of node 'menu' names a missing node 'nowhere' (nodes: menu)",
        ),
        (
            "id: f\ntype: events\nnodes:\n  menu:\n    emit.log: {}\n    routing: sideways\n",
            "flows/x.ygtc:6:14: invalid routing shorthand 'sideways' in node 'menu'",
        ),
        ("id: f\ntype: events\nnodes:\n  - id: a\n", "flows/x.ygtc:4:3: `nodes` must be a mapping from node id to node"),
        ("id: f\ntype: events\nnodes:\n  9lives: {emit.log: {}}\n", "flows/x.ygtc:4:3: invalid node id '9lives'"),
        (
            "id: f\ntype: events\nnodes:\n  a: {emit.log: {}}\n  a: {emit.log: {}}\n",
            "flows/x.ygtc:5:3: duplicate key 'a' in `nodes` (first at line 4)",
        ),
        (
            "id: f\ntype: events\nnodes:\n  a:\n    emit.log: {message: 'x {{#if x}}'}\n",
            "flows/x.ygtc:5:28: node 'a': template: `{{#if}}` is never closed",
        ),
        (
            "id: f\ntype: events\nnodes: {a: {emit.log: {}}}\nschema_version: zero\n",
            "flows/x.ygtc:4:17: `schema_version` must be a whole number",
        ),
        (
            "id: f\ntype: events\nnodes:\n  a:\n    emit.log: {}\n    routing:\n      - {condition: x == 1, to: out}\n",
            "flows/x.ygtc:7:29: `to: out` inside a conditional routing list of node 'a'",
        ),
        ("id: f\ntype: events\nnodes:\n  a: [1]\n", "flows/x.ygtc:4:6: node 'a' must be a mapping, found a list"),
        (
            "id: f\ntype: events\nnodes:\n  a: {emit.log: {}, routing: [{to: 3, out: yes please}]}\n",
            "flows/x.ygtc:4:44: `out` of a routing arm must be true or false",
        ),
        ("id: f\ntype: events\nnodes: {a: {emit.log: {\n", "flows/x.ygtc:4:1: YAML syntax error"),
        ("", "flows/x.ygtc:1:1: the file is empty"),
        ('id: f\ntype: job\nnodes:\n  a:\n    "emit log": {}\n', "flows/x.ygtc:5:5: node 'a': 'emit log' is not an operation name"),
        (
            "id: f\ntype: job\nnodes:\n  a:\n    state.get: {value: 1}\n",
            "flows/x.ygtc:5:5: node 'a': `state.get` needs `key` (e.g. `state.get: {key: counter}`)",
        ),
        (
            "id: f\ntype: job\nnodes:\n  a:\n    flow.call: other\n",
            "flows/x.ygtc:5:16: node 'a': `flow.call` takes a mapping (flow_id, flow), found a string",
        ),
        ("id: f\ntype: job\nnodes:\n  a:\n    var.set: {value: 1}\n", "flows/x.ygtc:5:5: node 'a': `var.set` needs `name`"),
    ],
)
def test_errors_name_file_line_column_and_a_fix(text, expected):
    result = load_text(text, "flows/x.ygtc")
    assert result.flow is None
    assert any(p.startswith(expected) for p in problems(text)), problems(text)


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (
            "    routing:\n      - to: b\n        next: b\n",
            "7:9: warning: unknown key 'next' in a routing arm of node 'a'; the runner ignores it: write `to:` instead",
        ),
        (
            "    routing:\n      - condition: '{{entry.x}} == \"1\"'\n        to: b\n      - to: b\n",
            "6:9: warning: node 'a': condition `{{entry.x}} == \"1\"` uses `{{…}}`, which conditions do not render: it never matches (always false)",
        ),
        ("    routing:\n      - {condition: entry.x, to: b}\n", "6:10: warning: node 'a': condition `entry.x` has no operator"),
        (
            "    routing:\n      - {condition: \"entry.x == 'a'\", to: b}\n",
            "6:10: warning: node 'a': condition `entry.x == 'a'`: the runner keeps single quotes",
        ),
        (
            '    routing:\n      - to: b\n      - {condition: entry.x == "1", to: b}\n',
            "7:9: warning: node 'a': this arm comes after the default arm (arm 1, no condition) and is never reached",
        ),
        (
            '    routing:\n      - {condition: entry.x == "1", to: b}\n      - out: true\n',
            "7:9: warning: node 'a': the runner ignores `out`/`reply`/`status` arms in a conditional list",
        ),
        (
            "    routing:\n      - to: a\n      - to: b\n",
            "6:9: warning: node 'a' has 2 plain `to` arms: the runner goes to the last one ('b') only",
        ),
    ],
)
def test_warnings_for_what_the_runner_silently_ignores(node, expected):
    text = "id: f\ntype: events\nnodes:\n  a:\n" + node + "    emit.log: {}\n  b: {emit.log: {}}\n"
    # The operation key after routing is fine; routing may come first.
    result = load_text(text, "f.ygtc")
    assert result.flow is not None, problems(text)
    assert any(p.startswith("f.ygtc:" + expected) for p in problems(text, "f.ygtc")), problems(text, "f.ygtc")


def test_template_warnings_point_inside_the_string():
    text = 'id: f\ntype: events\nnodes:\n  a:\n    emit.log:\n      message: "days {{parameters.days}} {{forecast.payload.x}}"\n      both: "{{entry.a}} and {{entry.b}}"\n'
    found = problems(text, "f.ygtc")
    assert (
        "f.ygtc:6:24: warning: node 'a': 'parameters' is not in the runner's template context (entry, in, prev, node, state, vars, now); it renders empty"
        in found
    )
    assert any(
        p.startswith("f.ygtc:6:44: warning: node 'a': 'forecast' is not in the runner's template context") and "node.<id>" in p
        for p in found
    )
    assert any(p.startswith("f.ygtc:7:13: warning: node 'a': this text starts with `{{` and ends with `}}`") for p in found)


def test_reserved_key_after_the_operation_and_start_naming_no_node():
    text = "id: f\ntype: events\nstart: nope\nnodes:\n  a:\n    emit.log: {}\n    retry: 3\n"
    found = problems(text, "f.ygtc")
    assert any(p.startswith("f.ygtc:7:5: warning: 'retry' comes after the operation key 'emit.log'") for p in found)
    assert any(p.startswith("f.ygtc:3:8: warning: `start` names no node 'nope'") for p in found)
    assert load_text(text).flow is not None


def test_reserved_keys_are_not_operations():
    text = "id: f\ntype: events\nnodes:\n  a:\n    component.exec: {component: c}\n    operation: run\n    in_map: {x: 1}\n    out_map: {y: 2}\n    err_map: {z: 3}\n    conversational: true\n    meta: {k: v}\n"
    flow = load_text(text).flow
    assert flow is not None
    node = flow.nodes[0]
    assert (node.operation, node.sibling_operation, node.in_map, node.out_map, node.err_map) == (
        "component.exec",
        "run",
        {"x": 1},
        {"y": 2},
        {"z": 3},
    )
    assert node.reserved["conversational"] is True and node.reserved["meta"] == {"k": "v"}


def test_schema_version_1_allows_several_operation_keys_and_the_last_wins():
    text = "id: f\ntype: messaging\nschema_version: 1\nnodes:\n  a:\n    qa.process: {q: 1}\n    mcp.exec: {m: 2}\n"
    result = load_text(text, "f.ygtc")
    assert result.flow is not None and result.flow.schema_version == 1
    node = result.flow.nodes[0]
    assert (node.operation, node.config, node.other_operations) == ("mcp.exec", {"m": 2}, ("qa.process",))
    assert [str(p) for p in result.warnings] == [
        "f.ygtc:7:5: warning: node 'a' has several operation keys (qa.process, mcp.exec); with schema_version 1 the last one, 'mcp.exec', is the one that runs"
    ]


def test_a_flow_without_nodes_loads_with_a_warning():
    result = load_text("id: f\ntype: job\n", "f.ygtc")
    assert result.flow is not None and result.flow.nodes == () and result.flow.entry is None
    assert "no start node" in str(result.warnings[0])


def test_detector_tells_the_shapes_apart(tmp_path):
    assert detect_shape(ORDERS) == "greentic"
    assert detect_shape("id: f\ntype: events\n") == "greentic"
    assert detect_shape("name: x\nnodes:\n  - id: a\n    type: script\ntriggers: []\n") == "documented"
    assert detect_shape("name: x\ntype: events\n") == "documented"
    assert detect_shape("nodes: [\n") is None and detect_shape("- a\n") is None
    path = tmp_path / "orders.ygtc"
    path.write_text(ORDERS)
    assert detect_file(path) == "greentic" and detect_file(tmp_path / "missing.ygtc") is None


def test_load_file_reads_and_refuses_bad_bytes(tmp_path):
    path = tmp_path / "orders.ygtc"
    path.write_text(ORDERS)
    assert load_file(path, "orders.ygtc").flow.file == "orders.ygtc"
    bad = tmp_path / "bad.ygtc"
    bad.write_bytes(b"id: f\ntype: events\n\xff\n")
    assert [str(p) for p in load_file(bad, "bad.ygtc").problems] == ["bad.ygtc:3:1: not UTF-8 text; save the file as UTF-8"]
    assert "cannot read" in str(load_file(tmp_path / "none.ygtc").problems[0])
