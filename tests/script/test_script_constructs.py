"""Every construct of SPEC §5, one table row each: source, scope, expected value."""

import pytest

from inspector.script import ScriptError, compile, compile_expression

CASES = [
    # literals and values
    ("42", 42),
    ("-7", -7),
    ("3.5", 3.5),
    ("1_000", 1000),
    ("0xff", 255),
    ("0b101", 5),
    ("0o17", 15),
    ("1e3", 1000.0),
    ("true", True),
    ("false", False),
    ("()", None),
    ('"a\\"b"', 'a"b'),
    ("'push'", "push"),
    ('"tab\\tnl\\n"', "tab\tnl\n"),
    ('"\\u{1F600}"', "\U0001f600"),
    ("'\\\\'", "\\"),
    ("`plain`", "plain"),
    ('`a ${1 + 2} b ${"x"}`', "a 3 b x"),
    ("`multi\nline`", "multi\nline"),
    ("`${[1, 2]}`", "[1,2]"),
    ("`${()}|`", "|"),
    ("[1, 2, 3,]", [1, 2, 3]),
    ("[]", []),
    ('#{a: 1, "b-c": 2}', {"a": 1, "b-c": 2}),
    ("#{}", {}),
    ("#{a: #{b: [1, #{c: ()}]}}", {"a": {"b": [1, {"c": None}]}}),
    # comments and separators
    ("// c\n1 /* in /* nested */ line */ + 1", 2),
    ("1;", None),
    ("let x = 1; x;", None),
    (";;3", 3),
    # precedence (Rhai's table)
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("2 ** 3 ** 2", 512),
    ("-2 ** 2", 4),
    ("10 - 4 - 3", 3),
    ("1 < 2 == true", True),
    ("true || false && false", True),
    ("1 + 1 == 2 && 3 > 2", True),
    ("() ?? 1 + 1", 2),
    ("5 ?? 0 > 3", True),
    ("2 in [1, 2] == true", True),
    ("1 << 2 + 1", 5),
    ("6 & 3", 2),
    ("6 | 3", 7),
    ("6 ^ 3", 5),
    ("true ^ true", False),
    ("-8 >> 1", -4),
    # numbers
    ("10 / 4", 2),
    ("-10 / 4", -2),
    ("10 / -4", -2),
    ("10.0 / 4", 2.5),
    ("10 / 4.0", 2.5),
    ("7 % 3", 1),
    ("-7 % 3", -1),
    ("7.5 % 2", 1.5),
    ("2 ** 10", 1024),
    ("2.0 ** -1", 0.5),
    ("1 + 2.5", 3.5),
    ("9223372036854775807", 9223372036854775807),
    ("-9223372036854775808", -9223372036854775808),
    ("0.1 + 0.2 > 0.3", True),
    # equality
    ("1 == 1.0", True),
    ("1 != 1.0", False),
    ('"1" == 1', False),
    ("() == ()", True),
    ("() == false", False),
    ("true == 1", False),
    ("[1, 2] == [1, 2]", True),
    ("[1, 2] == [1.0, 2]", True),
    ("[1] == [true]", False),
    ("#{a: 1, b: 2} == #{b: 2, a: 1}", True),
    ("#{a: 1} == #{a: 2}", False),
    ('"a" != "b"', True),
    ("'a' < 'b'", True),
    ("2 >= 2.0", True),
    # let / const / assignment
    ("let x = 1; x = x + 1; x", 2),
    ("let x; x", None),
    ("const X = 5; X * 2", 10),
    ("let x = 1; let x = x + 10; x", 11),
    ("let x = 10; x += 5; x -= 3; x *= 2; x /= 4; x", 6),
    ("let x = 7; x %= 4; x", 3),
    ("let x = 2; x **= 3; x", 8),
    ('let s = "a"; s += "b"; s', "ab"),
    ("let a = [1]; a += [2, 3]; a += 4; a", [1, 2, 3, 4]),
    ("let m = #{a: 1}; m.b = 2; m", {"a": 1, "b": 2}),
    ("let m = #{a: #{b: 1}}; m.a.b += 41; m.a.b", 42),
    ("let a = [1, 2, 3]; a[1] = 20; a[-1] += 1; a", [1, 20, 4]),
    ('let m = #{}; m["k-1"] = 1; m["k-1"] *= 5; m', {"k-1": 5}),
    ("let a = [[0]]; a[0][0] = 9; a", [[9]]),
    # blocks and if as expressions
    ("{ 1; 2 }", 2),
    ("{ 1; 2; }", None),
    ("let x = { let y = 2; y * 3 }; x", 6),
    ("if true { 1 } else { 2 }", 1),
    ("if false { 1 } else { 2 }", 2),
    ("if false { 1 }", None),
    ('let n = 5; if n < 3 { "s" } else if n < 10 { "m" } else { "l" }', "m"),
    ('let v = if 1 > 0 { "yes" } else { "no" }; v', "yes"),
    ("if true { 1 } \n[1, 2].len()", 2),
    # loops
    ("let i = 0; while i < 5 { i += 1; } i", 5),
    ("let i = 0; loop { i += 1; if i == 3 { break; } } i", 3),
    ("let x = loop { break 7; }; x", 7),
    ("let s = 0; for x in [1, 2, 3] { s += x; } s", 6),
    ("let s = 0; for x in 0..4 { s += x } s", 6),
    ("let s = 0; for x in 0..=4 { s += x } s", 10),
    ('let s = []; for c in "héy" { s.push(c) } s', ["h", "é", "y"]),
    ('let out = []; for (x, i) in ["a", "b"] { out.push(`${i}:${x}`) } out', ["0:a", "1:b"]),
    ("let s = 0; for x in 0..10 { if x % 2 == 0 { continue; } s += x; } s", 25),
    ("let n = 0; for x in 0..10 { for y in 0..10 { if y == 2 { break; } n += 1; } } n", 20),
    ("let i = 0; while true { i += 1; if i > 4 { break; } } i", 5),
    ("for x in [] { 1 }", None),
    ("let a = [1, 2]; for x in a { a.push(x) } a", [1, 2, 1, 2]),
    # ranges as values, in
    ("0..3", [0, 1, 2]),
    ("1..=3", [1, 2, 3]),
    ("3 in 1..5", True),
    ("5 in 1..5", False),
    ("5 in 1..=5", True),
    ("2 !in [1, 3]", True),
    ('"ell" in "hello"', True),
    ('"a" in #{a: 1}', True),
    ('"b" !in #{a: 1}', True),
    # properties, indexes, ?. and ??
    ("#{a: 1}.a", 1),
    ("#{a: 1}.missing", None),
    ('#{a: 1}["a"]', 1),
    ('#{a: 1}["zz"]', None),
    ("[1, 2, 3][0]", 1),
    ("[1, 2, 3][-1]", 3),
    ("[1, 2, 3][-3]", 1),
    ('"héllo"[1]', "é"),
    ('"abc"[-1]', "c"),
    ("let m = (); m?.a", None),
    ("let m = #{}; m.a?.b?.c", None),
    ('let m = #{}; m.a?.b ?? "d"', "d"),
    ("let a = (); a?[0]", None),
    ("() ?? 5", 5),
    ("false ?? 5", False),
    ("0 ?? 5", 0),
    ('#{type: "x"}.type', "x"),
    ("#{a: [1, #{b: 2}]}.a[1].b", 2),
    # functions and closures
    ("fn add(a, b) { a + b } add(2, 3)", 5),
    ("fn f() { 1 } fn f(x) { x } f() + f(5)", 6),
    ("fn a() { later(2) } fn later(x) { x * 10 } a()", 20),
    ("fn f(x) { return x * 2; 99 } f(4)", 8),
    ("fn fact(n) { if n <= 1 { 1 } else { n * fact(n - 1) } } fact(20)", 2432902008176640000),
    ("fn g(x) { x.len() } [1, 2].g()", 2),
    ("fn h(a, b) { a - b } 10.h(3)", 7),
    ("let f = |x| x + 1; f(1)", 2),
    ("let f = |x| x + 1; f.call(1)", 2),
    ("let f = || 5; call(f)", 5),
    ("(|x, y| x * y)(3, 4)", 12),
    ("let k = 10; let f = |x| x + k; k = 100; f(1)", 11),
    ("let f = |x| { let y = x * 2; y + 1 }; f(3)", 7),
    ("fn mk(n) { |x| x + n } mk(5)(1)", 6),
    ("let a = 1; let f = || { let b = 2; || a + b }; f()()", 3),
    ("let f = |x| { return x; 0 }; f(3)", 3),
    ("[1, 2, 3].map(|x, i| x * i)", [0, 2, 6]),
    ('[1, 2].map(Fn("to_string"))', ["1", "2"]),
    ('fn dbl(x) { x * 2 } [1, 2].map(Fn("dbl"))', [2, 4]),
    ("type_of(|x| x)", "Fn"),
    # return at top level
    ("return 5; 6", 5),
    ('let x = 3; if x > 2 { return "big"; } "small"', "big"),
    ("return;", None),
]


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_construct(source, expected):
    result = compile(source).run({})
    assert result.value == expected
    assert type(result.value) is type(expected)


