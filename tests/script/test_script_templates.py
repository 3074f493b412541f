"""`{{ expr }}` templates (SPEC §6): whole-value templates keep their type, mixed text renders."""

import pytest

from inspector.script import ScriptError, compile_template, render_template

SCOPE = {
    "event": {"payload": {"n": 3, "items": [1, 2], "name": "x"}, "headers": {"x-a": "1"}},
    "headers": {"x-a": "1"},
    "payload": {"n": 3},
    "prev": None,
    "nodes": {},
    "state": {},
}

CASES = [
    ("{{event.payload}}", SCOPE["event"]["payload"]),
    ("{{ event.payload.n }}", 3),
    ("  {{ event.payload.n }}\n", 3),
    ("{{ prev }}", None),
    ("{{ event.payload.n > 2 }}", True),
    ("{{ [1, 2] }}", [1, 2]),
    ("{{ #{a: #{b: 1}} }}", {"a": {"b": 1}}),
    ('{{ "}}" }}', "}}"),
    ("n={{ event.payload.n }}", "n=3"),
    ("{{ 1 }}{{ 2 }}", "12"),
    ("items: {{ event.payload.items }}", "items: [1,2]"),
    ("x{{ prev }}y", "xy"),
    ("{{ event.payload.name }} and {{ headers['X-A'] }}", "x and 1"),
    ("no braces", "no braces"),
    ("a { b } c", "a { b } c"),
    ("{{ `t${1}` }}!", "t1!"),
    ("line1\n{{ 1 + 1 }}", "line1\n2"),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_render(text, expected):
    value = render_template(text, SCOPE)
    assert value == expected and type(value) is type(expected)


def test_text_without_braces_is_returned_unchanged():
    text = "plain"
    assert render_template(text, SCOPE) is text


@pytest.mark.parametrize(
    ("text", "fragment", "line", "column"),
    [
        ("{{ nope }}", "unknown variable 'nope'", 1, 4),
        ("ab\ncd {{ 1 + }}", "expected an expression", 2, 11),
        ("x {{ 1 ", "unterminated '{{'", 1, 3),
        ("{{ }}", "empty '{{ }}'", 1, 4),
        ("{{ 1 2 }}", "expected '}}' to close the template expression", 1, 6),
        ("{{ event.payload.n.x }}", "cannot read property 'x' of i64", 1, 20),
    ],
)
def test_template_errors_have_positions(text, fragment, line, column):
    with pytest.raises(ScriptError) as caught:
        render_template(text, SCOPE, origin="flow.ygtc")
    assert fragment in caught.value.message
    assert (caught.value.line, caught.value.column) == (line, column), str(caught.value)
    assert caught.value.origin == "flow.ygtc"


def test_template_offsets():
    with pytest.raises(ScriptError) as caught:
        render_template("{{ nope }}", SCOPE, origin="f.ygtc", line_offset=9, column_offset=15)
    assert (caught.value.line, caught.value.column) == (10, 19)


def test_compiled_template_is_reusable():
    template = compile_template("{{ payload.n * 2 }} items")
    assert template.render({"payload": {"n": 2}}) == "4 items"
    assert template.render({"payload": {"n": 5}}) == "10 items"
