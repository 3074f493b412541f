"""The fast paths give what the general path gives: a side-effect-free program run as one
generated function (`Program.run`/`evaluate`), closures without side effects called by
`map`/`filter`/`any`/`all`/`find` on one reused frame with their charges taken at once, and
generated sub-expressions restarting their closure twin from the budget they started with.

The reference is the same program compiled and run with every fast path switched off: the
closure interpreter alone. Each comparison covers the value (or the error's message and
position), the logs, the scope afterwards, and the operation budget (through the outcome
under several `max_operations`)."""

from __future__ import annotations

import json
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.script import Limits, ScriptError, compile, compile_expression, stdlib
from inspector.script import compiler as compiler_module
from inspector.script.codegen import PURE_BUILTINS
from inspector.script.stdlib import BUILTINS as _TABLE
from tests.conftest import fuzz_examples
from tests.script.test_script_fuzz import expression as any_expression
from tests.script.test_script_fuzz import statement as any_statement

SETTINGS = settings(max_examples=fuzz_examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
_ARITY = {name: (low, high) for name, (_, low, high) in _TABLE.items()}


@contextmanager
def general_path():
    """Compile and run with no generated code and no quick closure calls."""
    with (
        mock.patch.object(compiler_module, "generate", lambda *a, **k: None),
        mock.patch.object(compiler_module, "generate_program", lambda *a, **k: None),
        mock.patch.object(stdlib, "_quick", lambda *a: None),
    ):
        yield


def scope() -> dict:
    headers = {"X-GitHub-Event": "push", "content-type": "application/json"}
    commits = [{"id": f"c{i}", "n": i, "message": f"fix #{i}", "author": {"username": "octocat" if i % 3 else "hubot"}} for i in range(6)]
    payload = {
        "type": "payment_intent.succeeded",
        "commits": commits,
        "n": 3,
        "f": 1.5,
        "s": "héllo",
        "flag": True,
        "none": None,
        "data": {"object": {"amount": 2000, "currency": "usd"}},
    }
    return {
        "event": {"payload": payload, "headers": headers},
        "headers": headers,
        "payload": payload,
        "prev": None,
        "nodes": {"a": 1},
        "state": {},
    }


def _dump(value: object) -> str:
    return json.dumps(value, sort_keys=True)  # tells 1, 1.0 and true apart


def outcome(program, limits: Limits | None = None, method: str = "run", clock=None) -> tuple:
    s = scope()
    try:
        if method == "run":
            result = program.run(s, limits, clock=clock)
            return "ok", _dump(result.value), result.logs, _dump(s)
        return "ok", _dump(program.evaluate(s, limits)), _dump(s)
    except ScriptError as error:
        return "error", error.message, error.line, error.column, error.logs, _dump(s)


def outcomes(program, budgets: list[int]) -> list:
    """Outcomes without limits, then under each budget; each Limits object is used three
    times in a row, as a flow does (the second run onwards may take a cached fast path)."""
    found = [outcome(program), outcome(program, method="evaluate")]
    for budget in budgets:
        limits = Limits(max_operations=budget, max_string_bytes=64, max_collection_items=50)
        for method in ("run", "run", "evaluate", "run", "evaluate"):
            found.append(outcome(program, limits, method))
    return found


class _Frozen(datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def assert_same(source: str, expression: bool = False, budgets: tuple[int, ...] = (0, 3, 8, 20, 60, 200)) -> None:
    with mock.patch.object(stdlib, "datetime", _Frozen):  # now() gives the same in both
        _assert_same(source, expression, budgets)


def _assert_same(source: str, expression: bool, budgets: tuple[int, ...]) -> None:
    build = compile_expression if expression else compile
    try:
        fast = build(source)
    except ScriptError as error:
        with general_path(), pytest.raises(ScriptError) as caught:
            build(source)
        reference = caught.value
        assert (reference.message, reference.line, reference.column) == (error.message, error.line, error.column)
        return
    got = outcomes(fast, list(budgets))
    with general_path():
        reference = build(source)
        expected = outcomes(reference, list(budgets))
    assert got == expected, source


def least_budget(source: str, reference: bool, expression: bool = False) -> int | None:
    """The smallest max_operations a program succeeds with (None: it fails anyway), compiled
    and run with the fast paths or (`reference`) without."""

    def ok(budget: int) -> bool:
        limits = Limits(max_operations=budget)
        results = [outcome(program, limits)[0] for _ in range(3)]
        assert len(set(results)) == 1
        return results[0] == "ok"

    with general_path() if reference else nullcontext():
        program = (compile_expression if expression else compile)(source)
        if not ok(10_000):
            return None
        low, high = 0, 10_000
        while low < high:
            mid = (low + high) // 2
            if ok(mid):
                high = mid
            else:
                low = mid + 1
        return low


# ---- side-effect-free programs ---------------------------------------------------------------

NAMES = ("x", "y")
_pure_calls = sorted(name for name in PURE_BUILTINS if not name.startswith("format"))
literal = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(lambda i: f"({i})"),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda f: f"({f!r})"),
    st.text(alphabet="ab {}é\\\"'", max_size=6).map(json.dumps),
    st.sampled_from(["true", "false", "()", "[]", "[1, 2, 3]", '["a", "b"]', "[1.5, ()]"]),
)
atom = st.one_of(
    literal,
    st.sampled_from(
        NAMES
        + (
            "event",
            "headers",
            "payload",
            "prev",
            "nodes",
            "payload.commits",
            "payload.s",
            "event.payload.n",
            "headers['x-github-event']",
            "headers.Content_Type",
            "payload.data.object",
            "nope",
        )
    ),
)


