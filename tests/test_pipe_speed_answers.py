"""response_from_flow takes a short way when a flow's answer sets no headers: the answer
must be the one the general way makes, whatever the body and the headers given."""

from __future__ import annotations

import pytest

from inspector.model import Headers, Response, unicode_text
from inspector.pipeline import _encode_flow_body, _text_bytes, response_from_flow


def general(data: dict) -> Response:
    """Every answer the way it was made before the short way (headers, then the body)."""
    body = data.get("body")
    headers = [(str(k), v if v.isascii() else unicode_text(v)) for k, v in (data.get("headers") or {}).items()]
    has_type = any(k.lower() == "content-type" for k, _ in headers)
    if body is None:
        raw = b""
    elif isinstance(body, str):
        raw = _text_bytes(body)
        if not has_type:
            headers.append(("Content-Type", "text/plain; charset=utf-8"))
    else:
        raw = unicode_text(_encode_flow_body(body)).encode("utf-8")
        if not has_type:
            headers.append(("Content-Type", "application/json"))
    return Response(int(data.get("status", 200)), Headers.of(tuple(headers)), raw)


BODIES = [None, "", "text", "caf\xe9 \udcff", {"ok": True, "result": "Received 20 commits"}, [1, "é", None], 0, {}]
HEADERS = [..., None, {}, [], {"X-A": "1"}, {"content-type": "text/csv"}, {"Content-Type": "application/x+json", "X-B": "\xe9"}]


@pytest.mark.parametrize("headers", HEADERS, ids=repr)
@pytest.mark.parametrize("body", BODIES, ids=repr)
def test_the_short_way_makes_the_general_answer(body, headers):
    data = {"status": 201, "body": body}
    if headers is not ...:
        data["headers"] = headers
    assert response_from_flow(data) == general(data)
    numbered = response_from_flow(data, 7, 0.0)
    expected = general(data)
    assert numbered.status == expected.status and numbered.body == expected.body
    assert numbered.headers.items == expected.headers.items + (("X-Inspector-Capture", "7"),)
