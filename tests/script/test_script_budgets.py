"""Issue #16: a script cannot allocate or spin without bound. Values over a §5 limit are
refused while they are being built (not after), and every built-in whose work grows with
its input charges operations for that work, so 1,000,000 operations stay well under a
second of CPU."""

import json
import tracemalloc

import pytest

from inspector.script import Limits, ScriptError, compile

KIB = 1 << 10
MIB = 1 << 20


def peak_while(run) -> int:
    """Peak traced bytes allocated while `run()` executes."""
    tracemalloc.start()
    try:
        run()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


# 1,000 references to one 64 KiB string: cheap to hold, 64 MiB as text.
WIDE = {"a": ["x" * (64 * KIB)] * 1000}

TEXT_BUILDERS = [
    "to_json(a)",
    "to_json(#{a: a})",
    "a.to_string()",
    "`${a}`",
    "`[${a}]`",
    'format("{}", a)',
    'format!("{:?}", a)',
    'format("{} {}", a, 1)',
    '"" + a',
    'a + ""',
    'a.join("")',
    'a.join(",")',
    "print(a)",
    "debug(a)",
    'let s = ""; s += a; s',
    '[a].join("")',
]


@pytest.mark.parametrize("source", TEXT_BUILDERS)
def test_text_over_the_string_limit_is_refused_before_it_is_built(source):
    def run():
        with pytest.raises(ScriptError) as caught:
            compile(source).run(dict(WIDE))
        assert "string size limit" in caught.value.message

    # Before: each built 64 MiB (and an `a` of 65,536 such strings, 4 GiB) before checking.
    assert peak_while(run) < 8 * MIB


def test_to_json_of_a_map_of_a_huge_array_fails_fast_under_the_default_limits():
    source = 'let s = "x"; for i in 0..16 { s += s; }; let a = [s]; for i in 0..16 { a += a; }; to_json(#{a: a})'
    holder = {}

    def run():
        with pytest.raises(ScriptError) as caught:
            compile(source).run({})
        holder["error"] = caught.value

    assert peak_while(run) < 8 * MIB  # before: 4 GiB of text, or MemoryError
    assert "string size limit" in holder["error"].message and "max_string_bytes" in holder["error"].message