def pure_extend(inner):
    binary = st.tuples(
        inner,
        st.sampled_from(
            ["+", "-", "*", "/", "%", "**", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "??", "in", "!in", "&", "|", "^", "<<", ">>"]
        ),
        inner,
    ).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    unary = st.tuples(st.sampled_from(["-", "!", "+"]), inner).map(lambda t: f"{t[0]}({t[1]})")
    call = st.sampled_from(_pure_calls).flatmap(
        lambda name: st.lists(inner, min_size=_ARITY[name][0], max_size=min(_ARITY[name][1], 3)).map(
            lambda args: f"{name}({', '.join(args)})"
        )
    )
    method = st.sampled_from([b for b in _pure_calls if _ARITY[b][1] >= 1]).flatmap(
        lambda name: st.tuples(inner, st.lists(inner, min_size=max(_ARITY[name][0] - 1, 0), max_size=min(_ARITY[name][1] - 1, 2))).map(
            lambda t: f"({t[0]}).{name}({', '.join(t[1])})"
        )
    )
    prop = st.tuples(
        inner, st.sampled_from([".a", "?.a", ".n", ".author", ".message", "[0]", "[-1]", "?[1]", "['b-c']", "[x]", ".len()"])
    ).map(lambda t: f"({t[0]}){t[1]}")
    interp = inner.map(lambda e: f"`v=${{{e}}}!`")
    fmt = st.tuples(inner, inner).map(lambda t: f'format!("{{}}-{{:?}}", {t[0]}, {t[1]})')
    # closures whose bodies have no side effects: the quick calls of map/filter/any/all/find
    higher = st.tuples(inner, st.sampled_from(["map", "filter", "any", "all", "find"]), st.sampled_from(["|c|", "|c, i|"]), inner).map(
        lambda t: f"({t[0]}).{t[1]}({t[2]} {t[3]})"
    )
    return st.one_of(binary, unary, call, method, prop, interp, fmt, higher)


pure_expression = st.recursive(atom, pure_extend, max_leaves=10)
closure_atom = st.sampled_from(
    ["c", "c.n", "c.message", "c.author.username", "i", "x", "c > 2", "c == 3", 'c.author.username == "octocat"', "c.n % 2 == 0", "i < 2"]
)
items = st.sampled_from(["payload.commits", "[1, 2, 3, 4]", "[]", '[1, "a", ()]', "x", "y", "[3, 3]"])
closure_call = st.tuples(
    items,
    st.sampled_from(["map", "filter", "any", "all", "find"]),
    st.sampled_from(["|c|", "|c, i|", "|c, i, j|", "||"]),
    st.recursive(closure_atom, pure_extend, max_leaves=4),
).map(lambda t: f"{t[0]}.{t[1]}({t[2]} {t[3]})")


@SETTINGS
@given(pure_expression)
def test_expressions_match_the_general_path(source):
    assert_same(source, expression=True)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(NAMES + ("len", "keys")), pure_expression), max_size=3), pure_expression, st.booleans())
def test_let_scripts_match_the_general_path(lets, tail, statement):
    source = "let x = payload.commits; let y = [1, 2];\n" + "\n".join(f"let {n} = {e};" for n, e in lets)
    source += f"\n{tail}" + (";" if statement else "")
    assert_same(source)


@SETTINGS
@given(st.lists(closure_call, min_size=1, max_size=3), st.integers(0, 400))
def test_quick_closure_calls_match_the_usual_calls(calls, budget):
    source = "let x = [1, 2]; let y = [#{n: 1}, #{n: ()}];\nlet r = [];\n"
    source += "\n".join(f"r.push({call});" for call in calls) + "\nr"
    assert_same(source, budgets=(0, budget, budget + 17, 400))


