"""A block tag, `{{else}}` or a comment alone on its line takes the line with it: its indent and
its newline (handlebars-rust since 4.0, sunng87/handlebars-rust#448, as handlebars.js; Greentic
pins handlebars 6). Before, a `{{#each}}` list rendered with a blank line per tag. (A whole
string that starts with `{{` and ends with `}}` is the runner's exact-expression case, tested
elsewhere: these texts avoid it.)"""

from __future__ import annotations

import pytest

from inspector.greentic.template import render_string

CASES = [
    ("a\n{{#if x}}\nb\n{{/if}}\nc", {"x": True}, "a\nb\nc"),
    ("a\n{{#if x}}\nb\n{{/if}}\nc", {"x": False}, "a\nc"),
    ("list:\n  {{#each l}}\n  - {{this}}\n  {{/each}}\n", {"l": [1, 2]}, "list:\n  - 1\n  - 2\n"),
    ("{{#if x}}\nyes\n{{else}}\nno\n{{/if}}\nend", {"x": False}, "no\nend"),
    ("{{#if x}}\nyes\n  {{^}}  \nno\n{{/if}}\nend", {"x": True}, "yes\nend"),
    ("a\n{{! a note }}\nb", {}, "a\nb"),
    ("a\n  {{!-- a {{note}} --}}\nb", {}, "a\nb"),
    ("a\r\n{{#if x}}\r\nb\r\n{{/if}}\r\n", {"x": True}, "a\r\nb\r\n"),
    ("last\n  {{#if x}}x{{/if}}", {"x": True}, "last\n  x"),  # not alone: kept
    ("a {{#if x}}b{{/if}} c", {"x": True}, "a b c"),
    ("a\n{{x}}\nb", {"x": 1}, "a\n1\nb"),  # a value is never standalone
    ("a\n{{{x}}}\nb", {"x": 1}, "a\n1\nb"),
    ("{{#with o}}\n{{name}}\n{{/with}}\n.", {"o": {"name": "n"}}, "n\n."),
]


@pytest.mark.parametrize("template, context, expected", CASES)
def test_standalone_tags_take_their_line(template, context, expected):
    assert render_string(template, context) == expected
