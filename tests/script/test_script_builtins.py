"""Every built-in of SPEC §5, called both as a function and as a method."""

from datetime import UTC, datetime

import pytest

from inspector.script import BUILTIN_NAMES, ScriptError, compile
from inspector.script.lexer import tokenize

# (function-call source, expected); the method form is derived from it.
CASES = [
    ('len("héllo")', 5),
    ("len([1, 2])", 2),
    ("len(#{a: 1})", 1),
    ('len("")', 0),
    ('is_empty("")', True),
    ("is_empty([1])", False),
    ("is_empty(#{})", True),
    ('contains("hello", "ell")', True),
    ("contains([1, 2], 2.0)", True),
    ('contains(#{a: 1}, "a")', True),
    ("contains([[1]], [1])", True),
    ('contains("abc", "z")', False),
    ('starts_with("hello", "he")', True),
    ('ends_with("hello", "lo")', True),
    ('starts_with("a", "b")', False),
    ('index_of("héllo", "l")', 2),
    ('index_of("abc", "z")', -1),
    ("index_of([5, 6], 6)", 1),
    ("index_of([5], 7)", -1),
    ('to_upper("abc")', "ABC"),
    ('to_lower("ÀB")', "àb"),
    ('trim("  x \\n")', "x"),
    ('split("a,b,,c", ",")', ["a", "b", "", "c"]),
    ('split(" a  b ")', ["a", "b"]),
    ('split("ab", "")', ["a", "b"]),
    ('replace("a-b-c", "-", "+")', "a+b+c"),
    ('replace("aaa", "a", "")', ""),
    ('sub_string("hello", 1, 3)', "ell"),
    ('sub_string("hello", 2)', "llo"),
    ('sub_string("hello", -3, 2)', "ll"),
    ('sub_string("héllo", 1, 100)', "éllo"),
    ('sub_string("abc", 5)', ""),
    ('chars("hé")', ["h", "é"]),
    ("to_string(42)", "42"),
    ("to_string(())", ""),
    ('to_string([1, "a"])', '[1,"a"]'),
    ("to_string(#{a: ()})", '{"a":null}'),
    ("to_string(1.5)", "1.5"),
    ("to_string(true)", "true"),
    ('to_int("42")', 42),
    ("to_int(3.9)", 3),
    ("to_int(-3.9)", -3),
    ("to_int(true)", 1),
    ('to_int("2.5")', 2),
    ("to_float(2)", 2.0),
    ('to_float("2.5")', 2.5),
    ('parse_int(" 17 ")', 17),
    ('parse_int("-ff", 16)', -255),
    ('parse_float("1e3")', 1000.0),
    ('parse_float("-0.5")', -0.5),
    ("keys(#{b: 1, a: 2})", ["b", "a"]),
    ("values(#{b: 1, a: 2})", [1, 2]),
    ("map([1, 2], |x| x * 10)", [10, 20]),
    ("filter([1, 2, 3, 4], |x| x % 2 == 0)", [2, 4]),
    ("reduce([1, 2, 3], |acc, x| acc + x, 10)", 16),
    ("reduce([1, 2], |acc, x| (acc ?? 0) + x)", 3),
    ("find([1, 5, 9], |x| x > 3)", 5),
    ("find([1], |x| x > 3)", None),
    ("any([1, 5], |x| x > 3)", True),
    ("all([1, 5], |x| x > 3)", False),
    ("all([], |x| false)", True),
    ('join([1, "a", ()], "-")', "1-a-"),
    ('join(["a", "b"])', "ab"),
    ("type_of(())", "()"),
    ("type_of(true)", "bool"),
    ("type_of(1)", "i64"),
    ("type_of(1.0)", "f64"),
    ('type_of("")', "string"),
    ("type_of([])", "array"),
    ("type_of(#{})", "map"),
    ('to_json(#{a: [1, 2.5, "x", (), true]})', '{"a":[1,2.5,"x",null,true]}'),
    ('to_json("é")', '"é"'),
    ('parse_json("{\\"a\\": [1, 2.5, null]}")', {"a": [1, 2.5, None]}),
    ('parse_json("3")', 3),
    ('sha256("abc")', "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ('base64_encode("héllo")', "aMOpbGxv"),
    ('base64_decode("aMOpbGxv")', "héllo"),
    ('format("{} + {} = {}", 1, 2, 3)', "1 + 2 = 3"),
    ('format("{:?} {}", "s", "s")', '"s" s'),
    ('format("{{}} {}", [1])', "{} [1]"),
    ('format("{}|{:?}", (), ())', "|null"),
    ("abs(-3)", 3),
    ("min(2, 1.5)", 1.5),
    ("max(2, 7)", 7),
    ("range(0, 3)", [0, 1, 2]),
]


def _method_form(source: str) -> str:
    """`f(a, b)` -> `(a).f(b)`, splitting at the first top-level comma (found with the lexer)."""
    tokens = tokenize(source)
    name = tokens[0].value
    depth, cut = 0, None
    for tok in tokens[1:]:
        if tok.kind in ("(", "[", "#{", "{"):
            depth += 1
        elif tok.kind in (")", "]", "}"):
            depth -= 1
        elif tok.kind == "," and depth == 1:
            cut = tok.column - 1
            break
    args = source[len(name) + 1 : -1]
    if cut is None:
        return f"({args}).{name}()"
    first = source[len(name) + 1 : cut]
    return f"({first}).{name}({source[cut + 1 : -1].strip()})"


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_builtin_as_function(source, expected):
    value = compile(source).run({}).value
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_builtin_as_method(source, expected):
    method = _method_form(source)
    if source.startswith(("range(", "min(", "max(")):
        pytest.skip("not naturally a method")
    value = compile(method).run({}).value
    assert value == expected and type(value) is type(expected), method


def test_every_listed_builtin_is_covered():
    listed = (
        "len is_empty contains starts_with ends_with index_of to_upper to_lower trim split replace "
        "sub_string chars to_string to_int to_float parse_int parse_float keys values push pop insert "
        "remove map filter reduce find any all join sort reverse type_of to_json parse_json print debug "
        "now sha256 base64_encode base64_decode format"
    ).split()
    assert set(listed) <= set(BUILTIN_NAMES)


MUTATING = [
    ("let a = [1]; a.push(2); a", [1, 2]),
    ("let a = [1]; push(a, 2); a", [1, 2]),
    ("let a = [1, 2]; let x = a.pop(); [a, x]", [[1], 2]),
    ("let a = []; a.pop()", None),
    ("let a = [1, 3]; a.insert(1, 2); a", [1, 2, 3]),
    ("let a = [1]; insert(a, 99, 2); a", [1, 2]),
    ("let a = [1, 2]; a.insert(-1, 9); a", [1, 9, 2]),
    ("let a = [1, 2, 3]; let x = a.remove(0); [a, x]", [[2, 3], 1]),
    ("let a = [1]; a.remove(5)", None),
    ("let a = [1, 2, 3]; a.remove(-1); a", [1, 2]),
    ('let m = #{a: 1, b: 2}; let x = m.remove("a"); [m, x]', [{"b": 2}, 1]),
    ("let a = [3, 1, 2]; a.sort(); a", [1, 2, 3]),
    ('let a = ["b", "a"]; sort(a); a', ["a", "b"]),
    ("let a = [3, 1, 2]; a.sort(|x, y| y - x); a", [3, 2, 1]),
    ("let a = [1, 2.5, 0]; a.sort(); a", [0, 1, 2.5]),
    ("let a = [1, 2, 3]; a.reverse(); a", [3, 2, 1]),
    ('"abc".reverse()', "cba"),
    ("let a = [3, 1]; a.sort(); a.reverse(); a.push(0); a", [3, 1, 0]),
    ('let s = "abc"; s.to_upper(); s', "abc"),  # string methods return new strings
    ("let a = [1, 2]; a.map(|x| x * 2); a", [1, 2]),
]


@pytest.mark.parametrize(("source", "expected"), MUTATING, ids=[c[0][:40] for c in MUTATING])
def test_in_place_and_new_values(source, expected):
    assert compile(source).run({}).value == expected


def test_print_and_debug_collect_logs():
    result = compile('print("hi"); debug("hi"); print(#{a: 1}); debug(()); print(1, "x"); 5').run({})
    assert result.logs == ["hi", '"hi"', '{"a":1}', "null", "1 x"]
    assert result.value == 5


def test_logs_come_with_errors():
    with pytest.raises(ScriptError) as caught:
        compile('print("before"); let x = (); x.y').run({})
    assert caught.value.logs == ["before"]


def test_now_is_iso_time_from_an_injectable_clock():
    fixed = datetime(2024, 5, 1, 12, 30, 0, 123000, tzinfo=UTC)
    assert compile("now()").run({}, clock=lambda: fixed).value == "2024-05-01T12:30:00.123Z"
    value = compile("now()").run({}).value
    assert value.endswith("Z") and datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_format_macro_and_function_agree():
    scope = {"payload": {"n": 3}}
    a = compile('format!("Received {} commits", payload.n)').run(scope).value
    b = compile('format("Received {} commits", payload.n)').run(scope).value
    c = compile('let f = "Received {} commits"; format(f, payload.n)').run(scope).value
    assert a == b == c == "Received 3 commits"