@SETTINGS
@given(st.lists(any_statement, max_size=4), any_expression)
def test_any_program_matches_the_general_path(statements, tail):
    source = 'let x = 1; let y = [1, "a"]; let z = #{a: 1};\n' + "\n".join(statements) + "\n" + tail
    assert_same(source, budgets=(0, 50, 500))


@SETTINGS
@given(any_expression)
def test_any_expression_matches_the_general_path(source):
    assert_same(source, expression=True, budgets=(0, 50, 500))


# ---- the cases the benchmark measures, and pointed cases ---------------------------------------------

BENCH_LIKE = [
    ("headers['x-github-event'] == 'push'", True),
    ("headers['X-GITHUB-EVENT'] == 'push'", True),  # the case-insensitive lookup makes a Context
    ("event.payload.type == 'payment_intent.succeeded'", True),
    ("let data = event.payload;\n// Process webhook data\ndata", False),
    ('let commits = event.payload.commits;\nformat!("Received {} commits", commits.len())', False),
    (
        "let pi = event.payload.data.object;\n"
        'if pi.status == "succeeded" { `Paid ${pi.amount / 100} ${pi.currency.to_upper()}` } else { "unpaid" }',
        False,
    ),
    ('let commits = event.payload.commits;\ncommits.filter(|c| c.author.username == "octocat").map(|c| c.message).join("\\n")', False),
    ("payload.commits.any(|c| c.n == 4) && payload.commits.all(|c, i| c.n == i)", False),
    ("payload.commits.find(|c| c.n > 3).id", False),
    ("payload.commits.map(|c, i| [c.n, i])", False),
    ("payload.commits.map(|c| c.author)", False),  # results are copied
]


@pytest.mark.parametrize(("source", "expression"), BENCH_LIKE, ids=[s[:40] for s, _ in BENCH_LIKE])
def test_bench_like_programs_match_the_general_path(source, expression):
    assert_same(source, expression)
    assert least_budget(source, False, expression) == least_budget(source, True, expression)


@pytest.mark.parametrize(
    "source",
    [
        "headers['x-github-event'] == 'push'",
        "let data = event.payload; data",
        "let a = 1; let b = a + 1; b",
        'let c = event.payload.commits; format!("Received {} commits", c.len())',
        "payload.s.to_upper()",
    ],
)
def test_side_effect_free_programs_are_generated_whole(source):
    assert compile(source)._program is not None
    if "let" not in source:
        assert compile_expression(source)._program is not None


@pytest.mark.parametrize(
    "source",
    [
        'print("x"); 1',
        "let t = now(); t",
        "state.a = 1; 1",
        "let x = 1; x += 1; x",
        "[1].map(|x| x)",
        "if true { 1 } else { 2 }",
        "fn f() { 1 } f()",
        "let f = |x| x; 1",
    ],
)
def test_programs_with_effects_are_not_generated_whole(source):
    assert compile(source)._program is None


def test_limits_apply_on_the_whole_program_path():
    program = compile_expression('payload.s + "abc"')
    assert program._program is not None
    small = Limits(max_string_bytes=8)
    for _ in range(4):  # the first runs configure, later ones use the cached Context class
        with pytest.raises(ScriptError, match="string size limit") as caught:
            program.run(scope(), small)
        assert (caught.value.line, caught.value.column) == (1, 11)
        with pytest.raises(ScriptError, match="string size limit"):
            program.evaluate(scope(), small)
    assert program.run(scope()).value == "hélloabc"
    tight = Limits(max_operations=3)  # the weight is 4: four nodes
    for _ in range(4):
        with pytest.raises(ScriptError, match="operation limit") as caught:
            program.run(scope(), tight)
        assert (caught.value.line, caught.value.column) == (1, 1)
    for _ in range(4):
        assert program.run(scope(), Limits(max_operations=4)).value == "hélloabc"


def test_budget_of_pure_builtins_is_charged_on_the_whole_program_path():
    program = compile('let s = payload.s.replace("l", "llllllllllllllllll"); s.contains("x")')
    assert program._program is not None
    assert least_budget(program.source, False) == least_budget(program.source, True)


def test_clock_and_logs_still_apply():
    fixed = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    program = compile("let t = now(); t")
    assert program.run({}, clock=lambda: fixed).value.startswith("2024-05-01T12:00:00")
    result = compile("let a = [1, 2].map(|x| x * 2); print(a); a.len()").run({})
    assert (result.value, result.logs) == (2, ["[2,4]"])
    # a whole-program run has no logs, and a fresh list each time
    program = compile("let a = 1; a")
    first, second = program.run({}), program.run({})
    assert first.logs == [] and first.logs is not second.logs


