"""The signature framework with the receiver issue's schemes: selection, statuses, masking."""

import hashlib
import hmac
import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.config import parse_config
from inspector.model import Headers, Request
from inspector.signatures import Masker, mask_value, sign_request, verify_request
from tests.conftest import fuzz_examples

GITHUB_DOC_SECRET = "It's a Secret to Everybody"
GITHUB_DOC_BODY = b"Hello, World!"
GITHUB_DOC_SIG = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def config(signatures=None, **root):
    root = dict(root)
    if signatures is not None:
        root["signatures"] = signatures
    return parse_config(json.dumps({"events-webhook": root}), "answers.json", {})


GH = {"header": "X-Hub-Signature-256", "algorithm": "sha256", "secret": GITHUB_DOC_SECRET}
STRIPE = {"header": "Stripe-Signature", "algorithm": "stripe", "secret": "whsec_test_secret_123456"}


def req(headers=(), body=b"", path="/events/webhook/demo/github"):
    return Request("POST", path, "", Headers(headers), body)


def check(cfg, request, event_type="github", now=None):
    return verify_request(cfg, request, event_type, "https://example.test" + request.path, now)


def test_github_published_example():
    r = check(config({"github": GH}), req([("X-Hub-Signature-256", GITHUB_DOC_SIG)], GITHUB_DOC_BODY))
    assert (r.status, r.scheme, r.algorithm, r.header) == ("valid", "github", "sha256", "X-Hub-Signature-256")


@pytest.mark.parametrize(
    "algorithm, digest",
    [
        ("sha256", hashlib.sha256),
        ("sha1", hashlib.sha1),
        ("sha512", hashlib.sha512),
        ("github", hashlib.sha256),
        ("bitbucket", hashlib.sha256),
    ],
)
@pytest.mark.parametrize("prefixed", [True, False])
def test_hex_hmac_algorithms(algorithm, digest, prefixed):
    secret, body = "a-long-enough-secret", b'{"a": 1}'
    mac = hmac.new(secret.encode(), body, digest).hexdigest()
    name = digest().name
    value = f"{name}={mac}" if prefixed else mac.upper()
    cfg = config({"x": {"header": "X-Sig", "algorithm": algorithm, "secret": secret}})
    assert check(cfg, req([("X-Sig", value)], body), "x").status == "valid"
    assert check(cfg, req([("X-Sig", value)], body + b" "), "x").status == "invalid"
    assert check(cfg, req([("X-Sig", "zz")], body), "x").status == "malformed"
    assert check(cfg, req([], body), "x").status == "missing"


def test_wrong_digest_prefix_is_malformed_and_says_so():
    cfg = config({"github": GH})
    r = check(cfg, req([("X-Hub-Signature-256", "sha1=" + "a" * 40)], b"x"))
    assert r.status == "malformed" and "SHA1" in r.reason


def test_stripe_sign_verify_round_trip_and_tolerance():
    cfg = config({"stripe": STRIPE})
    body = b'{"type": "payment_intent.succeeded"}'
    now = 1_700_000_000.0
    signed = sign_request(cfg, req([("Stripe-Signature", "")], body), "stripe", "u", now)
    headers, entry = signed
    assert entry.name == "stripe"
    good = req(headers, body)
    assert check(cfg, good, "stripe", now).status == "valid"
    assert check(cfg, good, "stripe", now + 300).status == "valid"
    expired = check(cfg, good, "stripe", now + 301)
    assert expired.status == "expired" and "301 s" in expired.reason
    assert check(cfg, good, "stripe", now - 3600).status == "valid"  # Stripe's tolerance looks at the past only
    tampered = check(cfg, req(headers, body + b"x"), "stripe", now)
    assert tampered.status == "invalid"


