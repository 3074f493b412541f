"""Bad input never crashes the Greentic loaders: YAML 1.2 values as the Rust tools read them,
values with no JSON form refused at their position, and arbitrary text yields problems, not exceptions."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.greentic.document import detect_shape, load_text
from inspector.greentic.mocks import load_mocks_text
from inspector.greentic.pack import load_pack_manifest, load_sidecar
from tests.conftest import fuzz_examples


def test_yaml_1_2_values_mean_what_they_mean_in_greentic():
    text = "id: f\ntype: job\nnodes:\n  no:\n    emit.log: {ok: yes, when: 12:30, day: 2026-01-01, n: 010, hex: 0x1f, on: off}\n"
    flow = load_text(text).flow
    assert flow is not None and flow.node_ids == ("no",)
    assert flow.nodes[0].config == {"ok": "yes", "when": "12:30", "day": "2026-01-01", "n": 10, "hex": 31, "on": "off"}


def test_values_without_a_json_form_are_errors_at_their_position():
    found = [str(p) for p in load_text("id: f\ntype: job\nnodes:\n  a:\n    emit.log: {blob: !!binary aGk=, x: .inf}\n", "f.ygtc").problems]
    assert found[0].startswith("f.ygtc:5:22: the tag tag:yaml.org,2002:binary has no JSON value")
    mocks = [str(p) for p in load_mocks_text("f:\n  a:\n    output: !custom 1\n", "m.yaml")[1]]
    assert mocks == ["m.yaml:3:13: mock f/a: the tag !custom has no JSON value; use strings, numbers, booleans, lists and mappings"]


yaml_text = st.lists(
    st.sampled_from(
        [
            "id: f\n",
            "type: events\n",
            "type: job\n",
            "nodes:\n",
            "  a:\n",
            "  b:\n",
            "    emit.log: {m: '{{entry.x}}'}\n",
            "    routing:\n",
            "      - to: b\n",
            "      - condition: x == 1\n",
            "    flow.call: {flow_id: f}\n",
            "schema_version: 1\n",
            "start: a\n",
            "  - x\n",
            "&a [*a]\n",
            "!!binary x\n",
            ": :\n",
            "\t",
            "{{",
            "'",
            '"',
            "? [1]\n: 2\n",
        ]
    )
    | st.text(max_size=6),
    max_size=16,
).map("".join)


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(text=yaml_text)
def test_arbitrary_flow_text_gives_problems_not_exceptions(text):
    result = load_text(text, "f.ygtc")
    assert result.flow is not None or result.errors
    for problem in result.problems:
        assert problem.position.line >= 1 and problem.position.column >= 1 and problem.message
    detect_shape(text)
    load_mocks_text(text, "m.yaml")


@settings(max_examples=fuzz_examples(80), deadline=None)
@given(
    text=yaml_text,
    data=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
        max_leaves=12,
    ),
)
def test_arbitrary_pack_files_and_sidecars_give_problems_not_exceptions(tmp_path_factory, text, data):
    root = tmp_path_factory.mktemp("p")
    (root / "pack.yaml").write_text(text)
    load_pack_manifest(root)
    sidecar = root / "s.resolve.json"
    sidecar.write_text(json.dumps({"nodes": data}) if isinstance(data, dict) else json.dumps(data))
    load_sidecar(sidecar, None)
    sidecar.write_text(text)
    load_sidecar(sidecar, None)


def test_a_value_that_contains_itself_is_an_error_not_a_hang():
    assert [str(p) for p in load_text("id: f\ntype: job\nnodes: &a {x: *a}\n", "f.ygtc").problems] == [
        "f.ygtc:3:8: this value contains itself through a YAML alias; write it out"
    ]
    assert [str(p) for p in load_mocks_text("f: &a [*a]\n", "m.yaml")[1]] == [
        "m.yaml:1:4: this value contains itself through a YAML alias; write it out"
    ]


def test_an_alias_bomb_is_refused():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(7)
    )
    problems = [
        str(p)
        for p in load_text("id: f\ntype: job\nnodes:\n  n:\n    emit.log:\n      " + bomb.replace("\n", "\n      "), "f.ygtc").problems
    ]
    assert any("alias bomb" in p for p in problems)
