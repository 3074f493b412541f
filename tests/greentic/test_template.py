"""The runner's templating rules (docs/greentic-shape.md §4): its own test cases (§4.4), the
derived surprises (§4.1), the Handlebars subset, and hypothesis: only `TemplateError` ever escapes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.greentic.template import (
    CONTEXT_NAMES,
    TemplateError,
    check_template,
    entry_view,
    exact_path,
    render_string,
    render_value,
    resolve_pointer,
    stringify,
    template_context,
)
from tests.conftest import fuzz_examples

NOW = datetime(2026, 9, 9, 10, 53, 4, 250000, tzinfo=UTC)
ATTACHMENTS = [
    {"mime_type": "application/pdf", "url": "artifact://d", "name": "d.pdf", "text": "hello world"},
    {"mime_type": "image/png", "url": "artifact://i", "name": "i.png"},
]
SUBMITTED = {"input": {"metadata": {"action": "submit", "company_size": "11-50"}, "text": "hi"}, "tenant": "acme", "correlation_id": "c-1"}
DEMO = {"company_size": "11-50", "metadata": {"action": "submit", "email": "a@b.c"}, "text": "hi"}
CLOBBER = {"input": {"metadata": {"tenant": "evil", "company_size": "11-50"}}, "tenant": "acme"}


def ctx(entry=None, **kw):
    return template_context(entry if entry is not None else {}, now=NOW, **kw)


# (number in §4.4, template, context, expected)
RUNNER_CASES = [
    (
        1,
        {"prev_text": "{{prev.text}}", "user_id": "{{node.start.user.id}}"},
        ctx(prev={"text": "hello"}, outputs={"start": {"user": {"id": 7}}}),
        {"prev_text": "hello", "user_id": 7},
    ),
    (2, "{{entry.enabled}}", ctx({"enabled": True, "count": 3}), True),
    (3, "{{entry.count}}", ctx({"enabled": True, "count": 3}), 3),
    (4, "{{entry.input.metadata.provider}}", ctx({"input": {"metadata": {"user_question": "what"}}}), ""),
    (5, "https://x/{{entry.user_id}}", ctx({"user_id": 42}), "https://x/42"),
    (6, "{{entry.attachments[0].text}}", ctx({"attachments": ATTACHMENTS}), "hello world"),
    (7, "{{entry.attachments}}", ctx({"attachments": ATTACHMENTS}), ATTACHMENTS),
    (8, "{{entry.attachments[1].url}}", ctx({"attachments": ATTACHMENTS}), "artifact://i"),
    (
        9,
        "{{in.extensions.attachment_notes}}",
        ctx({"extensions": {"attachment_notes": [{"code": "too_large", "message": "over 10 MB"}]}}),
        [{"code": "too_large", "message": "over 10 MB"}],
    ),
    (
        10,
        "{{in.extensions.artifacts}}",
        ctx({"extensions": {"artifacts": [{"sha256": "aa", "kind": "document", "text_ref": None}]}}),
        [{"sha256": "aa", "kind": "document", "text_ref": None}],
    ),
    (
        11,
        ["{{in.extensions.artifacts}}", "{{in.extensions.attachment_notes}}", "{{in.attachments}}"],
        {"entry": {"attachments": []}, "in": {}},
        ["", "", ""],
    ),
    (12, "{{entry.attachments[0].text}}", ctx({"attachments": []}), ""),
    (13, ["{{entry.company_size}}", "{{in.company_size}}"], ctx(SUBMITTED), ["11-50", "11-50"]),
    (14, ["{{entry.input.metadata.company_size}}", "{{in.input.metadata.company_size}}"], ctx(SUBMITTED), ["11-50", "11-50"]),
    (15, ["{{entry.tenant}}", "{{entry.correlation_id}}"], ctx(SUBMITTED), ["acme", "c-1"]),
    (16, ["{{entry.input.text}}", "{{entry.input.metadata.action}}"], ctx(SUBMITTED), ["hi", "submit"]),
    (
        17,
        ["{{entry.company_size}}", "{{entry.email}}", "{{entry.metadata.email}}", "{{entry.text}}"],
        ctx(DEMO),
        ["11-50", "a@b.c", "a@b.c", "hi"],
    ),
    (18, ["{{entry.tenant}}", "{{entry.company_size}}"], ctx(CLOBBER), ["acme", "11-50"]),
    (19, "{{vars.count}}", ctx(vars={"count": 5}), 5),
    (20, "prefix-{{vars.name}}", ctx(vars={"name": "aws"}), "prefix-aws"),
    (22, "{{now}}", ctx(), {"iso": "2026-09-09T10:53:04.250Z", "epoch_ms": 1788951184250, "date": "2026-09-09"}),
    (23, "{{now.epoch_ms}}", ctx(), 1788951184250),
    (24, {"a": "{{now.iso}}", "b": "{{now.iso}}"}, ctx(), {"a": "2026-09-09T10:53:04.250Z", "b": "2026-09-09T10:53:04.250Z"}),
    (25, {"hs_timestamp": "{{now.iso}}"}, ctx(), {"hs_timestamp": "2026-09-09T10:53:04.250Z"}),
    (
        30,
        ["{{node.forecast.temp}}", "{{node.forecast.data.temp}}", "{{node.forecast.errors}}", "{{state.nodes.forecast.payload.temp}}"],
        ctx(outputs={"forecast": {"temp": "20C"}}, state={"nodes": {"forecast": {"ok": True, "payload": {"temp": "20C"}}}}),
        ["20C", "20C", [], "20C"],
    ),
]


@pytest.mark.parametrize(("number", "template", "context", "expected"), RUNNER_CASES, ids=[f"case{c[0]}" for c in RUNNER_CASES])
def test_the_runner_s_own_template_cases(number, template, context, expected):
    assert render_value(template, context) == expected


def test_case21_every_context_name_is_present():
    assert set(ctx()) == set(CONTEXT_NAMES) == {"entry", "in", "prev", "node", "state", "vars", "now"}


def test_case23_epoch_ms_is_a_number_and_case25_parses_as_rfc3339():
    assert isinstance(render_string("{{now.epoch_ms}}", ctx()), int)
    assert datetime.fromisoformat(render_string("{{now.iso}}", ctx()).replace("Z", "+00:00")) == NOW


def test_case31_input_alias():
    view = entry_view({"text": "hi", "metadata": {"operation": "get_weather"}})
    assert resolve_pointer(view, "/input/metadata/operation") == "get_weather"
    already = {"input": {"x": 1}, "text": "t"}
    assert entry_view(already)["input"] == {"x": 1}
    assert entry_view("text") == "text" and entry_view(None) is None


# Cases 26-29 (vars_init, var.set, vars_out) go through the runner: tests/greentic/test_runner.py.


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{entry.a}} and {{entry.b}}", ""),  # one "path" from the first {{ to the last }}
        ("{{#if entry.a}}yes{{/if}}", ""),
        (" {{#if entry.a}}yes{{/if}}.", " yes."),
        ("x {{entry.list}}", "x [1, 2, ]"),
        ("x {{entry.obj}}", "x [object]"),
        ("x {{entry.nothing}}|{{entry.null}}|{{entry.t}}|{{entry.f}}|{{entry.n}}", "x ||true|false|1.5"),
        ("<{{entry.html}}>", "<<b>&</b>>"),  # never escaped
        ("{{{entry.html}}}!", "<b>&</b>!"),
        ("  {{ entry.a }}  ", 1),  # an exact expression keeps the type and loses the spaces
        ("{{{entry.a}}}", 1),
        ("{{ this.entry.a }}", 1),
        ('{{entry["odd key"]}}', "v"),
        ("{{entry.list[1]}}", 2),
    ],
)
def test_derived_rules(template, expected):
    context = {
        "entry": {
            "a": 1,
            "b": 2,
            "list": [1, 2],
            "obj": {"k": 1},
            "null": None,
            "t": True,
            "f": False,
            "n": 1.5,
            "html": "<b>&</b>",
            "odd key": "v",
        }
    }
    assert render_string(template, context) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("- {{#each entry.items}}{{@index}}:{{this.name}}{{#if @last}}.{{else}}, {{/if}}{{/each}}", "- 0:a, 1:b."),
        ("- {{#each entry.map}}{{@key}}={{this}};{{/each}}", "- x=1;y=2;"),
        ("- {{#each entry.empty}}x{{else}}none{{/each}}", "- none"),
        ("- {{#with entry.user}}{{name}} ({{../entry.a}}){{/with}}", "- Ann (1)"),
        ("- {{#unless entry.f}}not f{{/unless}}", "- not f"),
        (
            "- {{#if entry.none}}y{{else}}empty object{{/if}} {{#if entry.zero}}y{{else}}zero{{/if}} {{#with entry.none}}y{{else}}w{{/with}}",
            "- empty object zero w",
        ),
        ("- {{#if entry.f}}f{{else if entry.a}}a{{else}}none{{/if}}", "- a"),
        ("- {{#if (eq entry.a 1)}}one{{/if}} {{#if (gt entry.a 5)}}big{{else}}small{{/if}}", "- one small"),
        ("- {{lookup entry.items 1}} {{lookup entry.map 'y'}}", "- [object] 2"),
        ("- {{#each entry.items as |item i|}}{{i}}{{item.name}}{{/each}}", "- 0a1b"),
        ("- {{#entry.user}}{{name}}{{/entry.user}}", "- Ann"),
        ("- {{! a comment }}{{!-- and {{this}} --}}x", "- x"),
        ("- a {{~entry.a~}} b", "- a1b"),
        ("- \\{{entry.a}}", "- {{entry.a}}"),
        ("- {{len entry.items}} {{not entry.f}} {{and entry.a entry.t}} {{or entry.f entry.null}}", "- 2 true true false"),
        ("- {{entry.items.[1].name}} {{entry.items.0.name}} {{@root.entry.a}}", "- b a 1"),
    ],
)
def test_the_handlebars_subset(template, expected):
    context = {
        "entry": {
            "a": 1,
            "f": False,
            "t": True,
            "null": None,
            "items": [{"name": "a"}, {"name": "b"}],
            "map": {"x": 1, "y": 2},
            "empty": [],
            "user": {"name": "Ann"},
        }
    }
    assert render_string(template, context) == expected


@pytest.mark.parametrize(
    ("template", "line", "column", "words"),
    [
        ("hello {{entry.name", 1, 7, "unclosed `{{`"),
        ("a {{#if entry.x}}b", 1, 3, "`{{#if}}` is never closed"),
        ("x {{#if a}}y{{/each}}", 1, 13, "closes `{{#if}}`"),
        ("x {{/if}}", 1, 3, "closes no open block"),
        ("line one\n  {{shout entry.name}} x", 2, 5, "unknown helper 'shout'"),
        ("x {{> partial}}", 1, 3, "partials"),
        ("x {{}}", 1, 3, "empty"),
        ("x {{else}}", 1, 3, "outside a block"),
        ("x {{#if a b}}y{{/if}}", 1, 3, "exactly one parameter"),
        ("x {{eq (gt a}}", 1, 8, "never closed"),
    ],
)
def test_a_malformed_template_names_line_and_column(template, line, column, words):
    with pytest.raises(TemplateError) as caught:
        render_string(template, {})
    assert (caught.value.line, caught.value.column) == (line, column)
    assert words in caught.value.message
    assert check_template(template) is not None


def test_pointer_mode():
    context = {"prev": {"items": [{"id": "a/b"}]}, "vars": {"x~y": 1}}
    assert render_string("/prev/items/0/id", context, pointer=True) == "a/b"
    assert render_string("/vars/x~0y", context, pointer=True) == 1
    assert render_string("/prev/items", context) == "/prev/items"  # only in pointer mode
    with pytest.raises(TemplateError, match="mapping path `/prev/missing` not found"):
        render_string("/prev/missing", context, pointer=True)


def test_exact_path_syntax():
    assert exact_path("a.b[0]['k'][\"j\"][x]") == ["a", "b", 0, "k", "j", "x"]
    assert exact_path("this.a") == ["a"]
    assert exact_path(" a . b ") == ["a", "b"]
    assert exact_path("a..b") is None and exact_path("a[0") is None and exact_path("") is None


def test_stringify_matches_handlebars_rust():
    assert stringify([1, [2, "x"], {"a": 1}, None]) == "[1, [2, x, ], [object], , ]"
    assert stringify(2.0) == "2.0" and stringify(10) == "10"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)
template_text = st.lists(
    st.sampled_from(
        [
            "{{",
            "}}",
            "{{{",
            "}}}",
            "#if ",
            "#each ",
            "/if",
            "/each",
            "else",
            "entry",
            ".",
            "[0]",
            "a",
            " ",
            "~",
            "!",
            "(",
            ")",
            '"',
            "this",
            "@index",
            "../",
            "\n",
            "x",
        ]
    )
    | st.text(max_size=4),
    max_size=14,
).map("".join)


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(template=template_text, entry=json_values)
def test_never_raises_anything_but_template_error(template, entry):
    context = {"entry": entry, "in": entry, "prev": {}, "node": {}, "state": {}, "vars": {}}
    try:
        render_value({"t": template, "l": [template]}, context)
        render_string(template, context, pointer=True)
    except TemplateError as exc:
        assert exc.line >= 1 and exc.column >= 1 and exc.message


@settings(max_examples=fuzz_examples(100), deadline=None)
@given(entry=json_values)
def test_an_exact_expression_keeps_any_value(entry):
    assert render_string("{{entry}}", {"entry": entry}) == entry