def test_fn_bodies_see_params_and_scope_names_but_not_script_variables():
    source = "let secret = 1; fn f(x) { x + payload.n } f(1)"
    assert compile(source).run({"payload": {"n": 41}}).value == 42
    with pytest.raises(ScriptError, match="unknown variable 'secret'"):
        compile("let secret = 1; fn f() { secret } f()").run({})


def test_closures_capture_by_value_when_created():
    source = "let fs = []; let out = []; for i in 0..3 { let f = |x| x + i; out.push(f(0)); } out"
    assert compile(source).run({}).value == [0, 1, 2]


def test_state_writes_reach_the_callers_state():
    state = {"count": 1}
    compile("state.count += 1; state.seen = true; state.items = [1]; state.items.push(2)").run({"state": state})
    assert state == {"count": 2, "seen": True, "items": [1, 2]}


def test_reassigning_a_scope_name_stays_local_to_the_run():
    scope = {"prev": 1}
    assert compile("prev = 5; prev").run(scope).value == 5
    assert scope == {"prev": 1}


def test_headers_index_case_insensitively():
    scope = {"headers": {"x-github-event": "push"}, "event": {"headers": {"x-github-event": "push"}}}
    for source in (
        "headers['X-GitHub-Event']",
        "headers['x-github-event']",
        "event.headers['X-GITHUB-EVENT']",
        "headers.X_missing ?? headers['X-Github-Event']",
    ):
        assert compile(source).run(scope).value == "push"
    assert compile("'X-GitHub-Event' in headers").run(scope).value is True
    assert compile("headers.contains('X-GITHUB-EVENT')").run(scope).value is True
    # ordinary maps stay case-sensitive
    assert compile("#{a: 1}['A']").run(scope).value is None