@pytest.mark.parametrize(
    ("source", "position", "message"),
    [
        ("let a = payload;\nlet b = a.none.x;\nb", (2, 16), "cannot read property 'x' of ()"),
        ("let r = payload.commits.filter(|c| c.n);\nr", (1, 25), "must return a bool, not i64"),
        ("let r = [#{n: 1}, 2].map(|c| c.n);\nr", (1, 32), "cannot read property 'n' of i64"),
        ("[1, 2, 3].any(|c| c / 0 == 1)", (1, 21), "division by zero"),
    ],
)
def test_errors_keep_their_positions_on_the_fast_paths(source, position, message):
    for general in (False, True):
        with general_path() if general else nullcontext():
            with pytest.raises(ScriptError) as caught:
                compile(source).run(scope())
        assert message in caught.value.message
        assert (caught.value.line, caught.value.column) == position


def test_operation_limit_inside_quick_calls_is_reached_where_the_usual_calls_reach_it():
    source = 'let a = []; for i in 0..50 { a.push(i); } print("before"); a.map(|x| x + 1 + 2 + 3).len()'
    fast = least_budget(source, False)
    assert fast == least_budget(source, True)
    limits = Limits(max_operations=fast - 1)
    for general in (False, True):
        with general_path() if general else nullcontext():
            with pytest.raises(ScriptError, match="operation limit") as caught:
                compile(source).run({}, limits)
        assert caught.value.logs == ["before"]
        assert (caught.value.line, caught.value.column) == (1, 66)  # the closure


def test_quick_calls_respect_the_call_depth():
    source = "fn f(n) { if n == 0 { [1, 2].map(|x| x + 1) } else { f(n - 1) } } f(DEPTH)"
    for depth in (3, 4, 5):
        assert_same(source.replace("DEPTH", str(depth)), budgets=())
        limits = Limits(max_call_depth=5)
        got = [outcome(compile(source.replace("DEPTH", str(depth))), limits) for _ in range(2)]
        with general_path():
            expected = [outcome(compile(source.replace("DEPTH", str(depth))), limits) for _ in range(2)]
        assert got == expected


def test_closures_do_not_share_a_frame_when_they_assign():
    # A block body may assign to a captured variable: each call starts from the captured value.
    assert_same("let n = 10; [1, 2, 3].map(|x| { n += x; n })")
    assert compile("let n = 10; [1, 2, 3].map(|x| { n += x; n })").run({}).value == [11, 12, 13]


def test_a_function_or_variable_named_like_a_builtin_is_called_not_the_builtin():
    assert compile("fn len(x) { 42 } len([1])").run({}).value == 42
    assert compile("fn len(x) { 42 } let a = [1]; len(a) + 0").run({}).value == 42
    assert compile("let len = |x| 42; len([1])").run({}).value == 42
    assert compile("let len = |x| 42; len([1]) + 1").run({}).value == 43
    with pytest.raises(ScriptError, match="not a function"):
        compile("let len = 5; len([1])").run({})
    with pytest.raises(ScriptError, match="not a function"):
        compile("[[1]].map(|len| len([1]))").run({})
    assert compile("fn len(x, y) { 42 } len([1])").run({}).value == 1  # other arity: the built-in


@pytest.mark.parametrize(
    "source",
    [
        "let a = [1, 2, 3, 4, 5, 6, 7, 8]; a.filter(|c| c < 8 || c.len() > 0)",  # an error in the 8th call
        "[true, false, true, false, 5, true].filter(|c| c ?? false)",  # the 5th call returns no bool
        "[true, false, true, 5].filter(|c, i| c ?? i > 0)",
        "[#{n: 1}, #{n: 2}, #{n: 3}, 4].map(|c| c.n + 1)",
        "[#{n: 1}, #{n: 2}, #{n: 3}, 4].map(|c, i| c.n + i)",
        "[1, 2, 3, 4, 5, 6].any(|c| c > 5 && c.len() > 0)",
        "[1, 2, 3, 4, 5, 6].all(|c| c < 6 || c.x)",
        "[1, 2, 3, 4, 5, 6].find(|c| c ?? c > 4)",
        # a generated sub-expression that charges (contains on 40 items) and then fails
        'print("x"); let a = 0..40; let b = a.contains(5) && a.x; b',
        'print("x"); let a = 0..40; let b = [1, 2].map(|c| a.contains(c) && a.x); b',
    ],
)
def test_a_failing_fast_path_leaves_the_budget_as_the_general_path_does(source):
    # Every budget from none to enough: the same error, or the operation limit, at each.
    assert_same(source, budgets=tuple(range(0, 160, 1)))
