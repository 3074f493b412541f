import pytest

from inspector.filters import FilterError, parse_filter
from inspector.flow.runs import FlowRun
from inspector.model import Capture, Headers, Request, Response, SignatureResult


def cap(event="order.created", tenant="demo", sig="valid", status=200, method="POST", origin="live", body=b'{"x": "needle"}', runs=()):
    req = Request(method, f"/events/webhook/{tenant}/{event}", "", Headers([("X-GitHub-Event", "push")]), body)
    return Capture(1, req, tenant, event, SignatureResult(sig), Response(status), tuple(map(FlowRun.from_json, runs)), origin)


@pytest.mark.parametrize(
    "text, capture, expected",
    [
        ("", cap(), True),
        ("type:order.*", cap(), True),
        ("type:order.*", cap(event="github"), False),
        ("type:*", cap(), True),
        ("tenant:demo", cap(tenant="acme"), False),
        ("sig:invalid", cap(sig="invalid"), True),
        ("sig:invalid,missing", cap(sig="missing"), True),
        ("-sig:valid", cap(), False),
        ("status:4xx", cap(status=401), True),
        ("status:4xx", cap(status=200), False),
        ("status:401", cap(status=401), True),
        ("method:post", cap(), True),
        ("origin:replay", cap(origin="replay"), True),
        ("flow:github", cap(runs=[{"flow": "github", "status": "ok", "path": []}]), True),
        ("flow:git*", cap(runs=[]), False),
        ("needle", cap(), True),
        ("NEEDLE", cap(), True),
        ("x-github-event", cap(), True),
        ("haystack", cap(), False),
        ("-haystack type:order.created", cap(), True),
        ('"colour:red"', cap(), False),
        ('-"colour:red"', cap(), True),
        ('"\\"x\\": \\"needle\\""', cap(), True),
    ],
)
def test_filters(text, capture, expected):
    assert parse_filter(text)(capture) is expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("sig:nope", "unknown status"),
        ("status:abc", "404"),
        ("colour:red", "unknown filter"),
        ("origin:x", "live"),
        ('"open', "quote"),
        ("type:", "needs a value"),
    ],
)
def test_bad_filters_say_why(text, message):
    with pytest.raises(FilterError, match=message):
        parse_filter(text)
