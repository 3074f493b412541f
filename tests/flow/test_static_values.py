"""A static config value (an answer body or payload with no `{{ }}`) renders to a fresh
copy on every run, whether flat (copied in one call) or nested (walked): a run that changes
what it got must not change what the next run gets."""

from __future__ import annotations

import pytest

from inspector.flow.nodes import _constant, _copy

VALUES = [
    {"ok": True, "n": 1, "text": "x", "none": None, "f": 1.5},
    [1, "two", None, False],
    {"ok": True, "nested": {"a": [1, 2]}},
    [{"a": 1}, [2]],
    {},
    [],
    "text",
    12,
    None,
]


@pytest.mark.parametrize("value", VALUES)
def test_each_render_is_an_equal_fresh_copy(value):
    render = _constant(_copy(value))
    first = render({}, None)
    assert first == value and type(first) is type(value)
    if isinstance(first, dict):
        first["added"] = 1
        for v in first.values():
            if isinstance(v, (dict, list)):
                v.clear()
    elif isinstance(first, list):
        first.append("added")
        for v in first:
            if isinstance(v, (dict, list)):
                v.clear()
    second = render({}, None)
    assert second == value and (second is not first or not isinstance(value, (dict, list)))
