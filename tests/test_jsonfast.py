"""jsonfast gives the standard library's answers, only faster (orjson where it agrees)."""

import json

import pytest
from hypothesis import given, strategies as st

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


@pytest.mark.parametrize("value", [
    ["X-Raw", "caf\udce9"],  # a header byte that was not UTF-8, kept as a surrogate escape
    {"big": 2**70},
    {1: "non-string key"},
    {"bytes": b"\x00"},
])
def test_what_orjson_refuses_falls_back_to_the_standard_library(value):
    text = jsonfast.dumps(value)
    assert text == json.dumps(value, separators=(",", ":"), default=str)
    assert jsonfast.loads(text) == json.loads(text)


@pytest.mark.parametrize("text", ['{"a": NaN}', '[Infinity]', '"\\ud800"', '1' * 40, '{"a":1,"a":2}', '[1e400]'])
def test_loads_accepts_what_the_standard_library_accepts(text):
    got, want = jsonfast.loads(text), json.loads(text)
    assert repr(got) == repr(want)


@pytest.mark.parametrize("text", ['{"a": }', "", "[1,]", "{'a': 1}"])
def test_loads_errors_are_value_errors(text):
    with pytest.raises(ValueError):
        jsonfast.loads(text)
