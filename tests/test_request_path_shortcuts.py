"""The request path's shortcuts (issue #17 item 8) give what the long way gives: the route
cache, serve's request line, and the HMAC check's common case."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from inspector import routes
from inspector.cli.serve import summary_line
from inspector.flow.model import BROKEN_FLOW_NOTE
from inspector.model import Capture, Headers, Request, Response, SignatureResult
from inspector.pipeline import REJECTED_NOTE
from inspector.signatures.base import Key, SignedRequest
from inspector.signatures.hmac_body import GitHub, Sha1, Sha512

PATHS = [
    "/events/webhook/demo/order.created",
    "/events/webhook/de%6Do/order.created",
    "/events/webhook/demo/order.created/",
    "/events/webhook/demo/..",
    "/events/webhook/%ff/x",
    "/v1/events/ingress/github/acme/team1/push",
    "/nowhere",
    "",
]


@pytest.mark.parametrize("path", PATHS)
def test_a_cached_route_is_the_parsed_one(path):
    parsed = routes._match(path)
    assert routes.match_route(path) == parsed
    assert routes.match_route(path) == parsed  # the second time from the cache


def test_the_route_cache_stays_bounded_whatever_is_sent():
    for i in range(3 * routes.ROUTE_CACHE_SIZE):
        path = f"/events/webhook/t{i}/e{i}" if i % 2 else f"/scan/{i}"
        assert (routes.match_route(path) is not None) == bool(i % 2)
        assert len(routes._ROUTES) <= routes.ROUTE_CACHE_SIZE
    long_path = "/events/webhook/demo/" + "x" * routes.ROUTE_CACHE_PATH
    assert routes.match_route(long_path) == routes.Route("demo", "x" * routes.ROUTE_CACHE_PATH)
    assert long_path not in routes._ROUTES


def _capture(**changes) -> Capture:
    request = changes.pop("request", Request("POST", "/events/webhook/demo/github"))
    capture = Capture(
        id=1,
        request=request,
        tenant="demo",
        event_type="github",
        signature=SignatureResult("valid"),
        response=Response(202, Headers(), b"", 3.14159),
        runs=(),
    )
    return capture.with_(**changes)


@pytest.mark.parametrize(
    "changes, line",
    [
        ({}, "[202] POST /events/webhook/demo/github  sig=valid  flows=0  3.1ms"),
        ({"response": None}, "[---] POST /events/webhook/demo/github  sig=valid  flows=0  0.0ms"),
        ({"response": Response(200, Headers(), b"", None)}, "[200] POST /events/webhook/demo/github  sig=valid  flows=0  0.0ms"),
        ({"request": Request("POST", "/p", "a=1")}, "[202] POST /p?a=1  sig=valid  flows=0  3.1ms"),
        ({"request": Request("POST", "/" + "x" * 120)}, "[202] POST /" + "x" * 98 + "…  sig=valid  flows=0  3.1ms"),
        (
            {"origin": "replay", "replay_of": 7},
            "[202] POST /events/webhook/demo/github  sig=valid  flows=0  3.1ms  origin=replay replay_of=7",
        ),
        ({"origin": "sample"}, "[202] POST /events/webhook/demo/github  sig=valid  flows=0  3.1ms  origin=sample"),
        (
            {
                "notes": (
                    "other",
                    BROKEN_FLOW_NOTE + "flows/a.yaml:3:4: bad",
                    BROKEN_FLOW_NOTE + "no place",
                    BROKEN_FLOW_NOTE + "b.yaml:1:2: x",
                )
            },
            "[202] POST /events/webhook/demo/github  sig=valid  flows=0  3.1ms  flow failed to load: flows/a.yaml:3:4, b.yaml:1:2",
        ),
        (
            {"origin": "replay", "notes": (BROKEN_FLOW_NOTE + "a.yaml:3:4: bad",)},
            "[202] POST /events/webhook/demo/github  sig=valid  flows=0  3.1ms  origin=replay  flow failed to load: a.yaml:3:4",
        ),
        (
            {"notes": (REJECTED_NOTE + "more than 128 headers",), "response": Response(400, Headers(), b"", 0.5)},
            "[400] rejected before routing: more than 128 headers  POST /events/webhook/demo/github",
        ),
        (
            {"notes": (REJECTED_NOTE + "bad method",), "request": Request("", "/x")},
            "[202] rejected before routing: bad method",
        ),
    ],
)
def test_serve_request_lines(changes, line):
    assert summary_line(_capture(**changes)) == line


SECRET = "a-secret-long-enough-for-a-provider"
BODY = b'{"zen": "Keep it logically awesome."}'


@pytest.mark.parametrize("scheme", [GitHub(), Sha1(), Sha512()])
@pytest.mark.parametrize("shape", ["as made", "bare", "upper", "spaces"])
def test_a_valid_hmac_reads_the_same_by_either_way(scheme, shape):
    mac = hmac.new(SECRET.encode(), BODY, getattr(hashlib, scheme.digest)).hexdigest()
    value = {
        "as made": f"{scheme.digest}={mac}",
        "bare": mac,
        "upper": f"{scheme.digest}={mac.upper()}",
        "spaces": f" {scheme.digest}={mac} ",
    }[shape]
    req = SignedRequest("POST", "http://x/", Headers([(scheme.header, value)]), BODY)
    verdict = scheme.verify(req, Key(SECRET, scheme.header, None, 0.0))
    assert verdict.status == "valid"
    assert verdict.reason == f"`{scheme.header}` matches the HMAC-{scheme.digest.upper()} of the body."
    assert verdict.expected == f"{scheme.digest}={mac}"
    assert verdict.received == (value if len(value) <= 80 else value[:79] + "…")


def test_a_near_miss_is_not_taken_for_the_common_case():
    mac = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    scheme = GitHub()
    for value, status in [(f"sha256={mac[:-1]}0" if mac[-1] != "0" else f"sha256={mac[:-1]}1", "invalid"), (f"sha256={mac}é", "malformed")]:
        req = SignedRequest("POST", "http://x/", Headers([(scheme.header, value)]), BODY)
        assert scheme.verify(req, Key(SECRET, scheme.header, None, 0.0)).status == status


@pytest.mark.parametrize(
    "data",
    [
        {"status": 200, "headers": {}, "body": {"ok": True, "result": "Received 20 commits", "n": [1, 2.5, None]}},
        {"status": 201, "headers": {"X-A": "1", "content-type": "application/x+json"}, "body": {"é": "\u2603 \ud800"}},
        {"status": "202", "headers": {"X-B": "caf\udce9"}, "body": "text \udcff body"},
        {"headers": None, "body": None},
        {"status": 418, "body": [1, "two", {"three": 3}]},
    ],
)
def test_a_flow_answer_made_at_once_is_the_finished_answer(data):
    from inspector.pipeline import Pipeline, response_from_flow

    at_once = response_from_flow(data, 17, 0.0)
    finished = Pipeline._finish(response_from_flow(data), 17, 0.0)
    assert (at_once.status, at_once.headers.items, at_once.body) == (finished.status, finished.headers.items, finished.body)
    assert at_once.duration_ms is not None and at_once.headers.items[-1] == ("X-Inspector-Capture", "17")


# The pipeline's quick signature check (signatures.verify.quick_checks): whenever it answers,
# it answers what verify_request does; it answers the usual signed request.

_ENTRY_SHAPES = [
    ("github", "github", None),
    ("sha256", "sha256", "X-Sig"),
    ("sha1", "sha1", None),
    ("sha512", "sha512", "X-Other"),
    ("bitbucket", "bitbucket", None),
    ("stripe", "stripe", None),
    ("shopify", "shopify", None),
    ("short", "sha256", None),
]


def _quick_config():
    from inspector.config import Config, SignatureEntry

    entries = tuple(
        SignatureEntry(name, algorithm, header, "tiny" if name == "short" else SECRET + name) for name, algorithm, header in _ENTRY_SHAPES
    )
    # A second entry of a name is never the one selected, nor one with a problem.
    entries += (
        SignatureEntry("github", "sha256", "X-Never", "other"),
        SignatureEntry("broken", "sha256", None, "x", problems=(("signatures.broken.secret", "bad"),)),
    )
    return Config(signatures=entries)


def _header_values(scheme_name, secret, body):
    digest = {"sha1": "sha1", "sha512": "sha512"}.get(scheme_name, "sha256")
    mac = hmac.new(secret.encode(), body, getattr(hashlib, digest)).hexdigest()
    return [
        f"{digest}={mac}",
        mac,
        f"{digest}={mac.upper()}",
        f" {digest}={mac}",
        f"{digest}={mac[:-1]}",
        "sha1=" + mac,
        f"{digest}={mac}é",
        "",
    ]


@pytest.mark.parametrize("name", [n for n, _a, _h in _ENTRY_SHAPES] + ["broken", "unknown"])
def test_the_quick_signature_check_answers_as_verify_request_does(name):
    from inspector.signatures.verify import quick_checks, select, verify_request

    config = _quick_config()
    checks = quick_checks(config)
    for body in (BODY, b"", b"\xff\x00 binary"):
        probe = Request("POST", f"/events/webhook/demo/{name}", "", Headers([("X-Probe", "1")]), body)
        selection = select(config, probe, name)
        header = selection.header if selection is not None else "X-Hub-Signature-256"
        secret = selection.entry.secret if selection is not None else SECRET
        for value in _header_values(selection.scheme.algorithm if selection and selection.scheme else "sha256", secret, body):
            request = Request("POST", probe.path, "", Headers([("Content-Type", "application/json"), (header, value)]), body)
            full = verify_request(config, request, name, "http://127.0.0.1:8080" + request.path, 1_700_000_000.0)
            quick = checks[name](request) if name in checks else None
            if quick is not None:
                assert quick == full, (name, value)
    # The usual request takes the quick way for every body-HMAC entry, and only those.
    assert set(checks) == {"github", "sha256", "sha1", "sha512", "bitbucket", "short"}
    if name in checks:
        value = _header_values(select(config, probe, name).scheme.algorithm, select(config, probe, name).entry.secret, BODY)[0]
        header = select(config, probe, name).header
        request = Request("POST", probe.path, "", Headers([(header, value)]), BODY)
        assert checks[name](request) == verify_request(config, request, name, "http://x/") != None  # noqa: E711
        assert checks[name](request).status == "valid"


def test_the_pipeline_checks_with_the_reloaded_secret():
    import asyncio

    from inspector.config import Config, SignatureEntry
    from inspector.pipeline import Pipeline

    def signed(secret):
        mac = hmac.new(secret.encode(), BODY, hashlib.sha256).hexdigest()
        return Request("POST", "/events/webhook/demo/github", "", Headers([("X-Hub-Signature-256", f"sha256={mac}")]), BODY)

    pipeline = Pipeline(Config(signatures=(SignatureEntry("github", "github", None, SECRET),)))
    assert pipeline.verify(signed(SECRET), "github").status == "valid"
    pipeline.config = Config(signatures=(SignatureEntry("github", "github", None, SECRET + "-rotated"),))
    assert pipeline.verify(signed(SECRET), "github").status == "invalid"
    assert pipeline.verify(signed(SECRET + "-rotated"), "github").status == "valid"
    capture = asyncio.run(pipeline.handle(signed(SECRET + "-rotated")))
    assert capture.signature.status == "valid" and capture.signature.reason.endswith("matches the HMAC-SHA256 of the body.")
