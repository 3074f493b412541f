"""Every time stamp in outputs comes from one formatter (model.TimeStamper)."""

from datetime import datetime, timezone

from hypothesis import given, strategies as st

from inspector.model import TimeStamper, iso_time


def reference(epoch: float) -> str:
    second = int(epoch // 1)
    stamp = datetime.fromtimestamp(second, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.")
    return f"{stamp}{int((epoch - second) * 1000) % 1000:03d}Z"


@given(st.lists(st.floats(min_value=0, max_value=4e9, allow_nan=False), min_size=1, max_size=20))
def test_stamps_match_the_plain_formula_in_any_order(epochs):
    stamper = TimeStamper()
    for epoch in epochs:
        assert stamper.text(epoch) == reference(epoch) == iso_time(epoch)


def test_millisecond_and_second_edges():
    stamper = TimeStamper()
    for base in (1700000000.0, 1700000000.999, 1700000001.0):
        for delta in (0.0, 1e-9, -1e-9, 1e-6, -1e-6, 0.0005, 0.000999):
            epoch = base + delta
            assert stamper.text(epoch) == reference(epoch)
    assert iso_time(1700000000.5) == "2023-11-14T22:13:20.500Z"
