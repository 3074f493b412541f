"""Whatever a sender puts in the headers, no scheme and no diagnosis raises (SPEC §3: `verify` never fails)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sig_cases import CASES, NOW, URL

from inspector.model import SIGNATURE_STATUSES, Headers
from inspector.signatures.base import Key, SignedRequest
from inspector.signatures.diagnose import hints_for
from tests.conftest import fuzz_examples

# Any text at all, surrogates and control characters included, and pieces of real headers.
ANY_TEXT = st.text(st.characters(blacklist_categories=()), max_size=80)
PIECES = st.sampled_from(
    [
        "v0=",
        "v1=",
        "v1,",
        "h1=",
        "ts=",
        "t=",
        "sha256=",
        "sha1=",
        ",",
        ";",
        " ",
        "=",
        "0" * 64,
        "ZZ==",
        "MEUCI",
        "1700000000",
        "1700000000000",
        "2023-07-19T14:56:51.634234626Z",
        "9" * 40,
        "-1",
        "\t",
        "é",
        "\ud800",
        "%3A",
    ]
)
STRUCTURED = st.lists(st.one_of(PIECES, ANY_TEXT), max_size=8).map("".join)
VALUES = st.one_of(ANY_TEXT, STRUCTURED)
URLS = st.sampled_from(
    [URL, "", "not a url", "http://[::1", "https://h:abc/x?bodySHA256=zz", "http://[::1]:8080/x", "https://example.com:99999/y?a=%3A"]
)


def header_lists(names: tuple[str, ...]):
    name = st.one_of(st.sampled_from(names + ("Content-Type", "Host", "X-Forwarded-Proto")), st.text(min_size=1, max_size=20))
    return st.lists(st.tuples(name, VALUES), max_size=6)


@pytest.mark.parametrize("algorithm", sorted(CASES))
def test_random_headers_never_raise(algorithm):
    case = CASES[algorithm]
    scheme = case.scheme

    @settings(max_examples=fuzz_examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(headers=header_lists(scheme.headers), body=st.binary(max_size=64), url=URLS, now=st.sampled_from([NOW, 0.0, 1e12]))
    def check(headers, body, url, now):
        req = SignedRequest("POST", url, Headers(headers), body, local_url="http://127.0.0.1:8080/x")
        key = Key(case.secret, case.header, case.tolerance, now)
        verdict = scheme.verify(req, key)
        assert verdict.status in SIGNATURE_STATUSES and verdict.status not in ("unsigned", "error")
        assert isinstance(verdict.reason, str) and verdict.reason
        hints = hints_for(scheme, algorithm, req, key, verdict, [("spare", case.other_secret)])
        assert all(isinstance(h, str) and case.secret not in h for h in hints)

    check()


def mutate(original: str, change) -> str:
    """Replace the value, or insert a piece into it at a position."""
    if isinstance(change, str):
        return change
    at, piece = change
    return original[:at] + piece + original[at:]


@pytest.mark.parametrize("algorithm", sorted(CASES))
def test_signed_requests_with_random_damage_never_raise(algorithm):
    case = CASES[algorithm]
    scheme = case.scheme
    signed = list(case.base_headers) + case.sign()

    @settings(max_examples=fuzz_examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        which=st.integers(min_value=0, max_value=len(signed) - 1),
        value=st.one_of(VALUES, st.tuples(st.integers(min_value=0, max_value=200), st.one_of(PIECES, ANY_TEXT))),
        extra=header_lists(scheme.headers),
        body=st.one_of(st.just(case.body), st.binary(max_size=64), st.just(case.body + b"\n")),
        url=URLS,
    )
    def check(which, value, extra, body, url):
        headers = [(k, mutate(v, value) if i == which else v) for i, (k, v) in enumerate(signed)] + extra
        req = SignedRequest("POST", url, Headers(headers), body)
        key = Key(case.secret, case.header, case.tolerance, NOW)
        verdict = scheme.verify(req, key)
        assert verdict.status in ("valid", "invalid", "missing", "malformed", "expired")
        hints = hints_for(scheme, algorithm, req, key, verdict, [("spare", case.other_secret)])
        assert all(case.secret not in h for h in hints)

    check()


@pytest.mark.parametrize("algorithm", sorted(CASES))
@pytest.mark.parametrize("junk", ["\ud800", "\udcff", "\x00", "\r\n", "é" * 3, " ,; "])
def test_junk_inside_every_signed_header_never_raises(algorithm, junk):
    case = CASES[algorithm]
    signed = case.sign()
    for name, value in signed:
        for damaged in (value + junk, junk + value, value[: len(value) // 2] + junk + value[len(value) // 2 :]):
            headers = [(k, damaged if k == name else v) for k, v in signed]
            req = case.request(headers)
            key = case.key()
            verdict = case.scheme.verify(req, key)
            assert verdict.status in ("valid", "invalid", "missing", "malformed", "expired")
            hints_for(case.scheme, algorithm, req, key, verdict, [("spare", case.other_secret)])
