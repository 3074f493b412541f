"""Each limit of SPEC §5 stops a run with a ScriptError that names it: never a hang or a crash."""

import time

import pytest

from inspector.script import Limits, ScriptError, compile, compile_expression

# (source, fragment of the message naming the limit, limits)
CASES = [
    ("loop {}", "operation limit", None),
    ("let i = 0; while true { i += 1; }", "operation limit", None),
    ("for x in 0..100000000 { }", "operation limit", None),
    ("fn f() { loop { } } f()", "operation limit", None),
    ("[1, 2, 3].map(|x| { loop {} })", "operation limit", None),
    ("let n = 0; for x in 0..100 { n += 1; } n", "operation limit", Limits(max_operations=50)),
    ("fn f(x) { f(x + 1) } f(0)", "call depth", None),
    ("fn f(x) { 1 + f(x) } f(0)", "call depth", None),
    ("fn a(x) { b(x) } fn b(x) { a(x) } a(1)", "call depth", None),
    ("let f = |x| x; fn g(n) { if n == 0 { 0 } else { g(n - 1) } } g(10)", "call depth", Limits(max_call_depth=5)),
    ('let s = "ab"; loop { s += s; }', "string size", None),
    ('let s = "ab"; loop { s = s + s; }', "string size", None),
    ('let s = "x"; loop { s = `${s}${s}`; }', "string size", None),
    ('let s = "x"; loop { s = format!("{}{}", s, s); }', "string size", None),
    ('let s = "0123456789"; loop { s = [s, s].join(""); }', "string size", None),
    ('let s = "ab"; loop { s = s.replace("a", "aa"); }', "string size", None),
    ('"é".sub_string(0) + "x"', "string size", Limits(max_string_bytes=2)),
    ("let a = [1]; loop { a += a; }", "array size", None),
    ("let a = [1]; loop { a = a + a; }", "array size", None),
    ("let a = []; loop { a.push(1); }", "array size", Limits(max_collection_items=1000)),
    ("let a = []; for x in 0..5 { a.insert(0, x); }", "array size", Limits(max_collection_items=3)),
    ("0..200000", "array size", None),
    ('"abcdef".split("")', "array size", Limits(max_collection_items=3)),
    ("let m = #{}; for x in 0..10 { m[`k${x}`] = x; }", "map size", Limits(max_collection_items=5)),
    ("let a = []; loop { a = [a]; }", "nesting limit", None),
    ('parse_json("[[[[[[[[[[1]]]]]]]]]]")', "nesting limit", Limits(max_nesting=5)),
]


@pytest.mark.parametrize(("source", "fragment", "limits"), CASES, ids=[c[0][:40] for c in CASES])
def test_limit(source, fragment, limits):
    start = time.perf_counter()
    with pytest.raises(ScriptError) as caught:
        compile(source).run({}, limits)
    assert fragment in caught.value.message
    assert caught.value.line is not None and caught.value.column is not None
    assert time.perf_counter() - start < 5


def test_endless_loop_stops_well_under_a_second():
    start = time.perf_counter()
    with pytest.raises(ScriptError, match="operation limit exceeded"):
        compile("loop {}").run({})
    assert time.perf_counter() - start < 1.0


def test_deep_nesting_is_a_parse_error_not_a_recursion_error():
    for source in (
        "(" * 10_000 + "1" + ")" * 10_000,
        "[" * 10_000 + "]" * 10_000,
        "-" * 10_000 + "1",
        "!" * 10_000 + "true",
        "{" * 10_000 + "}" * 10_000,
        "#{a: " * 10_000 + "1" + "}" * 10_000,
        "if true { " * 10_000 + "}" * 10_000,
        "1" + " + 1" * 10_000,
        "a" + ".b" * 10_000,
        "f(" * 10_000 + ")" * 10_000,
        "|x| " * 10_000 + "1",
        "`${" * 5_000 + "1" + "}`" * 5_000,
    ):
        with pytest.raises(ScriptError, match="nesting limit"):
            compile(source)
    with pytest.raises(ScriptError, match="nesting limit"):
        compile_expression("(" * 10_000 + "1" + ")" * 10_000)


def test_nesting_within_the_limit_compiles_and_runs():
    assert compile("(" * 60 + "1" + ")" * 60).run({}).value == 1
    assert compile("(" * 10 + "1" + ")" * 10, limits=Limits(max_nesting=64)).run({}).value == 1
    with pytest.raises(ScriptError, match="nesting limit"):
        compile("(" * 10 + "1" + ")" * 10, limits=Limits(max_nesting=5))


def test_recursion_within_the_call_depth_works():
    assert compile("fn f(n) { if n == 0 { 0 } else { 1 + f(n - 1) } } f(60)").run({}).value == 60


def test_each_run_has_its_own_budget():
    program = compile("let n = 0; for x in 0..100 { n += 1; } n")
    limits = Limits(max_operations=2_000)
    for _ in range(5):
        assert program.run({}, limits).value == 100


def test_limits_are_a_frozen_dataclass_with_the_spec_defaults():
    limits = Limits()
    assert (limits.max_operations, limits.max_call_depth, limits.max_nesting, limits.max_string_bytes, limits.max_collection_items) == (
        1_000_000,
        64,
        64,
        1 << 20,
        100_000,
    )
    with pytest.raises(AttributeError):
        limits.max_operations = 5  # type: ignore[misc]


def test_a_huge_literal_is_refused():
    with pytest.raises(ScriptError, match="string size"):
        compile('"' + "x" * 200 + '"', limits=Limits(max_string_bytes=100))


def test_logs_are_bounded():
    result = compile(
        'let s = "x".sub_string(0); for i in 0..20000 { print("0123456789012345678901234567890123456789012345678901234567890123456789"); } 1'
    ).run({})
    assert sum(len(x) for x in result.logs) <= (1 << 20) + 100
    assert result.logs[-1] == "… (logs truncated)"
