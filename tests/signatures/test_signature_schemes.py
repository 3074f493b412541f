"""Every algorithm of SPEC §3.2 against the same questions: round trip, tampering, wrong secret,
missing and malformed headers, the tolerance window's edges, and multi-signature headers."""

from __future__ import annotations

import hashlib

import pytest
from sig_cases import CASES, MULTI, NOW, TIMED, Case, header_value, replace_header

from inspector.model import Headers
from inspector.signatures import ALGORITHMS
from inspector.signatures.base import Key, SignedRequest
from inspector.signatures.registry import scheme_for

ALL = list(CASES.values())
ids = lambda c: c.algorithm  # noqa: E731


def test_every_registered_algorithm_has_a_case():
    assert set(ALGORITHMS) - {"svix"} == set(CASES)
    assert scheme_for("svix") is scheme_for("standard-webhooks")


@pytest.mark.parametrize("case", ALL, ids=ids)
def test_sign_then_verify_is_valid(case: Case):
    verdict = case.check(case.signed())
    assert verdict.status == "valid", verdict.reason
    assert verdict.reason


@pytest.mark.parametrize("case", ALL, ids=ids)
def test_tampered_body_is_invalid(case: Case):
    req = case.request(case.sign(), body=case.body + b"&tampered=1")
    verdict = case.check(req)
    if case.scheme.token:
        assert verdict.status == "valid"  # a token proves who sent it, never what
    else:
        assert verdict.status == "invalid", verdict.reason


@pytest.mark.parametrize("case", ALL, ids=ids)
def test_wrong_secret_is_invalid(case: Case):
    verdict = case.check(case.signed(), secret=case.other_secret)
    assert verdict.status == "invalid", verdict.reason
    assert case.other_secret not in verdict.reason and case.secret not in verdict.reason


@pytest.mark.parametrize("case", ALL, ids=ids)
def test_missing_signature_header(case: Case):
    headers = replace_header(case.sign(), case.header, None)
    verdict = case.check(case.request(headers))
    assert verdict.status == "missing"
    assert case.header.lower() in verdict.reason.lower()


@pytest.mark.parametrize("case", ALL, ids=ids)
def test_malformed_signature_header(case: Case):
    headers = replace_header(case.sign(), case.header, case.malformed)
    verdict = case.check(case.request(headers))
    assert verdict.status == "malformed", verdict.reason


@pytest.mark.parametrize("case", MULTI, ids=ids)
def test_multi_signature_header_with_one_good_candidate(case: Case):
    headers = case.sign()
    good = header_value(headers, case.header)
    req = case.request(replace_header(headers, case.header, case.multi(good)))
    assert case.check(req).status == "valid"
    # With another secret no candidate matches: the wrong ones never pass on their own.
    assert case.check(req, secret=case.other_secret).status == "invalid"


ONE_VALUE_PER_LINE = [c for c in MULTI if c.algorithm not in ("stripe", "calendly", "paddle", "standard-webhooks")]


@pytest.mark.parametrize("case", ONE_VALUE_PER_LINE, ids=ids)
def test_repeated_header_lines_are_each_a_candidate(case: Case):
    headers = case.sign()
    good = header_value(headers, case.header)
    bad = case.multi(good).replace(good, "").strip(" ,;")
    assert bad
    req = case.request(replace_header(headers, case.header, None) + [(case.header, bad), (case.header, good)])
    assert case.check(req).status == "valid"


@pytest.mark.parametrize("case", TIMED, ids=ids)
def test_past_timestamps_at_the_tolerance_edge(case: Case):
    tol = case.tolerance
    assert case.check(case.signed(at=NOW - tol)).status == "valid"
    late = case.check(case.signed(at=NOW - tol - 1))
    assert late.status == "expired", late.reason
    assert "ago" in late.reason


@pytest.mark.parametrize("case", TIMED, ids=ids)
def test_future_timestamps_at_the_tolerance_edge(case: Case):
    tol = case.tolerance
    assert case.check(case.signed(at=NOW + tol)).status == "valid"
    early = case.check(case.signed(at=NOW + tol + 1))
    if case.both_ways:
        assert early.status == "expired", early.reason
        assert "future" in early.reason
    else:
        # Past-only providers (Stripe, Paddle, HubSpot, Calendly, Twitch, Zoom) never reject the future.
        assert early.status == "valid"


@pytest.mark.parametrize("case", TIMED, ids=ids)
def test_expiry_is_checked_only_after_the_signature(case: Case):
    old = case.signed(at=NOW - 10_000)
    assert case.check(old, secret=case.other_secret).status == "invalid"


@pytest.mark.parametrize("case", TIMED, ids=ids)
def test_tolerance_from_the_entry_overrides_the_default(case: Case):
    req = case.signed(at=NOW - case.tolerance - 50)
    assert case.scheme.verify(req, Key(case.secret, case.header, case.tolerance + 100, NOW)).status == "valid"
    assert case.scheme.verify(req, Key(case.secret, case.header, None, NOW)).status == "valid"


@pytest.mark.parametrize("case", [c for c in ALL if c.algorithm in ("discord", "sendgrid")], ids=ids)
def test_public_key_schemes_do_not_sign(case: Case):
    assert case.scheme.signs is False
    with pytest.raises(NotImplementedError):
        case.scheme.sign(case.request([]), case.key())


@pytest.mark.parametrize("case", [c for c in ALL if c.algorithm in ("discord", "sendgrid")], ids=ids)
def test_public_key_schemes_check_their_key(case: Case):
    assert case.scheme.check_secret(case.secret) is None
    why = case.scheme.check_secret("not-a-key")
    assert why and "not-a-key" not in why
    verdict = case.check(case.signed(), secret="not-a-key")
    assert verdict.status == "error"


