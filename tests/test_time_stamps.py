"""Every time stamp in outputs comes from one formatter (model.TimeStamper)."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from inspector.model import TimeStamper, iso_time, odd_time


def reference(epoch: float) -> str:
    second = int(epoch // 1)
    stamp = datetime.fromtimestamp(second, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")
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


@given(st.floats(min_value=-62135596800.0, max_value=253402300799.999, allow_nan=False))
def test_the_calendar_outside_datetimes_years_agrees_with_datetime_inside_them(epoch):
    """odd_time, which writes the years strftime cannot, counts days as datetime does."""
    second = int(epoch // 1)
    moment = datetime.fromtimestamp(second, tz=UTC)
    expected = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{int((epoch - second) * 1000) % 1000:03d}Z"
    assert odd_time(epoch) == expected == iso_time(epoch)


def test_times_no_calendar_date_fits_are_written_not_raised():
    # Issue #21: an import dated 0001-01-01T00:00:00+14:00 is in year 0 in UTC.
    assert iso_time(-62135596800.0 - 14 * 3600) == "0000-12-31T10:00:00.000Z"
    assert iso_time(-62135596800.0) == "0001-01-01T00:00:00.000Z"  # strftime would write "1-01-01"
    assert iso_time(253402300800.0) == "+010000-01-01T00:00:00.000Z"
    assert iso_time(-8.64e12) == "-271821-04-20T00:00:00.000Z"  # ECMAScript's first Date
    for value, text in (
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
        (1e20, "1e+20"),
        (8.64e12 + 1, "8640000000001.0"),
    ):
        assert iso_time(value) == f"invalid time ({text})"
    assert iso_time("2024-01-01") == "invalid time (str)" and iso_time(None) == "invalid time (NoneType)"
    stamper = TimeStamper()  # the cached window never answers for an odd time
    assert stamper.text(1700000000.5) == "2023-11-14T22:13:20.500Z"
    assert stamper.text(float("nan")) == "invalid time (nan)"
