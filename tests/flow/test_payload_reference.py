"""parse_payload and event_scope give what a plain reading of SPEC §6 gives: the reference
below (the standard library's JSON, the depth walked every time) on generated bodies."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import parse_qsl

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.flow.engine import FORM_TYPE, MAX_PAYLOAD_DEPTH, event_scope, parse_payload
from inspector.model import Capture, Headers, Request, SignatureResult, is_json_type


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def reference(text: str, content_type: str) -> tuple[Any, str | None]:
    if text == "":
        return None, None
    first = re.match(r"\s*(.)", text, re.DOTALL)
    if is_json_type(content_type) or (first is not None and first.group(1) in "{["):
        deep = f"the body is JSON nested more than {MAX_PAYLOAD_DEPTH} levels deep; payload is the text"
        try:
            value = json.loads(text)
        except RecursionError:
            return text, deep
        except ValueError as exc:
            return text, f"the body is not valid JSON ({exc}); payload is the text"
        if depth(value) > MAX_PAYLOAD_DEPTH:
            return text, deep
        return value, None
    if content_type == FORM_TYPE:
        return dict(parse_qsl(text, keep_blank_values=True)), None
    return text, None


def nested(levels: int, inner: str = "1", brackets: str = "[]") -> str:
    return brackets[0] * levels + inner + brackets[1] * levels


bodies = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda n, s: nested(n, s), st.integers(0, MAX_PAYLOAD_DEPTH + 3), st.sampled_from(["1", '"[{"', "12345678901234567890123", ""])
    ),
    st.builds(lambda n: nested(n, '{"a": 1}'), st.integers(MAX_PAYLOAD_DEPTH - 3, MAX_PAYLOAD_DEPTH + 1)),
    st.builds(lambda n: '{"s": "' + "[" * n + '", "v": [1]}', st.integers(0, 300)),
    st.builds(lambda v: json.dumps(v), st.recursive(st.integers() | st.text(max_size=5), lambda i: st.lists(i, max_size=3), max_leaves=10)),
    st.builds(lambda t: " \n" + t, st.sampled_from(["[1, 2]", "{bad", "[123456789012345678901234]", "{}"])),
)
types = st.sampled_from(["application/json", "text/plain", "", FORM_TYPE, "application/vnd.api+json"])


@settings(max_examples=400)
@given(bodies, types)
def test_parse_payload_is_the_reference(text, content_type):
    got = parse_payload(text, content_type)
    want = reference(text, content_type)
    assert repr(got) == repr(want)
    assert repr(parse_payload(text, content_type, text.encode("utf-8", "surrogatepass"))) == repr(want)


@given(bodies, st.sampled_from(["application/json; charset=utf-8", " Application/JSON ", None, "text/plain", FORM_TYPE]))
def test_event_scope_reads_the_body_as_the_reference(text, content_type):
    headers = [("X-A", "1"), ("x-a", "2")] + ([] if content_type is None else [("Content-Type", content_type)])
    req = Request("POST", "/events/webhook/t/e", "a=1&b=", Headers(headers), text.encode("utf-8", "surrogatepass"), "c", time.time())
    event, warnings = event_scope(Capture(7, req, "t", "e", SignatureResult("valid", "hmac")))
    kind = (content_type or "").split(";")[0].strip().lower()
    payload, warning = reference(text, kind)
    if kind == FORM_TYPE and isinstance(payload, dict):
        assert event["form"] == payload
    else:
        assert repr(event["payload"]) == repr(payload)
        assert warnings == ([warning] if warning else [])
    assert event["headers"] == {"x-a": "1, 2", **({} if content_type is None else {"content-type": content_type})}
    assert event["query"] == {"a": "1", "b": ""}
    assert list(event) == [
        "id",
        "tenant",
        "event_type",
        "method",
        "path",
        "query",
        "headers",
        "payload",
        "form",
        "body",
        "received_at",
        "signature",
    ]
    assert event["signature"] == {"status": "valid", "scheme": "hmac"}
