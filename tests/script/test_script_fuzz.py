"""No Python exception ever escapes: random token streams, random text and random
well-formed programs only ever produce a value or a ScriptError."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.script import Limits, ScriptError, compile, compile_expression, render_template
from inspector.script.lexer import PUNCTUATION
from inspector.script.stdlib import BUILTINS as _TABLE
from tests.conftest import fuzz_examples

LIMITS = Limits(max_operations=5_000, max_call_depth=16, max_string_bytes=4_096, max_collection_items=200)
SETTINGS = settings(max_examples=fuzz_examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCOPE_NAMES = ("event", "headers", "payload", "prev", "nodes", "state")
BUILTINS = (
    "len is_empty contains starts_with ends_with index_of to_upper to_lower trim split replace "
    "sub_string chars to_string to_int to_float parse_int parse_float keys values push pop insert "
    "remove map filter reduce find any all join sort reverse type_of to_json parse_json print debug "
    "now sha256 base64_encode base64_decode format format! abs min max range call Fn"
).split()

_ARITY = {name: (low, high) for name, (_, low, high) in _TABLE.items()}


def scope():
    headers = {"x-github-event": "push", "content-type": "application/json"}
    payload = {
        "type": "payment_intent.succeeded",
        "commits": [{"id": "a", "n": 1}, {"id": "b", "n": 2}],
        "n": 3,
        "f": 1.5,
        "s": "héllo",
        "flag": True,
        "none": None,
    }
    return {
        "event": {"payload": payload, "headers": headers},
        "headers": headers,
        "payload": payload,
        "prev": None,
        "nodes": {"a": 1},
        "state": {},
    }


def check(source: str, expression: bool = False) -> None:
    try:
        program = compile_expression(source) if expression else compile(source)
    except ScriptError as error:
        assert error.line is not None and error.column is not None and error.line >= 1 and error.column >= 1
        return
    try:
        value = program.run(scope(), LIMITS).value
    except ScriptError as error:
        assert error.line is not None and error.column is not None
        return
    json.dumps(value)  # JSON-shaped: no functions, no cycles


TOKENS = st.sampled_from(
    list(PUNCTUATION)
    + [
        "let",
        "const",
        "if",
        "else",
        "while",
        "loop",
        "for",
        "in",
        "break",
        "continue",
        "return",
        "fn",
        "true",
        "false",
        "x",
        "y",
        "f",
        "event",
        "headers",
        "payload",
        "state",
        "0",
        "1",
        "-1",
        "2.5",
        "9223372036854775807",
        '"s"',
        "'t'",
        "`a${x}b`",
        "``",
        "()",
        "[]",
        "#{}",
        "//c\n",
        "/*c*/",
        "format!",
        "\n",
        "|x|",
        "||",
        "?.",
        "!",
        "0x1f",
        "1e400",
        '"\\u{41}"',
        "`${",
        "}`",
        '"\\q"',
        "@",
        "#",
        "?",
        "$",
        "\\",
    ]
    + BUILTINS
)


@SETTINGS
@given(st.lists(TOKENS, max_size=40))
def test_random_token_streams(tokens):
    source = " ".join(tokens)
    check(source)
    check(source, expression=True)


@SETTINGS
@given(st.text(max_size=80))
def test_random_text(text):
    check(text)
    try:
        render_template("{{" + text + "}}", scope(), LIMITS)
        render_template(text, scope(), LIMITS)
    except ScriptError:
        pass


# ---- well-formed programs -------------------------------------------------------------------

NAMES = ("x", "y", "z")
literal = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str).map(lambda s: f"({s})"),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda f: f"({f!r})"),
    st.text(alphabet="ab {}$`é\\\"'\n", max_size=6).map(lambda s: json.dumps(s)),
    st.sampled_from(["true", "false", "()", "[]", "#{}", "[1, 2, 3]", '#{a: 1, "b-c": [2]}', "0..3", "1..=2"]),
)
atom = st.one_of(
    literal, st.sampled_from(NAMES + SCOPE_NAMES + ("payload.commits", "payload.s", "event.payload.n", "headers['X-GitHub-Event']", "nope"))
)


def extend(inner):
    binary = st.tuples(
        inner,
        st.sampled_from(
            [
                "+",
                "-",
                "*",
                "/",
                "%",
                "**",
                "==",
                "!=",
                "<",
                "<=",
                ">",
                ">=",
                "&&",
                "||",
                "??",
                "in",
                "!in",
                "&",
                "|",
                "^",
                "<<",
                ">>",
                "..",
            ]
        ),
        inner,
    ).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    unary = st.tuples(st.sampled_from(["-", "!", "+"]), inner).map(lambda t: f"{t[0]}({t[1]})")
    call = st.sampled_from(BUILTINS).flatmap(
        lambda name: st.lists(inner, min_size=_ARITY[name][0], max_size=min(_ARITY[name][1], 3)).map(
            lambda args: f"{name}({', '.join(args)})"
        )
    )
    method = st.sampled_from([b for b in BUILTINS if _ARITY[b][1] >= 1]).flatmap(
        lambda name: st.tuples(inner, st.lists(inner, min_size=max(_ARITY[name][0] - 1, 0), max_size=min(_ARITY[name][1] - 1, 2))).map(
            lambda t: f"({t[0]}).{name}({', '.join(t[1])})"
        )
    )
    prop = st.tuples(inner, st.sampled_from([".a", "?.a", ".n", "[0]", "[-1]", "?[1]", "['b-c']", "[x]"])).map(lambda t: f"({t[0]}){t[1]}")
    array = st.lists(inner, max_size=3).map(lambda xs: f"[{', '.join(xs)}]")
    map_ = st.lists(inner, max_size=3).map(lambda xs: "#{" + ", ".join(f"k{i}: {v}" for i, v in enumerate(xs)) + "}")
    if_ = st.tuples(inner, inner, inner).map(lambda t: f"if {t[0]} {{ {t[1]} }} else {{ {t[2]} }}")
    closure = st.tuples(st.sampled_from(["|x|", "|x, y|", "||"]), inner).map(lambda t: f"({t[0]} {t[1]})")
    interp = inner.map(lambda e: f"`v=${{{e}}}!`")
    block = st.tuples(st.sampled_from(NAMES), inner, inner).map(lambda t: f"{{ let {t[0]} = {t[1]}; {t[2]} }}")
    return st.one_of(binary, unary, call, method, prop, array, map_, if_, closure, interp, block)


expression = st.recursive(atom, extend, max_leaves=12)

statement = st.one_of(
    st.tuples(st.sampled_from(NAMES), expression).map(lambda t: f"let {t[0]} = {t[1]};"),
    st.tuples(st.sampled_from(NAMES), st.sampled_from(["=", "+=", "-=", "*=", "/="]), expression).map(lambda t: f"{t[0]} {t[1]} {t[2]};"),
    st.tuples(st.sampled_from(["state.a", "x[0]", "x.a", "payload.n"]), expression).map(lambda t: f"{t[0]} = {t[1]};"),
    st.tuples(st.sampled_from(NAMES), expression, expression).map(lambda t: f"for {t[0]} in {t[1]} {{ {t[2]}; }}"),
    st.tuples(expression, expression).map(lambda t: f"while {t[0]} {{ {t[1]}; break; }}"),
    expression.map(lambda e: f"loop {{ {e}; if true {{ break; }} }}"),
    expression.map(lambda e: f"print({e});"),
    expression.map(lambda e: f"{e};"),
    st.tuples(st.integers(0, 10**6), expression, expression).map(lambda t: f"fn g{t[0]}(x) {{ {t[1]} }} g{t[0]}({t[2]});"),
    st.integers(0, 10**6).map(lambda i: f"fn r{i}(n) {{ r{i}(n + 1) }} r{i}(0);"),
    st.just("let x = [1, 2, 3]; x.push(x); x.sort();"),
)


@SETTINGS
@given(st.lists(statement, max_size=6), expression)
def test_random_well_formed_programs(statements, tail):
    source = 'let x = 1; let y = [1, "a"]; let z = #{a: 1};\n' + "\n".join(statements) + "\n" + tail
    check(source)


@SETTINGS
@given(expression)
def test_random_well_formed_expressions(source):
    check(source, expression=True)
