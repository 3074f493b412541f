"""`import` of files that are wrong in every way: a clear error naming the entry and the field,
never a traceback, never a capture that breaks what reads it later."""

from __future__ import annotations

import base64
import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.export import ImportFailed, export, read_import, to_curl, to_httpie
from inspector.model import Capture, SignatureResult, iso_time
from tests.conftest import run_cli


def valid_har() -> dict:
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "t", "version": "1"},
            "entries": [
                {
                    "startedDateTime": "2024-05-01T10:00:00.000Z",
                    "time": 12.5,
                    "request": {
                        "method": "POST",
                        "url": "https://abc.ngrok.app/events/webhook/demo/x?a=1",
                        "httpVersion": "HTTP/1.1",
                        "headers": [
                            {"name": "Content-Type", "value": "application/json"},
                            {"name": "X-Raw", "value": "\ufffd", "_bytes_base64": "/w=="},
                        ],
                        "queryString": [],
                        "cookies": [],
                        "headersSize": -1,
                        "bodySize": 2,
                        "postData": {"mimeType": "application/json", "text": "{}"},
                    },
                    "response": {
                        "status": 200,
                        "statusText": "OK",
                        "httpVersion": "HTTP/1.1",
                        "headers": [{"name": "X-A", "value": "1"}],
                        "cookies": [],
                        "content": {"size": 2, "mimeType": "application/json", "text": "{}"},
                        "redirectURL": "",
                        "headersSize": -1,
                        "bodySize": 2,
                    },
                    "cache": {},
                    "timings": {"send": 0, "wait": 12.5, "receive": 0},
                },
            ],
        }
    }


def har_with(path: list, value, entries: int = 1) -> bytes:
    data = valid_har()
    data["log"]["entries"] *= entries
    data["log"]["entries"] = [copy.deepcopy(e) for e in data["log"]["entries"]]
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(data).encode()


DELETE = object()
E = ["log", "entries", 3]
REQ = E + ["request"]


