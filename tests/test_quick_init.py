"""quick_init (model.py) builds the request path's frozen dataclasses faster; they must keep
every promise the dataclass declares: defaults, default factories, keywords, immutability,
equality, hashing of equal values, dataclasses.replace and the errors for missing fields."""

import dataclasses

import pytest

from inspector.model import Capture, Headers, Request, Response, SignatureResult, quick_init
from inspector.receiver import Body


def test_defaults_and_default_factories_are_the_declared_ones():
    req = Request("POST", "/events/webhook/demo/github")
    assert (req.query, req.body, req.client, req.received_at, req.truncated, req.size) == ("", b"", None, 0.0, False, None)
    assert req.headers == Headers() and req.headers is not Request("GET", "/").headers  # a fresh one each time
    resp = Response(200)
    assert resp.headers.items == () and resp.body == b"" and resp.duration_ms is None
    sig = SignatureResult("valid")
    assert sig.hints == () and sig.reason == "" and sig.received is None


def test_positional_and_keyword_arguments_fill_the_same_fields():
    headers = Headers([("X-A", "1")])
    by_position = Request("POST", "/p", "a=1", headers, b"{}", "127.0.0.1", 5.0, True, 9)
    by_keyword = Request(
        method="POST", path="/p", query="a=1", headers=headers, body=b"{}", client="127.0.0.1", received_at=5.0, truncated=True, size=9
    )
    assert by_position == by_keyword and by_position.body_size == 9
    body = Body(b"abc", 3, False, True)
    assert (body.data, body.size, body.truncated, body.complete, body.problem) == (b"abc", 3, False, True, None)


def test_instances_stay_frozen_and_replace_works():
    req = Request("GET", "/")
    with pytest.raises(dataclasses.FrozenInstanceError):
        req.path = "/other"  # type: ignore[misc]
    changed = dataclasses.replace(req, body=b"x")
    assert changed.body == b"x" and changed.path == "/" and req.body == b""
    capture = Capture(None, req, None, None, SignatureResult("unsigned"))
    assert capture.with_(id=3).id == 3 and capture.id is None and capture.runs == () and capture.origin == "live"


def test_missing_or_unknown_arguments_are_refused_as_before():
    with pytest.raises(TypeError, match="path"):
        Request("GET")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Response(200, nonsense=1)  # type: ignore[call-arg]


def test_equal_values_hash_alike_and_the_repr_names_the_fields():
    a, b = SignatureResult("valid", "github"), SignatureResult("valid", "github")
    assert a == b and hash(a) == hash(b)
    assert repr(Response(201)).startswith("Response(status=201, headers=")


def test_quick_init_works_on_any_frozen_dataclass():
    @quick_init
    @dataclasses.dataclass(frozen=True)
    class Point:
        x: int
        y: int = 2
        tags: list = dataclasses.field(default_factory=list)

    p = Point(1)
    assert (p.x, p.y, p.tags) == (1, 2, []) and Point(1).tags is not p.tags
    assert Point(1, 3, ["a"]) == Point(x=1, y=3, tags=["a"])