@pytest.mark.parametrize(
    ("source", "scope"),
    [
        ('s.split("")', {"s": "x" * MIB}),
        ("s.chars()", {"s": "ǆ" * (200 * KIB)}),
        ('s.split(",")', {"s": "," * MIB}),
        ("s.split()", {"s": "a " * (MIB // 2)}),
    ],
)
def test_splitting_refuses_too_many_parts_before_making_them(source, scope):
    def run():
        with pytest.raises(ScriptError, match="array size limit"):
            compile(source).run(scope)

    assert peak_while(run) < 6 * MIB  # before: a list of up to 1 Mi strings first (8 MiB and more)


def test_parse_json_respects_the_array_size_limit():
    text = "[" + "0," * 150_000 + "0]"
    with pytest.raises(ScriptError, match="array size limit"):
        compile("parse_json(t)").run({"t": text})
    nested = json.dumps({"a": [[1] * 3] * 50_000})  # many commas, each array small: fine
    assert compile("parse_json(t).a.len()").run({"t": nested}).value == 50_000


def test_many_large_strings_are_bounded_by_the_operation_budget():
    # Each distinct 1 MiB string costs 16,384 operations to build, so one evaluation can
    # hold about 61 of them, not 240 (before).
    source = 'let m = "x"; for i in 0..20 { m += m; }; m = m.sub_string(16); let a = []; for i in 0..1000 { a.push(m + i) }; a.len()'

    def run():
        with pytest.raises(ScriptError, match="operation limit"):
            compile(source).run({})

    assert peak_while(run) < 100 * MIB


BIG_LIST = list(range(50_000))
LONG = "x" * MIB
LONG2 = "x" * (MIB - 1) + "y"
HALF = "y" * (MIB // 2)

# (expression, scope[, budget]): each does work proportional to its input in one call, so
# one call must cost more than the budget (5,000 operations). Before, each cost less.
EXPENSIVE = [
    ("a == b", {"a": BIG_LIST, "b": list(BIG_LIST)}),
    ("a != b", {"a": BIG_LIST, "b": list(BIG_LIST)}),
    ("m == n", {"m": {str(i): i for i in range(20_000)}, "n": {str(i): i for i in range(20_000)}}),
    ("s == t", {"s": LONG, "t": "x" * MIB}),
    ("s < t", {"s": LONG, "t": LONG2}),
    ("s >= t", {"s": LONG, "t": LONG2}),
    ("a.contains(t)", {"a": [LONG] * 100, "t": LONG2}),
    ("t in a", {"a": [LONG] * 100, "t": LONG2}),
    ("a.index_of(t)", {"a": [LONG] * 100, "t": LONG2}),
    ("a.contains(-1)", {"a": BIG_LIST}),
    ("s.to_upper()", {"s": "ǆ" * (128 * KIB)}),
    ("s.to_lower()", {"s": LONG}),
    ("s.trim()", {"s": " " + HALF + " "}),
    ("s.sub_string(1)", {"s": LONG}),
    ("s.reverse()", {"s": HALF}),
    ("s.base64_encode()", {"s": HALF}),
    ("s.starts_with(t)", {"s": LONG, "t": LONG2}),
    ('s.replace("x", "y")', {"s": HALF}),
    ("parse_json(t)", {"t": json.dumps(list(range(20_000)))}),
    ("`${s}${s}`", {"s": HALF}),
    ('format("{}{}", s, s)', {"s": HALF}),
    ("s + s", {"s": HALF}),
    ("a.reverse()", {"a": list(range(100_000))}),
    ("a.insert(0, 1)", {"a": list(range(99_999))}, 1_000),
    ("a.remove(0)", {"a": list(range(100_000))}, 1_000),
    ("for x in a { break }", {"a": list(range(100_000))}),
    ("a.any(|x| true)", {"a": list(range(100_000))}),
    ("a.find(|x| true)", {"a": list(range(100_000))}),
    ("a.sort()", {"a": ["x" * (64 * KIB) + str(i) for i in range(100)]}),
    ('a.join("")', {"a": [HALF[:KIB]] * 1000}),
]


@pytest.mark.parametrize("case", EXPENSIVE, ids=[e[0] for e in EXPENSIVE])
def test_expensive_builtins_charge_operations_for_their_work(case):
    source, scope, budget = (case + (5_000,))[:3]
    with pytest.raises(ScriptError) as caught:
        compile(source).run(dict(scope), Limits(max_operations=budget))
    assert "operation limit" in caught.value.message
    assert caught.value.line == 1 and caught.value.column is not None


@pytest.mark.parametrize(
    ("source", "scope", "expected"),
    [
        ("a == b", {"a": [1, 2, [3, {}]], "b": [1, 2, [3, {}]]}, True),
        ("a == b", {"a": [1, 2], "b": [1, True]}, False),
        ("a == b", {"a": [1.0], "b": [1]}, True),
        ("m == n", {"m": {"a": [1]}, "n": {"a": [1]}}, True),
        ("s < t", {"s": "a" * 5000, "t": "a" * 4999 + "b"}, True),
        ("to_json(a)", {"a": ["é", {"k": None}]}, '["é",{"k":null}]'),
        ('a.join("-")', {"a": ["a", 1, [2], {"b": True}]}, 'a-1-[2]-{"b":true}'),
        ('s.split(",").len()', {"s": ",".join(["x"] * 100_000)}, 100_000),
        ("s.split().len()", {"s": "a b  c\n"}, 3),
    ],
)
def test_the_charged_paths_keep_their_meaning(source, scope, expected):
    assert compile(source).run(scope).value == expected


def test_typical_work_on_a_1_mib_payload_fits_the_budget():
    payload = {"items": [{"id": i, "name": f"item {i}", "tags": ["a", "b"]} for i in range(12_000)]}
    body = json.dumps(payload)
    assert MIB // 2 < len(body) <= MIB
    source = """
        let p = parse_json(body);
        let text = to_json(p);
        let names = p.items.map(|x| x.name);
        let found = p.items.filter(|x| x.id % 1000 == 0).len();
        [text.len(), names.len(), found, sha256(body).len(), body.contains("item 11999")]
    """
    value = compile(source).run({"body": body}).value
    assert value == [len(json.dumps(payload, separators=(",", ":"))), 12_000, 12, 64, True]


# ---- random builders over big values (`make fuzz` runs 30× the examples) ------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.conftest import fuzz_examples  # noqa: E402

SMALL = Limits(max_operations=50_000, max_string_bytes=4_096, max_collection_items=100)
# Cheap to hold (shared references), each far beyond SMALL's limits once turned into text.
BIG_VALUES = {
    "wide": ["x" * 10_000] * 100,
    "long": "ab" * 300_000,
    "deep": {"k": [{"v": "y" * 5_000}] * 50, "n": list(range(90))},
    "many": list(range(100)),
    "text": "a,b " * 50_000,
}
BUILDERS = [
    "to_json({v})",
    "{v}.to_string()",
    "`<${{{v}}}>`",
    'format("{{}}|{{:?}}", {v}, {v})',
    '"" + {v}',
    "{v} + {v}",
    '[{v}, {v}].join("-")',
    '{v}.split(",")',
    "{v}.split()",
    "{v}.chars()",
    "{v}.to_upper()",
    '{v}.replace("a", "aaaa")',
    "{v}.base64_encode()",
    "{v}.keys()",
    "{v}.values()",
    "[{v}, {v}]",
    "#{{a: {v}, b: {v}}}",
    "{v}.map(|x| x)",
    "{v}.filter(|x| true)",
    "{v}.reverse()",
    "{v}.sub_string(1)",
    "parse_json(to_json({v}))",
    '{v}.join("")',
    "{v}.trim()",
]


@settings(max_examples=fuzz_examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(BUILDERS), min_size=1, max_size=3), st.sampled_from(sorted(BIG_VALUES)))
def test_random_builders_never_build_past_the_limits(chain, name):
    source = name
    for builder in chain:
        source = builder.format(v=f"({source})")
    try:
        program = compile(source)
    except ScriptError:
        return
    scope = {key: value for key, value in BIG_VALUES.items()}
    holder = {}

    def run():
        try:
            holder["value"] = program.run(scope, SMALL).value
        except ScriptError as error:
            holder["error"] = error

    # Every input is far bigger as text than 1 MiB; a builder that checked only after
    # building would allocate that much.
    assert peak_while(run) < MIB, source
    if type(holder.get("value")) is str and holder["value"] not in BIG_VALUES.values():
        assert len(holder["value"].encode("utf-8", "surrogatepass")) <= SMALL.max_string_bytes, source