@pytest.mark.parametrize(
    "path, value, message",
    [
        (REQ + ["method"], "POST;$'\\164ouch /tmp/x'", r"log.entries\[3\].request.method: not an HTTP method token"),
        (REQ + ["method"], "GET /x HTTP/1.1\r\nX:", r"log.entries\[3\].request.method: not an HTTP method token"),
        (REQ + ["method"], "", r"log.entries\[3\].request.method: not an HTTP method token"),
        (REQ + ["method"], "A" * 33, r"log.entries\[3\].request.method: not an HTTP method token"),
        (REQ + ["method"], None, r"log.entries\[3\].request.method: expected an HTTP method"),
        (REQ + ["method"], 7, r"log.entries\[3\].request.method: expected an HTTP method .* got a number"),
        (REQ + ["method"], DELETE, r"log.entries\[3\].request.method: missing"),
        (REQ + ["url"], DELETE, r"log.entries\[3\].request.url: missing"),
        (REQ + ["url"], ["/x"], r"log.entries\[3\].request.url: expected a URL string, got a list"),
        (REQ + ["url"], "/x y", r"log.entries\[3\].request.url: holds ' '"),
        (REQ + ["url"], "ftp://h/x", r"log.entries\[3\].request.url: .* neither an http\(s\) URL"),
        (REQ + ["url"], "/" + "a" * 70_000, r"log.entries\[3\].request.url: 70001 characters"),
        (REQ + ["headers"], {"a": 1}, r"log.entries\[3\].request.headers: expected a list"),
        (REQ + ["headers", 0], "Content-Type: x", r"log.entries\[3\].request.headers\[0\]: expected a \{\"name\", \"value\"\} object"),
        (REQ + ["headers", 0, "name"], "Bad Name", r"log.entries\[3\].request.headers\[0\].name: 'Bad Name' is not a header name"),
        (REQ + ["headers", 0, "name"], "X:y", r"log.entries\[3\].request.headers\[0\].name: 'X:y' is not a header name"),
        (REQ + ["headers", 0, "name"], None, r"log.entries\[3\].request.headers\[0\].name: expected a string, got null"),
        (
            REQ + ["headers", 0, "value"],
            "a\r\nX-Injected: 1",
            r"log.entries\[3\].request.headers\[0\].value: holds the control character '\\r'",
        ),
        (REQ + ["headers", 0, "value"], "a\nb", r"log.entries\[3\].request.headers\[0\].value: holds the control character '\\n'"),
        (REQ + ["headers", 0, "value"], "a\x00b", r"log.entries\[3\].request.headers\[0\].value: holds the control character '\\x00'"),
        (REQ + ["headers", 0, "value"], 5, r"log.entries\[3\].request.headers\[0\].value: expected a string, got a number"),
        (REQ + ["headers", 0, "value"], DELETE, r"log.entries\[3\].request.headers\[0\].value: missing"),
        (REQ + ["headers", 0, "value"], "x" * 70_000, r"log.entries\[3\].request.headers\[0\].value: 70000 characters"),
        (REQ + ["headers", 0, "value"], "\ud800", r"log.entries\[3\].request.headers\[0\].value: holds a lone surrogate"),
        (REQ + ["headers", 1, "_bytes_base64"], "%%", r"log.entries\[3\].request.headers\[1\]._bytes_base64: not base64"),
        (
            REQ + ["headers", 1, "_bytes_base64"],
            base64.b64encode(b"a\r\nb").decode(),
            r"log.entries\[3\].request.headers\[1\]._bytes_base64: holds the control byte",
        ),
        (REQ + ["postData"], "{}", r"log.entries\[3\].request.postData: expected an object"),
        (REQ + ["postData", "text"], 12, r"log.entries\[3\].request.postData.text: expected a string, got a number"),
        (REQ + ["postData", "text"], "\udfff", r"log.entries\[3\].request.postData.text: holds a lone surrogate"),
        (REQ + ["postData", "encoding"], "gzip", r"log.entries\[3\].request.postData.encoding: 'gzip' is not understood"),
        (
            E + ["startedDateTime"],
            "0001-01-01T00:00:00+14:00",
            r"log.entries\[3\].startedDateTime: '0001-01-01T00:00:00\+14:00' is outside the years 1–9999",
        ),
        (
            E + ["startedDateTime"],
            "9999-12-31T23:59:59-14:00",
            r"log.entries\[3\].startedDateTime: '9999-12-31T23:59:59-14:00' is outside the years 1–9999",
        ),
        (E + ["startedDateTime"], "yesterday", r"log.entries\[3\].startedDateTime: 'yesterday' is not an ISO 8601 time"),
        (E + ["startedDateTime"], 1714557600, r"log.entries\[3\].startedDateTime: expected an ISO 8601 time .* got a number"),
        (E + ["time"], -5, r"log.entries\[3\].time: -5 is not a duration"),
        (E + ["time"], "12", r"log.entries\[3\].time: expected a number, got a string"),
        (E + ["time"], 10**400, r"log.entries\[3\].time: .* is not a duration"),
        (E + ["response"], [], r"log.entries\[3\].response: expected an object, got a list"),
        (E + ["response", "status"], -200, r"log.entries\[3\].response.status: -200 is not an HTTP status"),
        (E + ["response", "status"], 10**30, r"log.entries\[3\].response.status: .* is not an HTTP status"),
        (E + ["response", "status"], True, r"log.entries\[3\].response.status: expected a status code .* got a boolean"),
        (E + ["response", "status"], "200", r"log.entries\[3\].response.status: expected a status code .* got a string"),
        (E + ["response", "content", "text"], [1], r"log.entries\[3\].response.content.text: expected a string, got a list"),
        (E + ["response", "headers", 0, "name"], "", r"log.entries\[3\].response.headers\[0\].name: '' is not a header name"),
        (E, None, r"log.entries\[3\]: expected an object, got null"),
        (E + ["request"], DELETE, r"log.entries\[3\].request: missing"),
        (E + ["request"], "GET /", r"log.entries\[3\].request: expected an object, got a string"),
    ],
)
def test_every_wrong_field_is_named(path, value, message):
    with pytest.raises(ImportFailed, match=message):
        read_import(har_with(path, value, entries=5), 0)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"requests": [{"request": {"method": "GET;rm", "uri": "/x"}}]}, r"requests\[0\].request.method: not an HTTP method token"),
        (
            {"requests": [{"request": {"raw": base64.b64encode(b"G(T /x HTTP/1.1\r\n\r\n").decode()}}]},
            r"requests\[0\].request.raw: the request line's method: not an HTTP method token",
        ),
        (
            {"requests": [{"request": {"raw": base64.b64encode(b"GET /x HTTP/1.1\r\nBad Name: 1\r\n\r\n").decode()}}]},
            r"requests\[0\].request.raw: line 2 of the raw message: 'Bad Name' is not a header name",
        ),
        (
            {"requests": [{"request": {"method": "GET", "uri": "/x", "headers": {"X": ["a\rb"]}}}]},
            r"requests\[0\].request.headers\['X'\]\[0\].value: holds the control character",
        ),
        (
            {"requests": [{"request": {"method": "GET", "uri": "/x"}, "start": "10000-01-01T00:00:00Z"}]},
            r"requests\[0\].start: .* is not an ISO 8601 time",
        ),
        (
            {"requests": [{"request": {"method": "GET", "uri": "/x"}, "start": "0001-01-01T00:00:00.5+00:01"}]},
            r"requests\[0\].start: .* outside the years 1–9999",
        ),
        (
            {
                "requests": [
                    {"request": {"method": "GET", "uri": "/x"}, "response": {"raw": base64.b64encode(b"HTTP/1.1 abc\r\n\r\n").decode()}}
                ]
            },
            r"requests\[0\].response.raw: the raw answer has no status line",
        ),
        ({"requests": [{"request": {"method": "GET", "uri": "/x"}, "remote_addr": 5}]}, r"requests\[0\].remote_addr: expected a string"),
        ({"requests": [None]}, r"requests\[0\]: expected an object, got null"),
        ([{"method": "POST", "path": "/x", "body_base64": "!!"}], r"\[0\].body_base64: not base64"),
        ({"method": "P OST", "path": "/x", "body_base64": ""}, r"capture.method: not an HTTP method token"),
        (
            {"method": "POST", "path": "/x", "body_base64": "", "headers": [["X", "1", "2"]]},
            r"capture.headers\[0\]: expected a \[name, value\] pair",
        ),
    ],
)
def test_ngrok_and_json_fields_are_named(data, message):
    with pytest.raises(ImportFailed, match=message):
        read_import(json.dumps(data).encode(), 0)


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "the file is empty"),
        (b"  \n", "the file is empty"),
        (b"\xff\xfe{}", "not UTF-8 JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"log": {"entries": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}}", "nested too deeply"),
        (b'{"log": {"entries": [{"time": NaN}]}}', "NaN is not JSON"),
        (b'{"a": ' + b"9" * 5000 + b"}", "not JSON"),
    ],
)
def test_unreadable_files_say_why(raw, message):
    with pytest.raises(ImportFailed, match=message):
        read_import(raw, 0)