def test_maps_keep_insertion_order():
    value = compile('let m = #{z: 1, a: 2}; m.m = 3; m["b"] = 4; m.keys()').run({}).value
    assert value == ["z", "a", "m", "b"]


def test_storing_a_collection_stores_a_copy_so_values_never_form_cycles():
    value = compile("let a = [1]; a.push(a); a.push(a); a").run({}).value
    assert value == [1, [1], [1, [1]]]
    assert compile("let m = #{}; m.self = m; m").run({}).value == {"self": {}}


def test_arrays_are_shared_between_variables():
    assert compile("let a = [1]; let b = a; b.push(2); a").run({}).value == [1, 2]


def test_script_value_is_plain_json():
    value = compile('#{a: [1, 2.5, "s", true, ()], b: #{}}').run({}).value
    assert value == {"a": [1, 2.5, "s", True, None], "b": {}}


def test_returning_a_function_is_an_error():
    with pytest.raises(ScriptError, match="cannot return a function"):
        compile("|x| x").run({})
    with pytest.raises(ScriptError, match="cannot be stored in an array or map"):
        compile("[|x| x]").run({})


def test_compile_expression_accepts_one_expression_only():
    assert compile_expression("1 + 1").run({}).value == 2
    assert compile_expression("1 + 1;").run({}).value == 2
    with pytest.raises(ScriptError, match="'let' is a statement"):
        compile_expression("let x = 1; x")
    with pytest.raises(ScriptError, match="expected the end of the expression"):
        compile_expression("1 2")
    with pytest.raises(ScriptError, match="expected an expression"):
        compile_expression("   ")


def test_program_is_reusable_and_runs_are_independent():
    program = compile("let a = []; a.push(payload); print(payload); a")
    assert program.run({"payload": 1}).value == [1]
    result = program.run({"payload": 2})
    assert result.value == [2] and result.logs == ["2"]


def test_evaluate_is_run_without_logs():
    program = compile_expression("payload.n * 2")
    assert program.evaluate({"payload": {"n": 21}}) == 42
