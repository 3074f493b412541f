"""response_from_flow takes a short way when a flow's answer sets no headers: the answer must
be the one the general way makes. The general way is asked with one extra header, which is
then taken out of its answer."""

from __future__ import annotations

import pytest

from inspector.model import Headers, Response
from inspector.pipeline import response_from_flow

PROBE = ("X-Probe", "1")
BODIES = [None, "", "text", "caf\xe9 \udcff", {"ok": True, "result": "Received 20 commits"}, [1, "é", None], 0, {}]
NO_HEADERS = [..., None, {}, []]


def without_probe(response: Response) -> tuple:
    items = list(response.headers.items)
    items.remove(PROBE)
    return response.status, Headers.of(tuple(items)), response.body


@pytest.mark.parametrize("headers", NO_HEADERS, ids=repr)
@pytest.mark.parametrize("body", BODIES, ids=repr)
def test_an_answer_without_headers_is_the_general_one(body, headers):
    data = {"status": 201, "body": body}
    if headers is not ...:
        data["headers"] = headers
    general = dict(data, headers=dict([PROBE]))
    short = response_from_flow(data)
    assert (short.status, short.headers, short.body) == without_probe(response_from_flow(general))
    numbered = response_from_flow(data, 7, 0.0)
    assert (numbered.status, numbered.headers, numbered.body) == without_probe(response_from_flow(general, 7, 0.0))
    assert numbered.headers.items[-1] == ("X-Inspector-Capture", "7")


@pytest.mark.parametrize("headers", [{"X-A": "1"}, {"content-type": "text/csv"}, {"Content-Type": "application/x+json", "X-B": "\xe9"}])
def test_headers_given_still_come_first_and_name_the_type(headers):
    answer = response_from_flow({"status": 200, "headers": headers, "body": {"a": 1}})
    names = [k for k, _ in answer.headers.items]
    assert names[: len(headers)] == list(headers)
    assert sum(k.lower() == "content-type" for k in names) == 1