def test_gitlab_never_shows_the_token():
    case = CASES["gitlab"]
    good = case.check(case.signed())
    assert good.status == "valid" and case.secret not in (good.received or "") and case.secret not in good.reason
    sent = "glpat-this-token-was-received-0123"
    bad = case.check(case.request([("X-Gitlab-Token", sent)]))
    assert bad.status == "invalid"
    assert sent not in bad.reason and sent not in (bad.received or "") and case.secret not in bad.reason
    assert case.scheme.token is True


def test_shopify_lower_case_header_is_read():
    case = CASES["shopify"]
    value = header_value(case.sign(), case.header)
    assert case.check(case.request([("shopify-hmac-sha256", value)])).status == "valid"


def test_svix_header_names():
    case = CASES["standard-webhooks"]
    headers = [(k.replace("webhook-", "svix-"), v) for k, v in case.sign()]
    assert case.check(case.request(headers)).status == "valid"


def test_square_legacy_sha1_header():
    case = CASES["square"]
    signed = case.scheme.sign(case.request([]), Key(case.secret, "x-square-signature", None, NOW))
    assert signed[0][0] == "x-square-signature"
    assert case.check(case.request(signed)).status == "valid"


def test_twilio_json_body_with_body_sha256():
    case = CASES["twilio"]
    body = b'{"property": "value", "boolean": true}'
    url = "https://example.com/hook?x=1&bodySHA256=" + hashlib.sha256(body).hexdigest()
    json_type = [("Content-Type", "application/json")]
    signed = case.scheme.sign(SignedRequest("POST", url, Headers(json_type), body), case.key())
    assert case.scheme.verify(SignedRequest("POST", url, Headers(json_type + signed), body), case.key()).status == "valid"
    tampered = case.scheme.verify(SignedRequest("POST", url, Headers(json_type + signed), body + b" "), case.key())
    assert tampered.status == "invalid" and "bodySHA256" in tampered.reason


def test_twilio_json_body_without_body_hash_signs_the_url_only():
    case = CASES["twilio"]
    url = "https://example.com/hook"
    json_type = [("Content-Type", "application/json")]
    signed = case.scheme.sign(SignedRequest("POST", url, Headers(json_type), b'{"a": 1}'), case.key())
    assert case.scheme.sign(SignedRequest("POST", url, Headers(), b""), case.key()) == signed
    assert case.scheme.verify(SignedRequest("POST", url, Headers(json_type + signed), b'{"a": 1}'), case.key()).status == "valid"


REPEATED_FORM = b"Digits=1234&CallSid=CA1&Digits=5678"


def test_twilio_tries_the_url_with_and_without_its_default_port():
    case = CASES["twilio"]
    form = [("Content-Type", "application/x-www-form-urlencoded")]
    for signed_url, called_url in [
        ("https://example.com/hook", "https://example.com:443/hook"),
        ("https://example.com:443/hook", "https://example.com/hook"),
        ("http://example.com:80/hook", "http://example.com/hook"),
    ]:
        signed = case.scheme.sign(SignedRequest("POST", signed_url, Headers(form), REPEATED_FORM), case.key())
        verdict = case.scheme.verify(SignedRequest("POST", called_url, Headers(form + signed), REPEATED_FORM), case.key())
        assert verdict.status == "valid", (signed_url, called_url)


def test_twitch_timestamp_must_be_rfc3339():
    case = CASES["twitch"]
    headers = replace_header(case.sign(), "Twitch-Eventsub-Message-Timestamp", "1700000000")
    verdict = case.check(case.request(headers))
    assert verdict.status == "malformed" and "RFC 3339" in verdict.reason


def test_twitch_nanosecond_timestamps_and_offsets():
    from inspector.signatures.twitch import rfc3339

    assert rfc3339("2019-11-16T10:11:12.634234626Z") == pytest.approx(1573899072.634234626)
    assert rfc3339("2019-11-16T12:11:12+02:00") == 1573899072.0
    assert rfc3339("2019-13-16T10:11:12Z") is None
    assert rfc3339("yesterday") is None


def test_linear_timestamp_falls_back_to_the_body_field():
    case = CASES["linear"]
    body = b'{"action":"create","webhookTimestamp":%d}' % int((NOW - 120) * 1000)
    headers = replace_header(case.sign(body=body), "linear-timestamp", None)
    verdict = case.check(case.request(headers, body=body))
    assert verdict.status == "expired"
    fresh = b'{"action":"create","webhookTimestamp":%d}' % int(NOW * 1000)
    headers = replace_header(case.sign(body=fresh), "linear-timestamp", None)
    assert case.check(case.request(headers, body=fresh)).status == "valid"


def test_linear_without_any_timestamp_checks_the_signature_only():
    case = CASES["linear"]
    headers = replace_header(case.sign(), "linear-timestamp", None)
    assert case.check(case.request(headers), now=NOW + 10**6).status == "valid"


def test_hubspot_signs_method_and_decoded_uri():
    case = CASES["hubspot-v3"]
    encoded = "https://example.com/hook?redirect=https%3A%2F%2Fapp.example.com%2Fx&a=%20b"
    decoded = "https://example.com/hook?redirect=https://app.example.com/x&a=%20b"
    signed = case.scheme.sign(SignedRequest("GET", decoded, Headers(), b""), case.key())
    assert case.scheme.verify(SignedRequest("GET", encoded, Headers(signed), b""), case.key()).status == "valid"
    assert case.scheme.verify(SignedRequest("POST", encoded, Headers(signed), b""), case.key()).status == "invalid"
