"""jsonfast gives the standard library's answers, only faster (orjson where it agrees)."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector import jsonfast

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_round_trips_like_the_standard_library(value):
    text = jsonfast.dumps(value)
    assert jsonfast.loads(text) == json.loads(text) == value


@pytest.mark.parametrize(
    "value",
    [
        ["X-Raw", "caf\udce9"],  # a header byte that was not UTF-8, kept as a surrogate escape
        {"big": 2**70},
        {1: "non-string key"},
        {"bytes": b"\x00"},
    ],
)
def test_what_orjson_refuses_falls_back_to_the_standard_library(value):
    text = jsonfast.dumps(value)
    assert text == json.dumps(value, separators=(",", ":"), default=str)
    assert jsonfast.loads(text) == json.loads(text)


@pytest.mark.parametrize("text", ['{"a": NaN}', "[Infinity]", '"\\ud800"', "1" * 40, '{"a":1,"a":2}', "[1e400]"])
def test_loads_accepts_what_the_standard_library_accepts(text):
    got, want = jsonfast.loads(text), json.loads(text)
    assert repr(got) == repr(want)


@pytest.mark.parametrize("text", ['{"a": }', "", "[1,]", "{'a': 1}"])
def test_loads_errors_are_value_errors(text):
    with pytest.raises(ValueError):
        jsonfast.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        "[123456789012345678901234]",
        '{"n": -99999999999999999999999}',
        "[-9223372036854775809]",
        " 100000000000000000000",
        '{"a":1,"b":\n 123456789012345678901}',
    ],
)
def test_integers_past_64_bits_stay_exact(text):
    assert jsonfast.loads(text) == json.loads(text)
    assert all(isinstance(v, int) for v in json_ints(jsonfast.loads(text)))


def json_ints(value):
    if isinstance(value, dict):
        value = list(value.values())
    return value if isinstance(value, list) else [value]


def test_short_numbers_take_the_fast_path(monkeypatch):
    text = '{"id": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", "n": 123456789012345678}'
    monkeypatch.setattr(jsonfast.json, "loads", lambda *_: pytest.fail("fell back to the standard library"))
    assert jsonfast.loads(text) == {"id": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", "n": 123456789012345678}


def test_long_digit_runs_inside_strings_take_the_fast_path(monkeypatch):
    text = '{"id": "0000000000000000000000000000000000000001", "order": "A12345678901234567890123"}'
    monkeypatch.setattr(jsonfast.json, "loads", lambda *_: pytest.fail("fell back to the standard library"))
    assert jsonfast.loads(text)["id"].endswith("01")


big_ints = st.builds(lambda size, sign: sign * size, st.integers(min_value=2**63, max_value=10**60), st.sampled_from([1, -1]))
separators = st.sampled_from(["", " ", "\n", "\t", "\r\n  "])


@given(big_ints, separators, separators, st.booleans())
def test_big_integers_anywhere_stay_exact(n, before, after, in_list):
    text = f"[1,{before}{n}{after}]" if in_list else f'{{"k":{before}{n}{after}}}'
    assert jsonfast.loads(text) == json.loads(text)
    value = jsonfast.loads(text)
    got = value[1] if in_list else value["k"]
    assert type(got) is int and got == n


# json.dumps' own output (separators, ensure_ascii), with what JSON cannot strictly hold too.
any_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers() | st.floats() | st.booleans() | st.none(), inner, max_size=4)
    ),
    max_leaves=20,
)


@pytest.mark.parametrize("ensure_ascii", [True, False])
@pytest.mark.parametrize("separators", [(", ", ": "), (",", ":")])
@given(value=any_values)
def test_standard_encoder_writes_what_json_dumps_writes(ensure_ascii, separators, value):
    encode = jsonfast.standard_encoder(ensure_ascii=ensure_ascii, separators=separators)
    assert encode(value) == json.JSONEncoder(ensure_ascii=ensure_ascii, separators=separators).encode(value)


def test_standard_encoder_raises_what_json_dumps_raises():
    encode = jsonfast.standard_encoder(ensure_ascii=False)
    circular: list = []
    circular.append(circular)
    for bad, kind in (({"a": object()}, TypeError), ({(1, 2): 3}, TypeError), (circular, ValueError)):
        with pytest.raises(kind) as ours:
            encode(bad)
        with pytest.raises(kind) as theirs:
            json.dumps(bad, ensure_ascii=False)
        assert str(ours.value) == str(theirs.value)
    # A failure leaves nothing behind that the next call would take for a cycle.
    shared = {"x": [1, 2]}
    with pytest.raises(TypeError):
        encode([shared, object()])
    assert encode([shared, shared]) == json.dumps([shared, shared], ensure_ascii=False)


signature_fields = st.none() | st.text(max_size=20) | st.sampled_from(["\udcff", "caf\udce9", "é\ud800", "sha256=" + "a" * 64])


@given(
    st.sampled_from(["valid", "invalid", "missing", "malformed", "unsigned", "error"]),
    signature_fields,
    signature_fields,
    signature_fields,
    st.text(max_size=30) | st.just("\udcff reason"),
    st.lists(st.text(max_size=10) | st.just("\ud800"), max_size=3),
    signature_fields,
    signature_fields,
)
def test_the_stored_signature_report_is_its_to_json(status, scheme, algorithm, header, reason, hints, received, expected):
    from inspector.model import SignatureResult
    from inspector.store.codec import signature_text

    verdict = SignatureResult(status, scheme, algorithm, header, reason, tuple(hints), received, expected)
    assert signature_text(verdict) == jsonfast.dumps(verdict.to_json())