def test_cli_import_of_hostile_files_exits_cleanly(tmp_path):
    (tmp_path / "answers.json").write_text('{"events-webhook": {}}')
    common = ["--answers", str(tmp_path / "answers.json"), "--store", str(tmp_path / "s.sqlite3")]
    cases = {
        "empty.har": (b"", 1, "the file is empty"),
        "latin1.har": ('{"log": "caf\xe9"}'.encode("latin-1"), 1, "not UTF-8 JSON"),
        "deep.har": (b"[" * 100_000 + b"]" * 100_000, 1, "nested too deeply"),
        "evil.har": (
            har_with(REQ + ["method"], "POST;$'\\164ouch /tmp/x'", entries=4),
            1,
            "log.entries[3].request.method: not an HTTP method token",
        ),
    }
    for name, (raw, code, message) in cases.items():
        (tmp_path / name).write_bytes(raw)
        r = run_cli(*common, "import", str(tmp_path / name), cwd=tmp_path)
        assert r.returncode == code and message in r.stderr.decode(), (name, r.stderr)
        assert b"Traceback" not in r.stderr
    (tmp_path / "adir").mkdir()
    r = run_cli(*common, "import", str(tmp_path / "adir"), cwd=tmp_path)
    assert r.returncode == 2 and b"cannot read" in r.stderr and b"Traceback" not in r.stderr
    assert not (tmp_path / "x").exists()


