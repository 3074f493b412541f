"""The request path's answers made at once (issue #17 item 8) are the ones the long way
makes: the accepted answer of SPEC §4 rule 6, whatever its warning holds."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.config import Config
from inspector.model import Headers, Request
from inspector.pipeline import Pipeline, accepted_answer
from inspector.routes import Route

WARNINGS = [
    "",
    "no flow is triggered by event type order.created",
    'quotes " and \\ backslashes, a tab \t and a newline \n',
    "non-ASCII: café, 日本, 🎉",
    "a byte that was not UTF-8: \udcff, a lone surrogate: \ud800",
    "\x00\x1f\x7f",
]


def _long_way(cid: int, warning: str, started: float):
    return Pipeline._finish(accepted_answer(cid, warning), cid, started)


class _Broken:
    def __init__(self, reason: str):
        self._reason = reason

    def reason(self) -> str:
        return self._reason


class _Flows:
    def __init__(self, broken: list[_Broken]):
        self.broken = broken

    def broken_for(self, event_type: str) -> list[_Broken]:
        return self.broken


class _Engine:
    def __init__(self, broken: list[_Broken]):
        self.flows = _Flows(broken)


def _pipeline(broken: list[_Broken]) -> Pipeline:
    return Pipeline(Config(), engine=_Engine(broken))


@pytest.mark.parametrize("reason", WARNINGS)
@pytest.mark.parametrize("cid", [0, 1, 7, 10**12, -3])
def test_the_accepted_answer_is_json_dumps_of_it(reason, cid):
    pipeline = _pipeline([_Broken(reason)] if reason else [])
    answer = pipeline._accepted(Route("demo", "order.created"))(cid, 0.0)
    warning = "no flow is triggered by event type order.created" + (f": {reason}; fix it and it reloads" if reason else "")
    expected = _long_way(cid, warning, 0.0)
    assert (answer.status, answer.headers.items, answer.body) == (expected.status, expected.headers.items, expected.body)
    assert answer.duration_ms is not None and answer.duration_ms >= 0


@given(st.text(), st.integers(min_value=0, max_value=2**63 - 1), st.integers(min_value=0, max_value=5))
def test_any_warning_and_id_read_the_same(reason, cid, how_many):
    answer = _pipeline([_Broken(reason)] * how_many)._accepted(Route("t", "e"))(cid, 0.0)
    shown = [reason] * min(how_many, 3) + ([f"and {how_many - 3} more (`webhook-inspector check` lists them)"] if how_many > 3 else [])
    warning = "no flow is triggered by event type e" + (": " + "; ".join(shown) + "; fix it and it reloads" if how_many else "")
    expected = _long_way(cid, warning, 0.0)
    assert (answer.status, answer.headers.items, answer.body) == (expected.status, expected.headers.items, expected.body)


def test_an_unrouted_or_id_of_another_type_takes_the_long_way():
    pipeline = Pipeline(Config())
    answer = pipeline._accepted(None)(True, 0.0)  # not an int: json.dumps writes `true`
    assert answer.body == accepted_answer(True, "no flow is triggered by event type ").body  # type: ignore[arg-type]


def test_a_handled_request_carries_the_same_answer():
    pipeline = Pipeline(Config())
    request = Request("POST", "/events/webhook/demo/order.created", "", Headers.of((("Content-Type", "application/json"),)), b"{}")
    capture = asyncio.run(pipeline.handle(request))
    expected = _long_way(1, "no flow is triggered by event type order.created", 0.0)
    assert (capture.response.status, capture.response.headers.items, capture.response.body) == (
        expected.status,
        expected.headers.items,
        expected.body,
    )
