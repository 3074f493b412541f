"""jsonfast.loads_counting: the standard library's value (or error) and the text's count of
`{` and `[`, from the one pass that also looks for integers past 64 bits."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector import jsonfast

# Values whose JSON text holds what the fast path must tell apart: long integers (which
# orjson would read as floats), digit runs and brackets inside strings, nesting.
digits = st.text(alphabet="0123456789", min_size=15, max_size=30)
strings = (
    st.text(max_size=8)
    | digits
    | st.builds(lambda a, d, b: a + d + b, st.sampled_from(["", " ", ":", "[", "{", "x", "-"]), digits, st.text(max_size=3))
)
numbers = (
    st.integers()
    | st.integers(min_value=10**17, max_value=10**30)
    | st.integers(min_value=-(10**30), max_value=-(10**17))
    | st.floats(allow_nan=False)
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | strings,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4),
    max_leaves=25,
)


@given(json_values, st.sampled_from([(", ", ": "), (",", ":"), (",\n ", ":\t")]))
def test_value_and_bracket_count_are_the_standard_librarys(value, separators):
    text = json.dumps(value, separators=separators, ensure_ascii=False)
    got, brackets = jsonfast.loads_counting(text)
    want = json.loads(text)
    assert repr(got) == repr(want)
    assert brackets == text.count("{") + text.count("[")
    raw = text.encode("utf-8", "surrogatepass")
    assert jsonfast.loads_counting(text, raw) == (got, brackets)
    assert repr(jsonfast.loads(text)) == repr(want)


@pytest.mark.parametrize(
    "text",
    [
        "[12345678901234567890123]",
        "[[12345678901234567890123]]",
        '{"a":[1, 12345678901234567890123]}',
        '{"a":{"b":[-12345678901234567890123]}}',
        "12345678901234567890123",
        "[-99999999999999999999]",
        "[\n[\t123456789012345678901]]",
    ],
)
def test_integers_past_64_bits_after_brackets_stay_exact(text):
    value, brackets = jsonfast.loads_counting(text)
    assert repr(value) == repr(json.loads(text))
    assert brackets == text.count("{") + text.count("[")


@pytest.mark.parametrize("text", ['{"a": }', "[1,]", "{[1234567890123456789012]}", "[" * 5])
def test_errors_are_the_standard_librarys(text):
    with pytest.raises(ValueError) as fast:
        jsonfast.loads_counting(text)
    with pytest.raises(ValueError) as slow:
        json.loads(text)
    assert str(fast.value) == str(slow.value)
