"""Generated code joins short text itself (below `Context.free_text`) instead of calling
`values.joined`, renders integers itself and applies `len` itself. The reference is the same
generated code with `free_text` 0, where every join goes through `joined` as it did before:
values, errors, positions and the operation budget must not differ, at string limits around
the threshold and budgets around what the programs need."""

from __future__ import annotations

from unittest import mock

import pytest

from inspector.script import Limits, ScriptError, compile, compile_expression, values
from inspector.script import program as program_module
from inspector.script.values import free_text

SOURCES = [
    ('let commits = event.payload.commits ?? [];\nformat!("Received {} commits", commits.len())', False),
    ('format!("{}", payload.s)', False),
    ('format!("n={}!", payload.n)', False),
    ('format!("{}", payload.flag)', False),
    ('format!("[{}]", payload.none)', False),
    ('format!("{}", payload.f)', False),
    ('format!("{}", payload.data)', False),
    ('format!("{}", payload.long)', False),
    ('format!("{}{}", payload.long, payload.long)', False),
    ("`${payload.s}/${payload.n}/${payload.long}`", True),
    ("`${payload.long}${payload.long}${payload.long}${payload.long}${payload.long}`", True),
    ("`a${payload.n}b${payload.commits.len()}c`", True),
    ("`${payload.data}`", True),
    ("`${payload.wide}`", True),
    ('format!("{}é", payload.wide)', False),
    ("`${-9223372036854775807 - 1}`", True),
    ("`${payload.nope}`", True),
    ("`${payload}`.len()", True),
    ("payload.s.len() + payload.commits.len() + payload.data.len()", True),
    ("payload.n.len()", True),
    ("len(payload.none)", True),
    ("len(payload.flag)", True),
    # in scripts with effects, each pure expression is generated on its own and the budget
    # it leaves goes on to what follows
    ('let t = `<${payload.long}>`; print("x"); for i in 0..3 { t += "" } t', False),
    ('let t = format!("<{}>", payload.long); print("x"); for i in 0..3 { t += "" } t', False),
    ('let t = format!("{}", payload.commits.len()); print("x"); for i in 0..3 { t += "" } t', False),
]


def scope(long: int) -> dict:
    payload = {
        "s": "héllo",
        "n": 42,
        "f": 1.5,
        "flag": True,
        "none": None,
        "long": "x" * long,
        "wide": "\U0001f600" * long,  # four bytes a character: the size check counts bytes
        "data": {"a": [1, 2], "b": "c"},
        "commits": [{"id": i} for i in range(20)],
    }
    return {"event": {"payload": payload, "headers": {}}, "headers": {}, "payload": payload, "prev": None, "nodes": {}, "state": {}}


def outcome(program: program_module.Program, limits: Limits | None, long: int, method: str) -> tuple:
    s = scope(long)
    try:
        value = program.run(s, limits).value if method == "run" else program.evaluate(s, limits)
        return ("ok", repr(value))
    except ScriptError as error:
        return ("error", error.message, error.line, error.column)


def outcomes(source: str, expression: bool) -> list:
    program = (compile_expression if expression else compile)(source)
    found = []
    for long in (0, 10, 16, 17, 40, 63, 64, 65, 200, 300):
        found.append(outcome(program, None, long, "run"))
        for string_bytes in (0, 1, 4, 63, 64, 67, 68, 255, 256, 257, 1 << 20):
            for budget in range(24):
                limits = Limits(max_operations=budget, max_string_bytes=string_bytes)
                # the same Limits three times in a row: the later runs take the cached fast path
                found.extend(outcome(program, limits, long, method) for method in ("run", "evaluate", "run"))
    return found


def _never_free(limits: Limits) -> int:
    return 0


@pytest.mark.parametrize(("source", "expression"), SOURCES, ids=[s[:40] for s, _ in SOURCES])
def test_text_joined_in_generated_code_is_what_joined_gives(source, expression):
    got = outcomes(source, expression)
    with mock.patch.object(program_module, "free_text", _never_free), mock.patch.object(values.Context, "free_text", 0):
        expected = outcomes(source, expression)
    assert got == expected


def test_the_bench_script_is_generated_whole_and_needs_no_context():
    program = compile('let commits = event.payload.commits ?? [];\nformat!("Received {} commits", commits.len())')
    assert program._program is not None
    with mock.patch.object(values.Context, "__init__", side_effect=AssertionError("a Context was made")):
        assert program.run(scope(0)).value == "Received 20 commits"


@pytest.mark.parametrize("string_bytes", [0, 1, 3, 4, 5, 63, 64, 255, 256, 257, 1 << 20])
def test_free_text_is_never_charged_nor_checked_by_joined(string_bytes):
    limits = Limits(max_operations=0, max_string_bytes=string_bytes)
    c = values.Context()
    c.limits = limits
    for size in range(free_text(limits)):
        assert values.joined(c, ["x" * size]) == "x" * size
    assert c.budget == values.Context.budget