def test_stripe_multi_signature_and_unknown_versions():
    cfg = config({"stripe": STRIPE})
    body, t = b"{}", "1700000000"
    good = hmac.new(STRIPE["secret"].encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    header = f"t={t},v1={'0' * 64},v0=abc,v2=zzz,v1={good}"
    assert check(cfg, req([("Stripe-Signature", header)], body), "stripe", 1700000000).status == "valid"
    assert check(cfg, req([("Stripe-Signature", f"t={t},v0=abc")], body), "stripe", 1700000000).status == "malformed"
    assert check(cfg, req([("Stripe-Signature", f"v1={good}")], body), "stripe", 1700000000).status == "malformed"
    assert check(cfg, req([("Stripe-Signature", "garbage")], body), "stripe", 1700000000).status == "malformed"


def test_selection_rules():
    cfg = config({"github": GH, "stripe": STRIPE}, secret_header="X-Token", secret_key="generic-secret-value")
    # 1. entry named like the event_type, even when its header is absent
    assert check(cfg, req([("Stripe-Signature", "t=1,v1=" + "0" * 64)]), "github").scheme == "github"
    # 2. else the first entry whose header is present
    assert check(cfg, req([("stripe-signature", "t=1,v1=" + "0" * 64)]), "orders").scheme == "stripe"
    # 3. else the generic check
    body = b"payload"
    mac = hmac.new(b"generic-secret-value", body, hashlib.sha256).hexdigest()
    r = check(cfg, req([("X-Token", "sha256=" + mac)], body), "orders")
    assert (r.status, r.scheme) == ("valid", "secret_header")
    assert check(cfg, req([("X-Token", mac)], body), "orders").status == "valid"
    assert check(cfg, req([], body), "orders").status == "missing"
    # 4. nothing applies
    plain = config({"github": GH})
    r = check(plain, req([], b"x"), "orders")
    assert r.status == "unsigned" and r.scheme is None


def test_generic_token_is_accepted_and_masked():
    cfg = config(secret_header="X-Webhook-Token", secret_key="tok-1234567890abcdef")
    r = check(cfg, req([("X-Webhook-Token", "tok-1234567890abcdef")], b"x"), "orders")
    assert r.status == "valid" and "tok-1234567890abcdef" not in json.dumps(r.to_json())
    masker = Masker(cfg)
    assert masker("x-webhook-token", "tok-1234567890abcdef") == "tok-…(20 chars)"
    assert masker("x-webhook-token", "sha256=abc") == "sha256=abc"


def test_error_status_for_misconfigured_entries():
    cfg = config({"github": {"algorithm": "md5", "secret": "x", "header": "X-Hub-Signature-256"}})
    r = check(cfg, req([("X-Hub-Signature-256", "x")]))
    assert r.status == "error" and "md5" in r.reason
    cfg = config({"github": {"algorithm": "sha256", "secret": "", "header": "X-Hub-Signature-256"}})
    assert check(cfg, req([("X-Hub-Signature-256", "x")])).status == "error"


def test_hints_are_computed():
    cfg = config({"github": GH, "other": {"algorithm": "sha256", "secret": "the-other-secret-value", "header": "X-Other"}})
    body = b'{"a": 1, "b": [1, 2]}'

    def sig(secret, data):
        return "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()

    other = check(cfg, req([("X-Hub-Signature-256", sig("the-other-secret-value", body))], body))
    assert any("secret of `other`" in h for h in other.hints)
    newline = check(cfg, req([("X-Hub-Signature-256", sig(GITHUB_DOC_SECRET, body))], body + b"\n"))
    assert any("without its trailing newline" in h for h in newline.hints)
    compact = check(cfg, req([("X-Hub-Signature-256", sig(GITHUB_DOC_SECRET, b'{"a":1,"b":[1,2]}'))], body))
    assert any("re-serialized as compact JSON" in h for h in compact.hints)
    plain = check(cfg, req([("X-Hub-Signature-256", sig("nope-nope-nope-nope", body))], body))
    assert len(plain.hints) == 1 and "Nothing computed" in plain.hints[0]
    typo = check(cfg, req([("X-Hub-Signature-265", "sha256=00")], body))
    assert typo.status == "missing" and any("X-Hub-Signature-265" in h for h in typo.hints)
    foreign = check(cfg, req([("Stripe-Signature", "t=1,v1=00")], body))
    assert any("Stripe-Signature" in h for h in foreign.hints)
    for r in (other, newline, compact, plain, typo, foreign):
        assert GITHUB_DOC_SECRET not in json.dumps(r.to_json())
        assert "the-other-secret-value" not in json.dumps(r.to_json())


def test_short_secret_hint():
    cfg = config({"github": dict(GH, secret="abc")})
    body = b"x"
    r = check(cfg, req([("X-Hub-Signature-256", "sha256=" + "0" * 64)], body))
    assert any("only 3 characters" in h for h in r.hints)


def test_masking():
    assert mask_value("glpat-abcdefghijklmnopqrst") == "glpa…(26 chars)"
    assert mask_value("short") == "…(5 chars)"
    m = Masker(None)
    for name in ("Authorization", "proxy-authorization", "Cookie", "X-Gitlab-Token"):
        assert m(name, "Bearer 0123456789abcdef") != "Bearer 0123456789abcdef"
    assert m("X-Other", "v") == "v"
    assert Masker(None, reveal=True)("Cookie", "a=b") == "a=b"


header_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200)


