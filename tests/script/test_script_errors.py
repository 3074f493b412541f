"""Errors a person can act on: what went wrong, where (line and column), and the fix."""

import pickle

import pytest

from inspector.script import ScriptError, compile, compile_expression

SCOPE = {
    "event": {"payload": {"commits": [1, 2]}, "headers": {}},
    "headers": {"x-a": "1"},
    "payload": {},
    "prev": None,
    "nodes": {},
    "state": {},
}

# (source, fragment of the message, line, column)
RUNTIME = [
    ("comits", "unknown variable 'comits'", 1, 1),
    ("let commits = 1;\ncomits + 1", "did you mean 'commits'?", 2, 1),
    ("evnt.payload", "did you mean 'event'?", 1, 1),
    ('fomat!("x")', "unknown function 'fomat!'", 1, 1),
    ("lenn([1])", "did you mean 'len'?", 1, 1),
    ("[1].lenn()", "unknown method 'lenn' on array; did you mean 'len'?", 1, 5),
    ("5.to_upper()", "to_upper() does not apply to i64: it takes a string", 1, 3),
    ("to_upper(5)", "to_upper() does not apply to i64", 1, 1),
    ('"a".push(1)', "push() does not apply to string: it takes an array", 1, 5),
    ("fn f(a, b) { a } f(1)", "takes 2 argument(s), but 1 were given", 1, 18),
    ("let f = |x| x; f(1, 2)", "function '<closure>' takes 1 argument, but 2 were given", 1, 16),
    ("[1, 2, 3][3]", "index 3 is out of range for an array of length 3", 1, 10),
    ("[1, 2, 3][-4]", "length 3", 1, 10),
    ("[][0]", "length 0 (it is empty)", 1, 3),
    ('"abc"[9]', "out of range for a string of length 3", 1, 6),
    ('[1]["a"]', "array indexes are integers, not string", 1, 4),
    ("#{a: 1}[0]", "map keys are strings, not i64", 1, 8),
    ("let x = ();\nx.name", "cannot read property 'name' of ()", 2, 3),
    ("event.payload.missing.deeper", "write '?.deeper'", 1, 23),
    ("[1].len", "only maps have properties; did you mean the method '.len()'?", 1, 5),
    ("if 1 { 2 }", "the condition of 'if' must be a bool, not i64", 1, 4),
    ('while "x" { }', "the condition of 'while' must be a bool, not string", 1, 7),
    ("1 && true", "the left side of '&&' must be a bool, not i64", 1, 3),
    ("false || ()", "the right side of '||' must be a bool, not ()", 1, 7),
    ("!5", "'!' applies to a bool, not i64", 1, 1),
    ("1 + true", "cannot apply '+' to i64 and bool", 1, 3),
    ("[1] - [1]", "cannot apply '-' to array and array", 1, 5),
    ('1 < "a"', "cannot compare i64 with string using '<'", 1, 3),
    ("9223372036854775807 + 1", "integer overflow", 1, 21),
    ("let x = -9223372036854775807 - 1; -x", "integer overflow", 1, 35),
    ("3037000500 * 3037000500", "integer overflow", 1, 12),
    ("2 ** 64", "integer overflow", 1, 3),
    ("1 / 0", "division by zero", 1, 3),
    ("1 % 0", "division by zero", 1, 3),
    ("1.0 / 0", "division by zero", 1, 5),
    ("1e308 * 10.0", "float overflow", 1, 7),
    ("2 ** -1", "negative power", 1, 3),
    ("for x in 5 { }", "cannot loop over i64", 1, 10),
    ("for x in #{} { }", "cannot loop over a map", 1, 10),
    ("const X = 1; let f = X; f(1)", "'f' is a i64, not a function", 1, 25),
    ('parse_int("12x")', 'cannot parse "12x" as an integer', 1, 1),
    ('parse_float("abc")', 'cannot parse "abc" as a number', 1, 1),
    ('parse_json("{bad")', "invalid JSON at line 1 column 2", 1, 1),
    ('base64_decode("@@@")', "not valid base64", 1, 1),
    ('[1, "a"].sort()', "sort() needs all numbers or all strings; this array holds i64, string", 1, 10),
    ("[1, 2].filter(|x| x)", "must return a bool, not i64", 1, 8),
    ("let a = [2, 1]; a.sort(|x, y| true)", "must return an integer", 1, 19),
    ('let f = "{} {}"; format(f, 1)', "format string has 2 placeholders but 1 argument was given", 1, 18),
    ("let x = 5; x.a = 1", "cannot set property 'a' on i64", 1, 16),
    ('let s = "abc"; s[0] = "x"', "strings cannot be changed in place", 1, 21),
    ('"a" in 5', "'in' needs an array, a map, a string or a range", 1, 5),
    ("1 in #{}", "looks up a key, which must be a string", 1, 3),
    ("to_int(1e300)", "does not fit in a 64-bit integer", 1, 1),
    ('Fn("nope")', "unknown function 'nope'", 1, 1),
    ("let f = |x| x.y; f(1)", "cannot read property 'y' of i64", 1, 15),
    ("fn inner() { ().x } fn outer() { inner() } outer()", "cannot read property 'x' of ()", 1, 17),
    ("headers['x-b'].len()", "len() does not apply to ()", 1, 16),
    ("undefined_thing = 1", "unknown variable 'undefined_thing'", 1, 1),
]


@pytest.mark.parametrize(("source", "fragment", "line", "column"), RUNTIME, ids=[c[0][:40] for c in RUNTIME])
def test_runtime_error(source, fragment, line, column):
    program = compile(source)  # a runtime error never stops compilation
    with pytest.raises(ScriptError) as caught:
        program.run(dict(SCOPE))
    error = caught.value
    assert fragment in error.message
    assert (error.line, error.column) == (line, column), str(error)