# Random damage to a valid HAR: the import either succeeds with captures every view can show
# and export, or fails with ImportFailed.

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


def valid_ngrok() -> dict:
    raw = b"POST /events/webhook/demo/x?a=1 HTTP/1.1\r\nHost: abc.ngrok.app\r\nX-Raw: \xff\r\nContent-Length: 2\r\n\r\n{}"
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    return {
        "uri": "/api/requests/http",
        "requests": [
            {
                "id": "airt_1",
                "remote_addr": "203.0.113.9",
                "start": "2024-05-01T10:00:00.123456789Z",
                "duration": 5_000_000,
                "request": {
                    "method": "POST",
                    "uri": "/events/webhook/demo/x?a=1",
                    "headers": {"Host": ["abc.ngrok.app"]},
                    "raw": base64.b64encode(raw).decode(),
                },
                "response": {"status_code": 200, "raw": base64.b64encode(answer).decode()},
            }
        ],
    }


def valid_json_export() -> list:
    return [
        {
            "id": 1,
            "received_at": "2024-05-01T10:00:00.000Z",
            "method": "POST",
            "path": "/events/webhook/demo/x",
            "query": "a=1",
            "headers": [["X-Raw", "\ufffd"], ["Content-Type", "application/json"]],
            "headers_base64": [["X-Raw", "/w=="], ["Content-Type", "YXBwbGljYXRpb24vanNvbg=="]],
            "body_base64": "e30=",
            "response": {"status": 200, "headers": [["X-A", "1"]], "body": {}, "body_base64": "e30=", "duration_ms": 1.5},
        }
    ]


DOCUMENTS = {"har": valid_har, "ngrok": valid_ngrok, "json": valid_json_export}
ALL_PATHS = [(kind, p) for kind, make in DOCUMENTS.items() for p in _paths(make()) if p]
SPECIAL = st.sampled_from(
    [
        "",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "POST;id",
        "\r\n",
        "\x00",
        "\ud800",
        "\udcff",
        -1,
        0,
        2**63,
        -(2**63),
        1e308,
        [],
        {},
        "/%zz",
        "http://[::1",
        "http://h:99999/x",
        "A" * 40,
    ]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), st.one_of(json_values, SPECIAL), st.booleans()), min_size=1, max_size=4))
def test_random_damage_imports_or_fails_cleanly(mutations):
    kind = mutations[0][0][0]
    data = DOCUMENTS[kind]()
    for (other, path), value, delete in mutations:
        if other != kind:
            continue
        target = data
        try:
            for key in path[:-1]:
                target = target[key]
            if delete:
                del target[path[-1]]
            else:
                # a copy: the same generated value placed twice, once inside the
                # other, would make the document circular (json.dumps refuses it)
                target[path[-1]] = copy.deepcopy(value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced that part
    raw = json.dumps(data).encode("utf-8", "surrogatepass")
    try:
        kind, items = read_import(raw, 1_700_000_000.0)
    except ImportFailed as exc:
        assert str(exc)
        return
    for request, response in items:
        capture = Capture(1, request, None, None, SignatureResult("unsigned"), response)
        iso_time(request.received_at)
        to_curl(capture, "http://h:1")
        to_httpie(capture, "http://h:1")
        for fmt in ("har", "json"):
            export([capture], fmt, "http://h:1", None).encode("utf-8")


@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
def test_the_undamaged_documents_import(kind):
    found, [(request, response)] = read_import(json.dumps(DOCUMENTS[kind]()).encode(), 0)
    assert found == kind and request.method == "POST" and request.query == "a=1"
    assert request.headers.get("X-Raw").encode("utf-8", "surrogateescape") == b"\xff"
    assert response.status == 200
