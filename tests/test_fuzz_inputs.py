"""Random answers.json and random .ygtc text: only clear errors with a place, never a crash."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.config import ConfigError, parse_config
from inspector.flow import load_text
from tests.conftest import fuzz_examples

FUZZ = fuzz_examples(150)

json_scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False) | st.text(max_size=20)
known_keys = st.sampled_from(
    [
        "enabled",
        "public_base_url",
        "secret_header",
        "secret_key",
        "signatures",
        "enforce",
        "max_body_bytes",
        "ack_timeout_seconds",
        "header",
        "algorithm",
        "secret",
        "tolerance",
        "stripe",
        "github",
        "${X}",
        "_c",
    ]
)
json_values = st.recursive(
    json_scalars | st.sampled_from(["${HOME}", "${NOPE}", "${}", "whsec_%%", "sha256", "stripe", "https://x"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(known_keys | st.text(max_size=8), inner, max_size=5),
    max_leaves=25,
)


@settings(max_examples=FUZZ, deadline=None)
@given(st.one_of(json_values, st.dictionaries(st.just("events-webhook"), json_values, min_size=1)))
def test_random_answers_json(data):
    try:
        config = parse_config(json.dumps(data), "answers.json", {"HOME": "/root"})
    except ConfigError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.file == "answers.json" and p.message
            assert p.path == "" or p.path.split(".")[0] in ("events-webhook",) or p.line is not None or isinstance(data, dict)
        return
    for problem in config.entry_errors:
        assert problem.path.startswith("events-webhook.signatures.")


@settings(max_examples=FUZZ, deadline=None)
@given(st.text(max_size=300))
def test_random_text_as_answers_json(text):
    try:
        parse_config(text, "answers.json", {})
    except ConfigError as exc:
        assert all(p.message for p in exc.problems)


yaml_atoms = st.sampled_from(
    [
        "name: f\n",
        "nodes:\n",
        "  - id: a\n",
        "  - id: b\n",
        "    type: script\n",
        "    type: branch\n",
        "    type: http_response\n",
        "    type: async\n",
        "    type: nope\n",
        "    config:\n",
        "      script: |\n",
        "        let x = 1;\n",
        "        x +\n",
        "      conditions:\n",
        '        - expression: "a == 1"\n',
        "          next: b\n",
        "      default: a\n",
        "      status: 200\n",
        '      body: "{{ prev }}"\n',
        "      flow: f\n",
        "    next: b\n",
        "    to: a\n",
        "triggers:\n",
        "  - type: event\n",
        '    event_type: "*"\n',
        "    target: a\n",
        "\t",
        "- ",
        ": ",
        "{",
        "}",
        "[",
        "]",
        "&a ",
        "*a\n",
        "---\n",
        "'",
        '"',
        "{{",
        "}}",
        "#",
        "\n",
        "!!python/object:os.system ''\n",
    ]
)


@settings(max_examples=FUZZ, deadline=None)
@given(st.lists(yaml_atoms, max_size=30).map("".join) | st.text(max_size=200))
def test_random_yaml_flows(text):
    flow, problems = load_text(text, "f.ygtc")
    for p in problems:
        assert p.position.file == "f.ygtc" and p.position.line >= 1 and p.position.column >= 1 and p.message
    if flow is None:
        assert any(p.severity == "error" for p in problems)