PARSE = [
    ("let = 1", "expected 'ident' after 'let', found '='", 1, 5),
    ("1 +", "expected an expression, found the end of the script", 1, 4),
    ("(1 + 2", "expected ')' to close the parenthesis", 1, 7),
    ("[1, 2", "expected ',' or ']' in the array", 1, 6),
    ("#{a 1}", "expected ':' after the map key 'a'", 1, 5),
    ("#{1: 2}", "expected a map key", 1, 3),
    ("let x = 1\nlet y = 2", "expected ';' between statements, found 'let'", 2, 1),
    ("if true { 1 ", "expected '}' to close the block", 1, 13),
    ('"abc', "unterminated string literal", 1, 1),
    ("`abc", "unterminated back-tick string", 1, 1),
    ("/* open", "unterminated /* comment", 1, 1),
    ('"\\q"', "unknown escape sequence '\\q'", 1, 2),
    ('"\\u{110000}"', "invalid unicode code point", 1, 2),
    ("1 @ 2", "unexpected character '@'", 1, 3),
    ("# 1", "'#' must be followed by '{'", 1, 1),
    ("a ? b", "'?' must be followed by", 1, 3),
    ("break;", "'break' outside of a loop", 1, 1),
    ("continue", "'continue' outside of a loop", 1, 1),
    ("loop { let f = || { break; }; }", "'break' outside of a loop", 1, 21),
    ("{ fn f() { 1 } }", "only allowed at the top level", 1, 3),
    ("fn f(a, a) { a }", "duplicate parameter 'a'", 1, 9),
    ("fn f() {} fn f() {}", "defined twice", 1, 11),
    ("const X = 1; X = 2", "cannot assign to constant 'X'", 1, 14),
    ("const X;", "a constant needs a value", 1, 8),
    ("1 = 2", "cannot assign to this expression", 1, 3),
    ("a?.b = 1", "cannot assign to this expression", 1, 6),
    ("99999999999999999999", "does not fit in 64 bits", 1, 1),
    ("12abc", "invalid number '12abc'", 1, 1),
    ("len(1, 2)", "len() takes 1 argument", 1, 1),
    ('"x".starts_with()', "starts_with() takes 2 arguments", 1, 5),
    ('format!("{} {}", 1)', "format string has 2 placeholders but 1 argument was given", 1, 1),
    ('format!("{x}", 1)', "unsupported placeholder '{x}'", 1, 9),
    ('format!("{", 1)', "unmatched '{'", 1, 9),
    ("`${}`", "empty ${} in back-tick string", 1, 4),
    ("`${1 2}`", "expected '}' to close ${…}", 1, 6),
    ("let x = let", "'let' is a statement and cannot be used as a value here", 1, 9),
]


@pytest.mark.parametrize(("source", "fragment", "line", "column"), PARSE, ids=[c[0][:40] for c in PARSE])
def test_parse_error(source, fragment, line, column):
    with pytest.raises(ScriptError) as caught:
        compile(source)
    error = caught.value
    assert fragment in error.message
    assert (error.line, error.column) == (line, column), str(error)


def test_error_string_is_origin_line_column_message():
    with pytest.raises(ScriptError) as caught:
        compile("let commits = event.payload.commits;\ncomits.len()", origin="flows/github.ygtc").run(SCOPE)
    assert str(caught.value) == "flows/github.ygtc:2:1: unknown variable 'comits'; did you mean 'commits'?"
    assert caught.value.origin == "flows/github.ygtc"


def test_offsets_map_positions_into_the_yaml_file():
    # `expression: "headers[…] == x"` on line 14, the expression starting at column 21
    with pytest.raises(ScriptError) as caught:
        compile_expression("headers['a'] == comits", origin="f.ygtc", line_offset=13, column_offset=20).run(SCOPE)
    assert (caught.value.line, caught.value.column) == (14, 37)
    # a script starting mid-line: only its first line is shifted
    with pytest.raises(ScriptError) as caught:
        compile("1;\n  comits", origin="f.ygtc", line_offset=13, column_offset=20).run(SCOPE)
    assert (caught.value.line, caught.value.column) == (15, 3)
    # a block scalar indented by 6: every line is shifted
    with pytest.raises(ScriptError) as caught:
        compile("1;\ncomits", line_offset=20, column_offset=6, indent_all_lines=True).run(SCOPE)
    assert (caught.value.line, caught.value.column) == (22, 7)
    with pytest.raises(ScriptError) as caught:
        compile("let x = 1;\nlet = 2", line_offset=20, column_offset=6, indent_all_lines=True)
    assert (caught.value.line, caught.value.column) == (22, 11)


def test_unknown_names_are_runtime_errors_but_warnings_find_them():
    program = compile("let ok = 1; if false { comits.len() + fomat(1) + ok.lenn() } else { event }")
    assert program.run(SCOPE).value == SCOPE["event"]
    messages = [w.message for w in program.warnings()]
    assert "unknown variable 'comits'" in messages[0]
    assert any("unknown function 'fomat'" in m and "did you mean 'format'" in m for m in messages)
    assert any("unknown method 'lenn'" in m for m in messages)
    assert not compile("event.payload + headers.a + state.x").warnings()
    assert [w.message for w in compile("x + 1").warnings(["x"])] == []


def test_errors_pickle_with_every_field():
    try:
        compile("print(1); nope", origin="o").run({})
    except ScriptError as error:
        copy = pickle.loads(pickle.dumps(error))
        assert (copy.message, copy.line, copy.column, copy.origin, copy.logs) == (error.message, error.line, error.column, "o", ["1"])


def test_non_string_source_is_a_script_error():
    with pytest.raises(ScriptError, match="must be a string"):
        compile(None)  # type: ignore[arg-type]