@settings(max_examples=fuzz_examples(150), deadline=None)
@given(
    value=header_text,
    body=st.binary(max_size=300),
    name=st.sampled_from(["github", "stripe", "shopify", "standard-webhooks", "orders"]),
    extra=st.lists(
        st.tuples(st.sampled_from(["webhook-id", "webhook-timestamp", "svix-id", "X-Shopify-Hmac-Sha256"]), header_text), max_size=3
    ),
)
def test_arbitrary_headers_and_bodies_never_raise(value, body, name, extra):
    from inspector.config import load_config
    from tests.conftest import ROOT

    cfg = load_config(ROOT / "answers.example.json", env={})
    headers = [("X-Hub-Signature-256", value), ("Stripe-Signature", value), ("webhook-signature", value)] + extra
    r = verify_request(cfg, req(headers, body), name, "https://x/y", time.time())
    assert r.status in ("valid", "invalid", "missing", "malformed", "expired", "unsigned", "error")
    assert isinstance(r.reason, str) and r.reason


def test_same_never_raises_on_lone_surrogates():
    from inspector.signatures.base import same

    assert same("\ud800", "\ud800") and not same("\ud800", "x") and not same("\udcff", "\ud800")


def test_stripe_mismatch_reason_says_so():
    cfg = config({"stripe": STRIPE})
    r = check(cfg, req([("Stripe-Signature", "t=1700000000,v1=" + "0" * 64)], b"{}"), "stripe", 1700000000)
    assert r.status == "invalid" and "does not match" in r.reason


def test_unicode_digits_in_timestamps_are_malformed_not_a_crash():
    """Found by `make fuzz`: '²'.isdigit() is True but float('²') raises."""
    from inspector.config import load_config
    from tests.conftest import ROOT

    cfg = load_config(ROOT / "answers.example.json", env={})
    for headers, name in (
        ([("webhook-id", "m"), ("webhook-timestamp", "²"), ("webhook-signature", "v1,AAAA")], "standard-webhooks"),
        ([("Stripe-Signature", "t=²,v1=" + "0" * 64)], "stripe"),
    ):
        r = verify_request(cfg, req(headers, b"{}"), name, "https://x/y", 1_700_000_000.0)
        assert r.status == "malformed", (name, r)


async def test_replay_header_with_unicode_digits_is_ignored(tmp_path):
    from inspector.pipeline import Pipeline

    p = Pipeline(config(), None)
    c = await p.handle(Request("POST", "/events/webhook/demo/x", "", Headers([("X-Inspector-Replay-Of", "²")]), b""))
    assert c.replay_of is None and c.response.status == 200
