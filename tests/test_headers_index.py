"""Headers' lookups against the plain walk over its pairs that defines them (the index is one
comprehension when no name repeats, and a join of the values in order when one does)."""

from hypothesis import given
from hypothesis import strategies as st

from inspector.model import Headers

NAMES = st.sampled_from(["Content-Type", "content-type", "X-Sig", "x-sig", "X-SIG", "Host", "Ä-ß", "a"])
PAIRS = st.lists(st.tuples(NAMES, st.text(max_size=6)), max_size=8)


def _walk(items: list[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in items if k.lower() == name.lower()]


@given(PAIRS, NAMES)
def test_lookups_are_the_walk_over_the_pairs(items, name):
    for headers in (Headers(items), Headers.of(tuple(items))):
        values = _walk(items, name)
        assert headers.get_all(name) == values
        assert headers.get(name) == (", ".join(values) if values else None)
        assert headers.get(name, "none") == (", ".join(values) if values else "none")
        assert (name in headers) == bool(values)
        lowered = headers.lowered()
        assert lowered == {k.lower(): ", ".join(_walk(items, k)) for k, _ in items}
        assert list(lowered) == list(dict.fromkeys(k.lower() for k, _ in items))  # first-seen order
        lowered["injected"] = "x"  # a copy: the flow's scope may change it
        assert "injected" not in headers


def test_repeated_values_join_in_order_and_stay_apart_for_get_all():
    headers = Headers([("X-A", "1"), ("Host", "h"), ("x-a", "2"), ("X-A", "3")])
    assert headers.get("x-a") == "1, 2, 3"
    assert headers.get_all("X-A") == ["1", "2", "3"]
    assert headers.lowered() == {"x-a": "1, 2, 3", "host": "h"}
    assert headers.get_all("missing") == [] and headers.get("missing") is None
